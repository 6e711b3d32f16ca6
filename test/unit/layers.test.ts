/**
 * Arrows point down: every import in src/ goes from a layer to a lower one (or stays inside its
 * own folder). A cheap guard: a new arrow pointing up fails here with the file and the import.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../../src");

/**
 * The layers, lowest first. A folder is named as `stash/`, a file at the top of src/ as `log.ts`.
 * Units on one line are peers: they may not import each other.
 */
const LAYERS: string[][] = [
  ["domain/"], // the ground floor: imports nothing of ours
  ["collector.ts"], // when to collect garbage: imports nothing of ours; long loops and page readers call it
  ["schema/", "text.ts", "net.ts", "paging.ts", "pace.ts", "redact.ts", "version.ts", "jobs.ts"],
  ["log.ts"],
  ["stash/", "plex/", "store/"],
  ["paths/"],
  ["config/"],
  ["request-scene.ts", "metrics.ts"],
  ["http.ts"],
  ["json-body.ts"],
  ["tv/"], // TV-style libraries: placement, numbering, the episode folder (below the provider that serves them)
  // The sides. The push side sends what the provider serves (its pure scene → metadata
  // mapping); the gaps side heals through the push side's queue.
  ["provider/"],
  ["sync/"],
  ["collections/"], // Plex collections kept exact (after a scene's push, and by their own pass)
  ["gaps/"],
  ["writeback/"], // Plex → Stash: plays, resume points and ratings
  ["admin/"],
  ["ui/"], // the dashboard: pages over the admin API's own functions
  // Each side's plugin joins that side's parts (its routes and jobs); the admin side reads all.
  ["provider/plugin.ts"],
  ["sync/plugin.ts"],
  ["gaps/plugin.ts"],
  ["writeback/plugin.ts"],
  ["admin/plugin.ts"],
  ["app.ts"],
  ["cli/", "demo.ts"],
  ["serve.ts"],
  ["main.ts"],
];
const RANK = new Map(LAYERS.flatMap((units, rank) => units.map((u) => [u, rank] as const)));

const unitOf = (file: string) => {
  const rel = relative(SRC, file).replaceAll("\\", "/");
  if (/^[^/]+\/plugin\.ts$/.test(rel)) return rel;
  return rel.includes("/") ? `${rel.split("/")[0]}/` : rel;
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(e.name) && !e.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Relative specifiers of every static import/export and dynamic import(), type-only ones too. */
function importsOf(text: string): string[] {
  const found = [...text.matchAll(/(?:from|import)\s*\(?\s*["'](\.[^"']+)["']/g)].map((m) => m[1]!);
  return [...new Set(found)];
}

const files = sourceFiles(SRC);

describe("arrows point down", () => {
  test("every src folder and top-level file has a layer", () => {
    const unlisted = [...new Set(files.map(unitOf))].filter((u) => !RANK.has(u));
    expect(unlisted).toEqual([]);
  });

  test("no import points up or sideways to a peer", () => {
    const wrong: string[] = [];
    for (const file of files) {
      const from = unitOf(file);
      for (const spec of importsOf(readFileSync(file, "utf8"))) {
        const target = resolve(dirname(file), spec);
        if (!target.startsWith(SRC + "/")) continue; // package.json, sim/: checked below
        const to = unitOf(target);
        if (to === from) continue;
        if (!((RANK.get(to) ?? Infinity) < (RANK.get(from) ?? -1))) {
          wrong.push(`${relative(SRC, file)} (${from}) imports ${spec} (${to})`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  test("domain/ imports nothing of ours; shipped code imports nothing from test/", () => {
    const wrong: string[] = [];
    for (const file of files) {
      for (const spec of importsOf(readFileSync(file, "utf8"))) {
        const target = resolve(dirname(file), spec);
        if (unitOf(file) === "domain/" && !target.startsWith(join(SRC, "domain") + "/"))
          wrong.push(`${relative(SRC, file)}: ${spec}`);
        if (target.startsWith(resolve(SRC, "../test") + "/")) wrong.push(`${relative(SRC, file)}: ${spec}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
