/**
 * `stash2plex check`: everything that can be wrong before the service runs, each with what
 * to do about it. Exit code 0 only when all holds.
 */
import { createIdentityState } from "../sync/identity-state.ts";
import type { Config } from "../config/schema.ts";
import { createStashClient } from "../stash/client.ts";
import { createPlexClient, type PlexClient } from "../plex/client.ts";
import { isTvSection, resolveSections } from "../sync/push.ts";
import { inferPathRules } from "../paths/infer.ts";
import { configuredCoverage, suggestionFrom } from "../paths/suggest.ts";
import { compilePathRules } from "../paths/mapper.ts";
import { tailCoverage } from "../paths/tail-coverage.ts";
import { DatabaseStartError, openStore } from "../store/db.ts";
import { pages } from "../paging.ts";
import { instanceOfAgent, instancesOf, providerUrl, type StashInstance } from "../config/instances.ts";
import { tvCheckLines } from "./check-tv.ts";
import { writebackLines } from "./check-writeback.ts";

export interface CheckLine {
  /** false only for what stops matching or pushing: `check` then exits 1. */
  ok: boolean;
  /** An ok line worth reading: a proposal ("note") or something that works but may not as meant ("warn"). */
  level?: "note" | "warn";
  what: string;
  detail: string;
}

/** How a line is printed: its status word, then what and why. */
export const formatCheckLine = (l: CheckLine) => `${l.ok ? (l.level ?? "ok  ") : "FAIL"} ${l.what}: ${l.detail}`;

export async function runChecks(config: Config): Promise<CheckLine[]> {
  const lines: CheckLine[] = [{ ok: true, what: "config", detail: "valid" }, dataFolder(config.dataDir)];
  const identity = identityLine(config.dataDir);
  if (identity) lines.push(identity);
  const instances = instancesOf(config);
  // With one Stash the lines read as they always have; with several each names its instance.
  const label = (i: StashInstance) => (instances.length > 1 ? ` "${i.id}"` : "");
  const reached = new Map<string, boolean>();
  for (const instance of instances) {
    const line = await stashLine(instance, label(instance), instances.length > 1);
    reached.set(instance.id, line.ok);
    lines.push(line, {
      ok: true,
      what: `provider${label(instance)}`,
      detail: `add ${providerUrl(config.publicUrl, instance)} in Plex (Settings → Metadata Agents → Add Provider); identifier ${instance.provider.identifier}`,
    });
  }
  let plexOk = false;
  /** Plex's sections, when it answered (the TV libraries' lines look for theirs). */
  let plexSections: Awaited<ReturnType<PlexClient["sections"]>> | undefined;
  if (config.plex.url) {
    const plex = createPlexClient(config.plex);
    try {
      const id = await plex.identity();
      lines.push({ ok: true, what: "plex", detail: `reached ${config.plex.url} (PMS ${id.version})` });
      const sections = await plex.sections();
      plexSections = sections;
      plexOk = true;
      for (const wanted of config.plex.sections) {
        const found = sections.find((s) => s.key === wanted.id);
        if (!found) plexOk = false;
        lines.push(
          found
            ? {
                ok: true,
                what: `plex section ${wanted.id}`,
                detail: `"${found.title}" (${found.type}), strategy ${wanted.strategy}`,
              }
            : {
                ok: false,
                what: `plex section ${wanted.id}`,
                detail: `no such section; PMS has ${sections.map((s) => `${s.key} "${s.title}"`).join(", ") || "none"}`,
              },
        );
      }
    } catch (err) {
      lines.push({ ok: false, what: "plex", detail: `${(err as Error).message} — check PLEX_URL and PLEX_TOKEN` });
    }
  } else {
    lines.push({ ok: true, what: "plex", detail: "push is off (PLEX_URL not set)" });
  }
  lines.push(...(await writebackLines(config)));
  for (const instance of instances) {
    const { mapper, problems } = compilePathRules(instance.paths.rules);
    const samples = mapper.rules.reduce((n, r) => n + r.samples.length, 0);
    lines.push(
      problems.length
        ? { ok: false, what: `path rules${label(instance)}`, detail: problems.join("\n    ") }
        : {
            ok: true,
            what: `path rules${label(instance)}`,
            detail: `${mapper.rules.length} rule(s), ${samples} sample(s) map both ways`,
          },
    );
    if (plexOk && !problems.length && reached.get(instance.id)) {
      const mine = (agent: string) => instanceOfAgent(instances, agent).id === instance.id;
      lines.push(
        await pathCoverage(config, instance, createPlexClient(config.plex), mapper, mine)
          .then((line) => ({ ...line, what: `${line.what}${label(instance)}` }))
          .catch((err: Error) => ({
            ok: false,
            what: `path coverage${label(instance)}`,
            detail: `cannot list both sides' files: ${err.message}`,
          })),
      );
    }
  }
  lines.push(...(await tvCheckLines(config, plexSections)));
  return lines;
}

/** Whether one Stash answers, with its version and size. */
async function stashLine(instance: StashInstance, label: string, several: boolean): Promise<CheckLine> {
  const stash = createStashClient(instance.stash);
  try {
    const version = await stash.version();
    const sample = await stash.sceneFilesPage(1, 1);
    return {
      ok: true,
      what: `stash${label}`,
      detail: `reached ${instance.stash.url} (Stash ${version}, ${sample.count} scenes)`,
    };
  } catch (err) {
    // The message names the setting to fix when it knows it (e.g. the API key); else both.
    const message = (err as Error).message;
    const fix = several ? `check this Stash's url and apiKey in the stash list` : "check STASH_URL and STASH_API_KEY";
    return {
      ok: false,
      what: `stash${label}`,
      detail: /STASH_[A-Z_]+/.test(message) && !several ? message : `${message} — ${fix}`,
    };
  }
}

const PAGE = 1000;

/**
 * Both sides' files, compared: how many Plex files the rules map to a Stash file, and with no
 * rules the ones that would, in the form to paste into config.yaml.
 */
async function pathCoverage(
  config: Config,
  instance: StashInstance,
  plex: PlexClient,
  mapper: ReturnType<typeof compilePathRules>["mapper"],
  mine: (agent: string) => boolean,
): Promise<CheckLine> {
  const stash = createStashClient(instance.stash);
  const stashFiles: string[] = [];
  for await (const { items } of pages(PAGE, (i) => stash.sceneFilesPage(i + 1, PAGE))) {
    for (const scene of items) stashFiles.push(...scene.files.map((f) => f.path));
  }
  // The sections whose files this Stash should have: those on its provider (the default's: all others too).
  // The episode folders' links are ours, not files to map (TV sections are left out).
  const sections = resolveSections(await plex.sections(), config).filter((s) => mine(s.agent) && !isTvSection(s));
  const plexFiles: string[] = [];
  for (const section of sections) {
    for await (const { items } of pages(PAGE, (i) => plex.sectionItems(section.key, i * PAGE, PAGE))) {
      for (const item of items) plexFiles.push(...item.files);
    }
  }
  const suggestion = suggestionFrom(
    inferPathRules(
      plexFiles,
      stashFiles,
      sections.flatMap((s) => s.locations),
    ),
    { rules: mapper.rules.length, ...configuredCoverage(mapper, plexFiles, stashFiles) },
  );
  const { current } = suggestion;
  const n = (x: number) => x.toLocaleString("en-US");
  const mappedLine = `${n(current.mapped)} of ${n(current.plexFiles)} Plex files map to a file Stash has`;
  // The provider's tail rung finds files by folder and name with no rule at all: what stops
  // matching is a Plex file found neither way, not a rule left unwritten.
  const tails = tailCoverage(plexFiles, stashFiles);
  const tailLine = tails.found
    ? `${n(tails.found)} of ${n(current.plexFiles)} Plex files are found by folder and name (the provider's tail match, no rule needed)` +
      (tails.ambiguous ? `, ${n(tails.ambiguous)} more have namesakes and are left to Fix Match` : "")
    : "none is found by folder and name either";
  const nothingMatches = current.plexFiles > 0 && current.mapped === 0 && tails.found === 0;
  if (current.rules > 0 || suggestion.proposals.length === 0) {
    const detail = `${mappedLine}${current.rules ? "" : `; ${suggestion.summary}`}${current.mapped < current.plexFiles && current.plexFiles ? `; ${tailLine}` : ""}`;
    if (nothingMatches)
      return {
        ok: false,
        what: "path coverage",
        detail: `${detail}: matches can come only from title search; write path rules (see README, Path rules)`,
      };
    // Rules that map nothing while the tail rung still finds files: works, but not as meant.
    return current.rules > 0 && current.mapped === 0 && current.plexFiles > 0
      ? {
          ok: true,
          level: "warn",
          what: "path coverage",
          detail: `${detail}; the rules map none of them: check them with \`stash2plex map <path>\``,
        }
      : { ok: true, what: "path coverage", detail };
  }
  // PATHS_AUTO applies inferred rules to the default instance only (sync/plugin.ts).
  const auto = instance.isDefault && instance.paths.auto && suggestion.autoApplicable;
  const advice = auto
    ? "PATHS_AUTO is on: the service applies these at start-up"
    : !instance.isDefault
      ? `paste these under this Stash ("${instance.id}") in the stash list of config.yaml, as its paths`
      : suggestion.autoApplicable
        ? "paste these into config.yaml, or set PATHS_AUTO=true to have them applied"
        : "paste these into config.yaml after checking them (they do not cover 99% of the files, so PATHS_AUTO would not apply them)";
  const yaml = suggestion.yaml
    .trimEnd()
    .split("\n")
    .map((line) => `  ${line}`);
  const detail = [
    `${mappedLine} with no rules; ${tailLine}; ${suggestion.summary}, to match by exact path:`,
    ...suggestion.proposals.map((p) => `  ${p.description}`),
    `${advice}:`,
    ...yaml,
  ];
  // A proposal is advice: it fails the check only when nothing would match without it.
  return { ok: !nothingMatches, level: "note", what: "path rules proposed", detail: detail.join("\n    ") };
}

/**
 * Plex files only size, duration or a fingerprint found (copies whose names tell nothing,
 * sync/identity.ts), and those left with several candidates, as the running service recorded them.
 */
function identityLine(dataDir: string): CheckLine | undefined {
  try {
    const store = openStore(dataDir);
    try {
      const state = createIdentityState(store);
      const counts = state.counts();
      const found = (counts["size+duration"] ?? 0) + (counts.oshash ?? 0);
      const ambiguous = state.ambiguousList(5);
      if (!found && !ambiguous.length) return undefined;
      const detail = [
        `${found} Plex files found only by their size and duration (${counts["size+duration"] ?? 0}) or fingerprint (${counts.oshash ?? 0}); ${counts.ambiguous ?? 0} left unmatched with several candidates`,
        ...ambiguous.map(
          (a) =>
            `  ${a.path}: scenes ${a.candidates.map((c) => c.sceneId).join(", ")} (mount the media here, read-only, to tell them apart)`,
        ),
      ];
      return {
        ok: true,
        level: ambiguous.length ? "warn" : undefined,
        what: "files found by identity",
        detail: detail.join("\n    "),
      };
    } finally {
      store.close();
    }
  } catch {
    return undefined; // the data folder's own line says what is wrong
  }
}

/** The data folder holds the queue: it must exist, be writable and hold a usable database. */
function dataFolder(dataDir: string): CheckLine {
  try {
    const store = openStore(dataDir);
    store.writable();
    store.close();
    return { ok: true, what: "data folder", detail: `${dataDir} is writable; the database opens` };
  } catch (err) {
    return {
      ok: false,
      what: "data folder",
      detail: err instanceof DatabaseStartError ? err.message : `${dataDir}: ${(err as Error).message}`,
    };
  }
}
