/**
 * Several Stash instances (issue 19), side by side in one run: two instances of 25,000 scenes
 * each against one of 50,000, in one process each time. Idle RSS once every index is built,
 * and the match latency of a full PMS scan through each instance's own provider (the two
 * instances' libraries scanned one after the other, 10,000 files each; the one instance's
 * 20,000 files; 2% of files unknown to Stash, 32 requests at once).
 * The two Stash simulators use the same scene ids (1–25,000) for different scenes.
 *
 *   bun bench/instances.ts [--runs 3] [--rounds 2] [--files 20000]
 * The service is `bun src/main.ts serve` of this checkout, configured with STASH_INSTANCES or
 * with STASH_URL; it is ready when /metrics counts every scene in its file indexes.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scanFiles } from "../sim/plex/scan.ts";
import { DEMO_RULES } from "../src/demo.ts";
import {
  BENCH_ADMIN_TOKEN,
  commandLine,
  currentRssMb,
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

const RUNS = numberArg("runs", 3);
const ROUNDS = numberArg("rounds", 2);
const FILES = numberArg("files", 20_000);
const IDLE_S = numberArg("idle", 10);
const TOTAL = 50_000;

/** A library's Plex files and which scene owns each (the two instances' unknown files named apart). */
const filesOf = (scenes: number, seed: number, count: number) =>
  scanOfLibrary({ scenes, seed, count, tag: `${seed}-` });

console.log("starting three Stash simulators (50,000; 25,000; 25,000 scenes) …");
const [big, first, second] = await Promise.all([
  startStashSim(TOTAL, 5),
  startStashSim(TOTAL / 2, 5),
  startStashSim(TOTAL / 2, 6),
]);
const setups = {
  "1 × 50,000": {
    env: { STASH_URL: big.url, PATHS_RULES: JSON.stringify(DEMO_RULES) },
    libraries: [{ path: "", ...filesOf(TOTAL, 5, FILES) }],
  },
  "2 × 25,000": {
    env: {
      STASH_INSTANCES: JSON.stringify([
        { name: "Main", url: first.url, paths: { rules: DEMO_RULES } },
        { id: "vault", url: second.url, paths: { rules: DEMO_RULES } },
      ]),
    },
    libraries: [
      { path: "", ...filesOf(TOTAL / 2, 5, FILES / 2) },
      { path: "/instances/vault", ...filesOf(TOTAL / 2, 6, FILES / 2) },
    ],
  },
} as const;
type Setup = keyof typeof setups;
const order = (i: number): Setup[] => (i % 2 === 0 ? ["1 × 50,000", "2 × 25,000"] : ["2 × 25,000", "1 × 50,000"]);

/** Scenes in every file index of a service, by its /metrics (one series per instance). */
async function scenesIndexed(url: string): Promise<number> {
  const text = await (
    await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` } })
  ).text();
  let n = 0;
  for (const m of text.matchAll(/^stash2plex_index_entries\{[^}]*index="stash_scenes"[^}]*\} (\d+)/gm))
    n += Number(m[1]);
  return n;
}

/** Starts the service and waits until every index is built; returns it and how long the build took. */
async function startHost(setup: Setup) {
  const t0 = performance.now();
  const service = await startService(
    { DATA_DIR: mkdtempSync(join(tmpdir(), "s2p-inst-")), ...setups[setup].env },
    freePort(),
  );
  while ((await scenesIndexed(service.url)) < TOTAL) {
    if (performance.now() - t0 > 120_000) throw new Error(`${setup}: the indexes were not built in 2 min`);
    await Bun.sleep(100);
  }
  return { ...service, buildS: (performance.now() - t0) / 1000 };
}

const measured = Object.fromEntries(
  Object.keys(setups).map((k) => [
    k,
    {
      rss: [] as number[],
      buildS: [] as number[],
      ms: [] as number[],
      unknownMs: [] as number[],
      wrong: 0,
      unmatched: 0,
    },
  ]),
) as Record<
  Setup,
  { rss: number[]; buildS: number[]; ms: number[]; unknownMs: number[]; wrong: number; unmatched: number }
>;

try {
  for (let i = 0; i < RUNS; i++) {
    for (const setup of order(i)) {
      console.log(`idle RSS, ${setup} (run ${i + 1}) …`);
      const host = await startHost(setup);
      await Bun.sleep(IDLE_S * 1000);
      measured[setup].rss.push(currentRssMb(host.proc.pid));
      measured[setup].buildS.push(host.buildS);
      host.proc.kill("SIGTERM");
      await host.proc.exited;
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const setup of order(round)) {
      console.log(`scan, ${setup} (round ${round + 1}) …`);
      const host = await startHost(setup);
      try {
        for (const library of setups[setup].libraries) {
          const scan = await scanFiles(`${host.url}${library.path}`, library.files, { concurrency: 32 });
          if (scan.violations.length) throw new Error(`${setup}: ${scan.violations.slice(0, 3).join("; ")}`);
          const m = measured[setup];
          for (const r of scan.results) {
            const id = library.owner.get(r.file.path);
            m.ms.push(r.matchMs);
            if (!id) m.unknownMs.push(r.matchMs);
            if (id && !r.match) m.unmatched++;
            if (r.match && r.match.ratingKey !== id) m.wrong++;
          }
        }
      } finally {
        host.proc.kill("SIGTERM");
        await host.proc.exited;
      }
    }
  }
} finally {
  for (const s of [big, first, second]) s.proc.kill("SIGTERM");
}

const one = measured["1 × 50,000"];
const two = measured["2 × 25,000"];
const within = (r: number) => (Math.abs(r - 1) <= 0.1 ? "yes" : "NO");
const p = (xs: number[], q: number) => percentile(xs, q);
const rows = [
  [
    `idle RSS after ${IDLE_S} s, every index built (median of ${RUNS})`,
    `${fmt(median(one.rss), 0)} MB`,
    `${fmt(median(two.rss), 0)} MB`,
    fmt(median(two.rss) / median(one.rss)),
    within(median(two.rss) / median(one.rss)),
  ],
  [
    "building the indexes at start-up (both at once)",
    `${fmt(median(one.buildS), 1)} s`,
    `${fmt(median(two.buildS), 1)} s`,
    fmt(median(two.buildS) / median(one.buildS)),
    "",
  ],
  [
    "match p50",
    `${fmt(median(one.ms))} ms`,
    `${fmt(median(two.ms))} ms`,
    fmt(median(two.ms) / median(one.ms)),
    within(median(two.ms) / median(one.ms)),
  ],
  [
    "match p99",
    `${fmt(p(one.ms, 99))} ms`,
    `${fmt(p(two.ms, 99))} ms`,
    fmt(p(two.ms, 99) / p(one.ms, 99)),
    within(p(two.ms, 99) / p(one.ms, 99)),
  ],
  [
    "match p50 / p99, files Stash lacks (full ladder)",
    `${fmt(median(one.unknownMs))} / ${fmt(p(one.unknownMs, 99))} ms`,
    `${fmt(median(two.unknownMs))} / ${fmt(p(two.unknownMs, 99))} ms`,
    `${fmt(median(two.unknownMs) / median(one.unknownMs))} / ${fmt(p(two.unknownMs, 99) / p(one.unknownMs, 99))}`,
    "",
  ],
  [
    "matches (all rounds) / unmatched / wrong",
    `${one.ms.length} / ${one.unmatched} / ${one.wrong}`,
    `${two.ms.length} / ${two.unmatched} / ${two.wrong}`,
    "",
    "",
  ],
];
const markdown = [
  "## Several Stash instances: 2 × 25,000 scenes vs 1 × 50,000 (issue 19)",
  "",
  `Command: \`${commandLine("bench/instances.ts")}\` (${RUNS} idle runs and ${ROUNDS} scans of ${FILES} files per setup, alternating which goes first).`,
  `Machine: ${machine()}. The service in its own process, one setup at a time; three Stash simulators (50,000; 25,000; 25,000 scenes, the two small ones with the same ids) and the scan driver in their own processes.`,
  "",
  "| measure | 1 instance × 50,000 | 2 instances × 25,000 | 2 ÷ 1 | within 10% |",
  "|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.join(" | ")} |`),
  "",
  "The service (`bun src/main.ts serve`) with `STASH_INSTANCES` (two instances, each its own Stash",
  "client, file index in its own SQLite file, poller and provider) or `STASH_URL` (one); no Plex",
  "configured. The two instances' scans ran one after the other through their own provider URLs",
  `(\`/\` and \`/instances/vault\`), ${FILES / 2} files each; the one instance's ${FILES} files through \`/\`.`,
].join("\n");
report("instances", markdown);
