/**
 * Loads the config: defaults ← YAML file ← env vars, validated by the one TypeBox schema.
 * Every problem becomes one line naming the key, what is wrong and how to set it, so a
 * broken container start tells the user exactly what to fix (never a stack trace).
 */
import { Kind, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigSchema, type Config } from "./schema.ts";
import { secretKeys, settings, type Setting } from "./settings.ts";
import { instanceProblems, instancesOf } from "./instances.ts";
import { compilePathRules } from "../paths/mapper.ts";
import { parseRange } from "../net.ts";

/** Shorter admin tokens are refused at start. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

type Env = Record<string, string | undefined>;

/** Where the YAML file is: CONFIG_FILE, else config.yaml in the data folder if present. */
export function configFilePath(env: Env): string | undefined {
  if (env.CONFIG_FILE) return env.CONFIG_FILE;
  const fallback = join(env.DATA_DIR ?? "./data", "config.yaml");
  return existsSync(fallback) ? fallback : undefined;
}

export function loadConfig(env: Env = process.env, file = configFilePath(env)): Config {
  const problems: string[] = [];
  let raw: Record<string, unknown> = {};
  if (file !== undefined && !existsSync(file)) {
    problems.push(`${file}: the config file does not exist (CONFIG_FILE names it)`);
  } else if (file !== undefined) {
    try {
      const parsed: unknown = parseYaml(readFileSync(file, "utf8"));
      if (parsed != null && typeof parsed !== "object") problems.push(`${file}: the file must hold a YAML mapping`);
      else raw = (parsed as Record<string, unknown>) ?? {};
    } catch (err) {
      problems.push(`${file}: cannot read it as YAML (${(err as Error).message.split("\n")[0]})`);
    }
  }
  // `stash:` as a list is the several-instances form; a mapping stays the single Stash.
  if (Array.isArray(raw.stash)) raw.stash = { instances: raw.stash };
  problems.push(...unknownKeys(raw, ConfigSchema, []));
  const sources: Record<string, SettingSource> = {};
  for (const setting of settings)
    sources[setting.key] = getAt(raw, setting.path) === undefined ? "default" : "config file";
  for (const setting of settings) {
    const text = env[setting.env];
    if (text === undefined || text === "") continue;
    const value = fromEnv(setting, text);
    if (value instanceof Error) problems.push(`${setting.key}: ${value.message} (from ${setting.env})`);
    else {
      setAt(raw, setting.path, value);
      sources[setting.key] = "env";
    }
  }
  // STASH_URL/STASH_API_KEY beside a list are the first instance's only when it has no url of
  // its own (a container template that requires STASH_URL can still list more); else two
  // answers to one question.
  const listed = getAt(raw, ["stash", "instances"]);
  if (Array.isArray(listed) && listed.length && (listed[0] as { url?: unknown } | null)?.url !== undefined) {
    for (const key of ["url", "apiKey"]) {
      const setting = settings.find((s) => s.key === `stash.${key}`)!;
      if (sources[setting.key] !== "default")
        problems.push(
          `${setting.key}: set (${sources[setting.key] === "env" ? setting.env : "config file"}) beside a list of Stash instances whose first has its own url — unset ${setting.env}, or leave url and apiKey out of the first instance to use it there`,
        );
    }
  }
  if (problems.length) throw new ConfigError(problems);

  const config = Value.Default(ConfigSchema, structuredClone(raw)) as Config;
  for (const error of Value.Errors(ConfigSchema, config)) {
    const key = error.path
      .slice(1)
      .replaceAll("/", ".")
      .replace(/^stash\.instances\.(\d+)/, "stash[$1]");
    const setting = key.startsWith("stash[")
      ? settings.find((s) => s.key === "stash.instances")
      : settings.find((s) => key === s.key || key.startsWith(`${s.key}.`));
    const where = key.startsWith("stash[")
      ? "fix that Stash in the `stash:` list of the config file or in STASH_INSTANCES"
      : setting
        ? `set ${setting.env} or ${setting.key} in the config file`
        : "fix it in the config file";
    problems.push(
      `${key || "(root)"}: ${describe(error.message, error.schema)}, got ${show(error.value, setting)} — ${where}`,
    );
  }
  if (problems.length) throw new ConfigError(dedupe(problems));

  if (!config.publicUrl) {
    const host = config.listen.host === "0.0.0.0" ? "localhost" : config.listen.host;
    config.publicUrl = `http://${host}:${config.listen.port}`;
  }
  config.publicUrl = config.publicUrl.replace(/\/+$/, "");
  config.stash.url = config.stash.url.replace(/\/+$/, "");
  config.plex.url = config.plex.url.replace(/\/+$/, "");
  if (config.plex.url && !/^https?:\/\/[^\s/]+/.test(config.plex.url)) {
    problems.push(`plex.url: must be an http(s) URL like http://plex:32400 — set PLEX_URL`);
  }
  if (config.plex.url && !config.plex.token) {
    problems.push("plex.token: push is on (plex.url is set) but the token is empty — set PLEX_TOKEN");
  }
  // A short admin token can be guessed (the generated one is 32 characters); the token itself is never echoed.
  if (config.admin.token && config.admin.token.length < MIN_ADMIN_TOKEN_LENGTH) {
    problems.push(
      `admin.token: shorter than ${MIN_ADMIN_TOKEN_LENGTH} characters — set ADMIN_TOKEN to a longer one (e.g. openssl rand -base64 24), or leave it empty to have one generated`,
    );
  }
  const notAddresses = config.admin.trustedProxies.filter((a) => !parseRange(a));
  if (notAddresses.length)
    problems.push(
      `admin.trustedProxies: ${notAddresses.map((a) => JSON.stringify(a)).join(", ")} is not an IP address or range — set ADMIN_TRUSTED_PROXIES to your reverse proxies' addresses or network, e.g. 172.17.0.1 or 172.17.0.0/16`,
    );
  problems.push(...instanceProblems(config));
  if (problems.length) throw new ConfigError(problems);
  const instances = instancesOf(config);
  for (const [i, instance] of instances.entries()) {
    const where = config.stash.instances.length ? `stash[${i}] (${instance.id}): ` : "";
    problems.push(...compilePathRules(instance.paths.rules).problems.map((p) => where + p));
  }
  if (problems.length) throw new ConfigError(problems);
  // Every instance complete in the list (ids, titles, rules filled in), and the top-level
  // settings the default instance's: code that knows one Stash keeps working on the default.
  config.stash.instances = instances.map((i) => ({
    id: i.id,
    name: i.name,
    ...i.stash,
    paths: i.paths,
    provider: omitIdentifier(i.provider),
  }));
  const [first] = instances;
  config.stash = { ...first!.stash, instances: config.stash.instances };
  config.paths = first!.paths;
  config.provider = first!.provider;
  // Where each value came from, for the dashboard's settings page (not part of the config itself).
  Object.defineProperty(config, SOURCES, { value: sources, enumerable: false });
  return config;
}

export type SettingSource = "env" | "config file" | "default";
const SOURCES = Symbol("setting sources");
/** Where each setting of a loaded config came from (by key, e.g. "stash.url"); empty for a config built otherwise. */
export const settingSources = (config: Config): Record<string, SettingSource> =>
  (config as unknown as Record<symbol, Record<string, SettingSource>>)[SOURCES] ?? {};

function fromEnv(setting: Setting, text: string): unknown {
  const kind = setting.schema[Kind];
  if (kind === "Integer" || kind === "Number") {
    const n = Number(text);
    return Number.isFinite(n) ? n : new Error(`"${text}" is not a number`);
  }
  if (kind === "Boolean") {
    if (/^(1|true|yes|on)$/i.test(text)) return true;
    if (/^(0|false|no|off)$/i.test(text)) return false;
    return new Error(`"${text}" is not true or false`);
  }
  if (kind === "Array") {
    if (text.trim().startsWith("[")) {
      try {
        return JSON.parse(text);
      } catch (err) {
        return new Error(`not valid JSON (${(err as Error).message})`);
      }
    }
    const items = text
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    // Sections may be given as plain ids: "1,2" means those sections with the default strategy;
    // "vault:3" is section 3, holding the scenes of the Stash instance vault.
    return setting.key === "plex.sections" ? items.map(sectionFromText) : items;
  }
  return text;
}

/** One PLEX_SECTIONS item of the comma form: `3` or `<instance>:3` (a bad one is left for the schema to name). */
function sectionFromText(text: string): { id: string; instance?: string } {
  const at = text.indexOf(":");
  return at < 0 ? { id: text } : { instance: text.slice(0, at), id: text.slice(at + 1) };
}

function unknownKeys(value: unknown, schema: TSchema, path: string[]): string[] {
  if (schema[Kind] !== "Object" || value == null || typeof value !== "object" || Array.isArray(value)) return [];
  const props = schema.properties as Record<string, TSchema>;
  return Object.entries(value).flatMap(([name, child]) =>
    props[name]
      ? unknownKeys(child, props[name], [...path, name])
      : [`${[...path, name].join(".")}: unknown setting (known here: ${Object.keys(props).join(", ")})`],
  );
}

function getAt(target: Record<string, unknown>, path: string[]): unknown {
  let node: unknown = target;
  for (const name of path)
    node = node && typeof node === "object" ? (node as Record<string, unknown>)[name] : undefined;
  return node;
}

function setAt(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const name of path.slice(0, -1)) {
    if (node[name] == null || typeof node[name] !== "object") node[name] = {};
    node = node[name] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}

function describe(message: string, schema: TSchema): string {
  if (schema.pattern === "^https?://[^\\s/]+") return "must be an http(s) URL like http://host:port";
  if (typeof schema.pattern === "string") return `must match ${schema.pattern}`;
  if (schema[Kind] === "Union")
    return `must be one of ${(schema.anyOf as TSchema[]).map((s) => JSON.stringify(s.const)).join(", ")}`;
  return message.toLowerCase();
}

const omitIdentifier = ({ identifier: _, ...rest }: Config["provider"]) => rest;

/** A value as an error may show it: secrets (an instance's apiKey too) never. */
function show(value: unknown, setting?: Setting): string {
  if (setting?.secret) return "(hidden)";
  const text = JSON.stringify(value, (k, v) => (secretKeys.has(k) && v ? "(hidden)" : v));
  return text === undefined ? "nothing" : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const dedupe = (lines: string[]) => [...new Set(lines)];
