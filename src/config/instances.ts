/**
 * The Stash instances of a config, each complete: its connection, its path rules and its
 * provider settings (identifier, title, ...), the top-level settings filling what an instance
 * leaves unset. The single-Stash form (STASH_URL or a YAML `stash:` mapping) is one instance
 * with id `default`, whose provider URL, identifier and GUIDs are exactly today's.
 * Pure: no I/O.
 */
import { DEFAULT_INSTANCE_ID, instanceIdentifier, instancePath } from "../domain/ref.ts";
import type { Config, StashInstanceConfig } from "./schema.ts";

export interface StashInstance {
  id: string;
  name: string;
  /** The first instance: served at the root with the configured identifier. */
  isDefault: boolean;
  /** Where its provider is served, below publicUrl: "" for the default, else `/instances/<id>`. */
  path: string;
  stash: { url: string; apiKey: string; timeoutMs: number };
  paths: Config["paths"];
  provider: Config["provider"];
  collections: Config["collections"];
}

const trimUrl = (url: string) => url.replace(/\/+$/, "");

/** One instance from its list entry (or the single form), the top level filling the gaps. */
function complete(config: Config, entry: StashInstanceConfig, index: number): StashInstance {
  const id = entry.id ?? DEFAULT_INSTANCE_ID;
  const isDefault = index === 0;
  const name = entry.name ?? (isDefault && !entry.id ? "Stash" : id);
  const own: Partial<Config["provider"]> = entry.provider ?? {};
  return {
    id,
    name,
    isDefault,
    path: instancePath(id, isDefault),
    stash: {
      // The first instance without a url of its own is STASH_URL's (and STASH_API_KEY's) Stash.
      url: trimUrl(entry.url ?? (isDefault ? config.stash.url : "")),
      apiKey: entry.apiKey ?? (isDefault && entry.url === undefined ? config.stash.apiKey : ""),
      timeoutMs: entry.timeoutMs ?? config.stash.timeoutMs,
    },
    paths: { ...config.paths, ...entry.paths },
    collections: { ...config.collections, ...entry.collections },
    provider: {
      ...config.provider,
      ...own,
      identifier: instanceIdentifier(config.provider.identifier, id, isDefault),
      // Two agents called "Stash" in Plex's list would be told apart by nothing.
      title: own.title ?? (isDefault ? config.provider.title : `${config.provider.title} (${name})`),
    },
  };
}

/** The instances a config names: its list, else the single Stash of stash.url. */
export function instancesOf(config: Config): StashInstance[] {
  const list = config.stash.instances ?? [];
  const entries: StashInstanceConfig[] = list.length
    ? list
    : [{ url: config.stash.url, apiKey: config.stash.apiKey, timeoutMs: config.stash.timeoutMs }];
  return entries.map((entry, i) => complete(config, entry, i));
}

/** The instance a provider or job works for, by id. */
export const instanceById = (config: Config, id: string) => instancesOf(config).find((i) => i.id === id);

/**
 * A Stash URL as the server it reaches: scheme and host lower-case, the default port dropped,
 * no trailing slash. Two instances on one such URL are one Stash listed twice.
 */
export function normalisedStashUrl(url: string): string {
  try {
    const u = new URL(url);
    const port =
      u.port && !((u.protocol === "http:" && u.port === "80") || (u.protocol === "https:" && u.port === "443"))
        ? `:${u.port}`
        : "";
    return `${u.protocol}//${u.hostname.toLowerCase()}${port}${u.pathname.replace(/\/+$/, "")}`;
  } catch {
    return trimUrl(url).toLowerCase();
  }
}

/** What makes a list of instances unusable: one line per problem, naming the fix. */
export function instanceProblems(config: Config): string[] {
  const list = config.stash.instances ?? [];
  const problems: string[] = [];
  list.forEach((entry, i) => {
    // The whole service (queue keys, the poller's bookmarks, breaker) knows the default instance
    // by this one id: a second name for it would split its state in two.
    if (i === 0 && entry.id && entry.id !== DEFAULT_INSTANCE_ID) {
      problems.push(
        `stash[0].id: the first Stash is the default instance (today's provider URL and identifier) and its id is "${DEFAULT_INSTANCE_ID}", not "${entry.id}" — leave id out (or write id: ${DEFAULT_INSTANCE_ID}) and use name: to label it`,
      );
    }
    if (i > 0 && !entry.id)
      problems.push(
        `stash[${i}].id: missing — every Stash after the first needs an id (a-z, 0-9), e.g. id: stash${i + 1}`,
      );
    if (i > 0 && !entry.url)
      problems.push(
        `stash[${i}].url: missing — every Stash after the first needs its url (the first's defaults to STASH_URL)`,
      );
  });
  // The default instance's TV provider identifier is `<identifier>.tv` (domain/ref.ts
  // tvIdentifierOf): an instance called tv would have that very identifier for its movies.
  list.forEach((entry, i) => {
    if (entry.id === "tv")
      problems.push(`stash[${i}].id: "tv" is reserved (the TV provider's identifier ends in .tv) — choose another id`);
  });
  const instances = instancesOf(config);
  const seenIds = new Map<string, number>();
  const seenUrls = new Map<string, string>();
  instances.forEach((inst, i) => {
    if (list.length && i > 0 && (!list[i]!.id || !list[i]!.url)) return;
    const twin = seenIds.get(inst.id);
    if (twin !== undefined)
      problems.push(`stash[${i}].id: "${inst.id}" is also the id of stash[${twin}] — give each Stash its own id`);
    else seenIds.set(inst.id, i);
    const url = normalisedStashUrl(inst.stash.url);
    const other = seenUrls.get(url);
    if (other !== undefined)
      problems.push(`stash[${i}].url: ${url} is also the URL of "${other}" — list each Stash once`);
    else seenUrls.set(url, inst.id);
  });
  // A section of an instance that is not configured would be pushed from nowhere.
  config.plex.sections.forEach((section, i) => {
    if (section.instance && !instances.some((inst) => inst.id === section.instance)) {
      problems.push(
        `plex.sections[${i}].instance: no Stash instance has the id "${section.instance}" (known: ${instances.map((inst) => inst.id).join(", ")})`,
      );
    }
  });
  problems.push(...tvLibraryProblems(config, instances));
  return problems;
}

/** A folder as compared with another: `/`-separated, no trailing slash, Windows paths lower-case. */
export function comparableFolder(path: string): string {
  const windows = /^[A-Za-z]:[\\/]|^\\\\/.test(path);
  const slashed = (windows ? path.replaceAll("\\", "/").toLowerCase() : path).replace(/\/+/g, "/");
  return slashed.length > 1 ? slashed.replace(/\/$/, "") : slashed;
}

/** Whether one folder is the other or lies inside it. */
export const nestedFolders = (a: string, b: string) => {
  const [x, y] = [comparableFolder(a), comparableFolder(b)];
  return x === y || x.startsWith(y.endsWith("/") ? y : `${y}/`) || y.startsWith(x.endsWith("/") ? x : `${x}/`);
};

/** TV libraries (tv.libraries) that cannot work: an unknown instance, a folder shared with another, an id twice. */
function tvLibraryProblems(config: Config, instances: StashInstance[]): string[] {
  const problems: string[] = [];
  const libraries = config.tv?.libraries ?? [];
  libraries.forEach((lib, i) => {
    if (lib.instance && !instances.some((inst) => inst.id === lib.instance))
      problems.push(
        `tv.libraries[${i}].instance: no Stash instance has the id "${lib.instance}" (known: ${instances.map((inst) => inst.id).join(", ")})`,
      );
    const twin = libraries.findIndex((other, j) => j < i && other.id === lib.id);
    if (twin >= 0)
      problems.push(
        `tv.libraries[${i}].id: "${lib.id}" is also the id of tv.libraries[${twin}] — give each its own id`,
      );
    const shared = libraries.findIndex((other, j) => j < i && nestedFolders(other.folder, lib.folder));
    if (shared >= 0)
      problems.push(
        `tv.libraries[${i}].folder: ${lib.folder} is (or is inside, or holds) the folder of tv.libraries[${shared}] (${libraries[shared]!.folder}) — give each TV library a folder of its own`,
      );
  });
  return problems;
}

/**
 * The instance a Plex section belongs to: the one whose provider is the section's agent; a
 * section on any other agent (Plex's own, a legacy one) is the default instance's.
 */
export function instanceOfAgent(instances: readonly StashInstance[], agent: string): StashInstance {
  return instances.find((i) => i.provider.identifier === agent) ?? instances[0]!;
}

/** The URL to paste into Plex for an instance's provider. */
export const providerUrl = (publicUrl: string, instance: StashInstance) => `${publicUrl}${instance.path}`;
