/**
 * `stash2plex check`: everything that can be wrong before the service runs, each with what
 * to do about it. Exit code 0 only when all holds.
 */
import type { Config } from "../config/schema.ts";
import { createStashClient } from "../stash/client.ts";
import { createPlexClient } from "../plex/client.ts";
import { compilePathRules } from "../paths/mapper.ts";
import { DatabaseStartError, openStore } from "../store/db.ts";

export interface CheckLine {
  ok: boolean;
  what: string;
  detail: string;
}

export async function runChecks(config: Config): Promise<CheckLine[]> {
  const lines: CheckLine[] = [{ ok: true, what: "config", detail: "valid" }, dataFolder(config.dataDir)];
  const stash = createStashClient(config.stash);
  try {
    const version = await stash.version();
    const sample = await stash.sceneFilesPage(1, 1);
    lines.push({ ok: true, what: "stash", detail: `reached ${config.stash.url} (Stash ${version}, ${sample.count} scenes)` });
  } catch (err) {
    // The message names the setting to fix when it knows it (e.g. the API key); else both.
    const message = (err as Error).message;
    lines.push({ ok: false, what: "stash", detail: /STASH_[A-Z_]+/.test(message) ? message : `${message} — check STASH_URL and STASH_API_KEY` });
  }
  if (config.plex.url) {
    const plex = createPlexClient(config.plex);
    try {
      const id = await plex.identity();
      lines.push({ ok: true, what: "plex", detail: `reached ${config.plex.url} (PMS ${id.version})` });
      const sections = await plex.sections();
      for (const wanted of config.plex.sections) {
        const found = sections.find((s) => s.key === wanted.id);
        lines.push(found
          ? { ok: true, what: `plex section ${wanted.id}`, detail: `"${found.title}" (${found.type}), strategy ${wanted.strategy}` }
          : { ok: false, what: `plex section ${wanted.id}`, detail: `no such section; PMS has ${sections.map((s) => `${s.key} "${s.title}"`).join(", ") || "none"}` });
      }
    } catch (err) {
      lines.push({ ok: false, what: "plex", detail: `${(err as Error).message} — check PLEX_URL and PLEX_TOKEN` });
    }
  } else {
    lines.push({ ok: true, what: "plex", detail: "push is off (PLEX_URL not set)" });
  }
  const { mapper, problems } = compilePathRules(config.paths.rules);
  const samples = mapper.rules.reduce((n, r) => n + r.samples.length, 0);
  lines.push(problems.length
    ? { ok: false, what: "path rules", detail: problems.join("\n    ") }
    : { ok: true, what: "path rules", detail: `${mapper.rules.length} rule(s), ${samples} sample(s) map both ways` });
  return lines;
}

/** The data folder holds the queue: it must exist, be writable and hold a usable database. */
function dataFolder(dataDir: string): CheckLine {
  try {
    const store = openStore(dataDir);
    store.writable();
    store.close();
    return { ok: true, what: "data folder", detail: `${dataDir} is writable; the database opens` };
  } catch (err) {
    return { ok: false, what: "data folder", detail: err instanceof DatabaseStartError ? err.message : `${dataDir}: ${(err as Error).message}` };
  }
}
