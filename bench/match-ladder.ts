/**
 * The match ladder with and without path rules (issue 11), side by side in one run.
 * One Stash simulator (50,000 scenes, 30% of files with a generic name such as intro.mp4 in
 * a folder of their own) and two services: one with the demo's path rules, one with none
 * (a new user's first scan: the tail rung). Each scans the same 20,000 files (2% unknown to
 * Stash). Then the rule inference on 50,000 files, in this process.
 *
 *   bun bench/match-ladder.ts [--files 20000] [--scenes 50000] [--generic 0.3] [--concurrency 32]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimLibrary } from "../sim/stash/library.ts";
import { scanFiles } from "../sim/plex/scan.ts";
import { DEMO_RULES, plexPathFor } from "../src/demo.ts";
import { inferPathRules } from "../src/paths/infer.ts";
import {
  commandLine,
  fmt,
  freePort,
  machine,
  median,
  numberArg,
  percentile,
  report,
  scanOfLibrary,
  startService,
  startStashSim,
} from "./lib.ts";

const FILES = numberArg("files", 20_000);
const SCENES = numberArg("scenes", 50_000);
const GENERIC = numberArg("generic", 0.3);
const CONCURRENCY = numberArg("concurrency", 32);
const SEED = 5;

// The same seeded library the simulator process builds: which scene owns each file.
const {
  files,
  owner,
  known: knownPaths,
} = scanOfLibrary({ scenes: SCENES, seed: SEED, count: FILES, genericShare: GENERIC });
const nameCount = new Map<string, number>();
for (const p of owner.keys()) nameCount.set(p.split("/").at(-1)!, (nameCount.get(p.split("/").at(-1)!) ?? 0) + 1);
const sharedNames = knownPaths.filter((p) => nameCount.get(p.split("/").at(-1)!)! > 1).length;

console.log(`starting the Stash simulator (${SCENES} scenes, ${GENERIC * 100}% generic names) and two services …`);
const stash = await startStashSim(SCENES, SEED, GENERIC);

async function scanWith(label: string, rules: unknown[]) {
  const service = await startService(
    {
      STASH_URL: stash.url,
      DATA_DIR: mkdtempSync(join(tmpdir(), "s2p-bench-")),
      PATHS_RULES: JSON.stringify(rules),
    },
    freePort(),
  );
  try {
    for (;;) {
      const status = (await (await fetch(`${service.url}/api/status`)).json()) as any;
      if (status.indexes.stashScenes >= SCENES) break;
      await Bun.sleep(100);
    }
    const q0 = (await stash.stats()).queries;
    const scan = await scanFiles(service.url, files, { concurrency: CONCURRENCY });
    const queries = (await stash.stats()).queries - q0;
    const known = scan.results.filter((r) => owner.has(r.file.path));
    const unknown = scan.results.filter((r) => !owner.has(r.file.path));
    const wrong =
      known.filter((r) => r.match && r.match.ratingKey !== owner.get(r.file.path)).length +
      unknown.filter((r) => r.match).length;
    const unmatched = known.filter((r) => !r.match).length;
    console.log(`${label}: ${fmt(scan.seconds, 1)} s`);
    return {
      label,
      seconds: scan.seconds,
      wrong,
      unmatched,
      queries,
      knownMs: known.map((r) => r.matchMs),
      unknownMs: unknown.map((r) => r.matchMs),
      all: scan.results.map((r) => r.matchMs),
    };
  } finally {
    service.proc.kill("SIGTERM");
  }
}

try {
  const withRules = await scanWith("with path rules", DEMO_RULES);
  const noRules = await scanWith("no path rules", []);

  // Rule inference on 50,000 files each side, five runs.
  const inferLibrary = new SimLibrary(() => "", { scenes: 50_000, seed: SEED + 1, genericShare: GENERIC });
  const stashFiles = [...inferLibrary.scenes.values()].flatMap((s) => s.files.map((f) => f.path)).slice(0, 50_000);
  const plexFiles = stashFiles.map(plexPathFor);
  const inferMs: number[] = [];
  let inferred: ReturnType<typeof inferPathRules> | undefined;
  for (let run = 0; run < 5; run++) {
    const t = performance.now();
    inferred = inferPathRules(plexFiles, stashFiles, ["/media/Scenes", "/media/Windows"]);
    inferMs.push(performance.now() - t);
  }

  const row = (r: typeof withRules) => [
    r.label,
    `${fmt(median(r.knownMs))} / ${fmt(percentile(r.knownMs, 99))} ms`,
    `${fmt(median(r.unknownMs))} / ${fmt(percentile(r.unknownMs, 99))} ms`,
    fmt(percentile(r.unknownMs, 99) / percentile(r.knownMs, 99)),
    `${r.unmatched} / ${r.wrong}`,
    fmt((r.queries / files.length) * 100, 1),
    `${fmt(r.seconds, 1)} s`,
  ];
  const markdown = [
    "## Match ladder: no path rules (tail rung) vs path rules, and rule inference (issue 11)",
    "",
    `Command: \`${commandLine("bench/match-ladder.ts")}\` (${FILES} files, ${SCENES} scenes, ${CONCURRENCY} concurrent requests).`,
    `Machine: ${machine()}. Stash simulator and each service in their own process, one service at a time.`,
    `Files: ${knownPaths.length} Stash has (${sharedNames} of them, ${fmt((sharedNames / knownPaths.length) * 100, 0)}%, with a name other files share: intro.mp4, scene.mp4, …), ${FILES - knownPaths.length} it does not.`,
    "",
    "| ladder | match p50 / p99, files Stash has | match p50 / p99, files Stash lacks | lacks p99 ÷ has p99 (target ≤ 2) | unmatched / wrong | Stash queries per 100 matches | scan wall time |",
    "|---|---|---|---|---|---|---|",
    `| ${row(withRules).join(" | ")} |`,
    `| ${row(noRules).join(" | ")} |`,
    "",
    `No rules ÷ rules: match p50 ${fmt(median(noRules.all) / median(withRules.all))}, p99 ${fmt(percentile(noRules.all, 99) / percentile(withRules.all, 99))} (all files).`,
    "",
    `Rule inference on ${plexFiles.length} Plex and ${stashFiles.length} Stash files: median ${fmt(median(inferMs), 0)} ms of 5 runs, max ${fmt(Math.max(...inferMs), 0)} ms (target < 2 s);`,
    `it proposed ${inferred!.rules.map((r) => `\`${r.rule.plex}\` → \`${r.rule.stash}\` (${r.plex.mapped}/${r.plex.touched})`).join(", ")}.`,
  ].join("\n");
  report("match-ladder", markdown);
} finally {
  stash.proc.kill("SIGTERM");
}
