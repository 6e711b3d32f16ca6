/**
 * Provider benchmark (issue: Plex matches and fetches scenes through our provider).
 * A simulated full PMS scan of 20,000 files at 32 concurrent requests against a Stash
 * simulator holding 50,000 scenes (its own process), through the real service (its own
 * process). Side by side in the same run: the same 20,000 files looked up directly in Stash
 * by path (one GraphQL query each), which a match must not cost more than.
 *
 *   bun bench/provider.ts [--files 20000] [--scenes 50000] [--concurrency 32]
 */
import { SimLibrary } from "../sim/stash/library.ts";
import { createStashClient } from "../src/stash/client.ts";
import { scanFiles, type ScanFile } from "../sim/plex/scan.ts";
import { plexPathFor, DEMO_RULES } from "../src/demo.ts";
import {
  concurrently,
  fmt,
  freePort,
  numberArg,
  commandLine,
  report,
  machine,
  median,
  peakRssMb,
  percentile,
  startService,
  startStashSim,
} from "./lib.ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const FILES = numberArg("files", 20_000);
const SCENES = numberArg("scenes", 50_000);
const CONCURRENCY = numberArg("concurrency", 32);
const SEED = 5;

const toPlex = plexPathFor;
const rootOf = (p: string) => (p.startsWith("/media/Windows/") ? "/media/Windows" : "/media/Scenes");

// The same seeded library the simulator process builds, to know which files exist.
const library = new SimLibrary(() => "", { scenes: SCENES, seed: SEED });
const known = [...library.scenes.values()]
  .flatMap((s) => s.files.map((f) => f.path))
  .slice(0, Math.round(FILES * 0.98));
const unknown = Array.from({ length: FILES - known.length }, (_, i) => `/data/stash/Unsorted/not-in-stash-${i}.mp4`);
// Files Stash does not know are spread through the library, as they are on real disks
// (--cluster-unknown puts them all at the end: the worst case for the search step).
const clustered = process.argv.includes("--cluster-unknown");
const stashPaths = clustered
  ? [...known, ...unknown]
  : known.flatMap((p, i) => (i % 49 === 48 && unknown.length ? [p, unknown.pop()!] : [p])).concat(unknown);
const files: ScanFile[] = stashPaths.map((p) => ({ path: toPlex(p), root: rootOf(toPlex(p)) }));

console.log(`starting Stash simulator (${SCENES} scenes) and the service …`);
const stash = await startStashSim(SCENES, SEED);
const service = await startService(
  {
    STASH_URL: stash.url,
    DATA_DIR: mkdtempSync(join(tmpdir(), "s2p-bench-")),
    PATHS_RULES: JSON.stringify(DEMO_RULES),
  },
  freePort(),
);
try {
  // Wait until the service has indexed Stash's files (it does so at start-up).
  const indexStarted = performance.now();
  for (;;) {
    const status = (await (await fetch(`${service.url}/api/status`)).json()) as any;
    if (status.indexes.stashScenes >= SCENES) break;
    await Bun.sleep(100);
  }
  const indexSeconds = (performance.now() - indexStarted) / 1000;

  // 1. Side by side: one direct Stash path lookup per file.
  const client = createStashClient({ url: stash.url, apiKey: "", timeoutMs: 30_000 });
  const direct = await concurrently(
    files.length,
    CONCURRENCY,
    async (i) => void (await client.sceneByPath(stashPaths[i]!)),
  );

  // 2. The scan through the provider: discovery, match, then metadata of each match.
  const q0 = (await stash.stats()).queries;
  const scan = await scanFiles(service.url, files, { concurrency: CONCURRENCY });
  const q1 = (await stash.stats()).queries;
  const matchMs = scan.results.map((r) => r.matchMs);
  const metaMs = scan.results.flatMap((r) => (r.metadataMs === undefined ? [] : [r.metadataMs]));
  const matched = scan.results.filter((r) => r.match).length;
  const requests = matchMs.length + metaMs.length;

  // 3. Metadata alone under concurrency (PMS refreshing a library: no match before it).
  const keys = scan.results.flatMap((r) => (r.match ? [r.match.ratingKey] : []));
  const q2 = (await stash.stats()).queries;
  const metaOnly = await concurrently(keys.length, CONCURRENCY, async (i) => {
    const res = await fetch(`${service.url}/library/metadata/${keys[i]}`);
    if (res.status !== 200) throw new Error(`metadata ${keys[i]} answered ${res.status}`);
    await res.arrayBuffer();
  });
  const q3 = (await stash.stats()).queries;

  const all = [...matchMs, ...metaMs, ...metaOnly];
  const overOneSecond = all.filter((ms) => ms > 1000).length;
  const unknownMatchMs = scan.results.filter((r) => !r.match).map((r) => r.matchMs);
  const ratio = median(matchMs) / median(direct);
  const rss = peakRssMb(service.proc.pid);
  const rows = [
    ["files scanned", `${files.length} (${matched} matched, ${files.length - matched} not in Stash)`, ""],
    ["scan wall time", `${fmt(scan.seconds, 1)} s`, "< 60 s"],
    ["matches/s", fmt(files.length / scan.seconds, 0), ""],
    ["match latency p50 / p99", `${fmt(median(matchMs))} / ${fmt(percentile(matchMs, 99))} ms`, ""],
    [
      "match latency p50 / p99, files not in Stash (full ladder incl. search)",
      `${fmt(median(unknownMatchMs))} / ${fmt(percentile(unknownMatchMs, 99))} ms`,
      "",
    ],
    ["direct Stash path lookup p50 / p99", `${fmt(median(direct))} / ${fmt(percentile(direct, 99))} ms`, ""],
    ["match p50 ÷ direct lookup p50", fmt(ratio), "≤ 1.0"],
    ["metadata latency p50 / p99 (in the scan)", `${fmt(median(metaMs))} / ${fmt(percentile(metaMs, 99))} ms`, ""],
    [
      "metadata latency p50 / p99 (alone, 32 at once)",
      `${fmt(median(metaOnly))} / ${fmt(percentile(metaOnly, 99))} ms`,
      "",
    ],
    ["Stash queries per 100 scan requests", fmt(((q1 - q0) / requests) * 100, 1), ""],
    ["Stash queries per 100 metadata requests (alone)", fmt(((q3 - q2) / metaOnly.length) * 100, 1), "≤ 20"],
    ["requests over 1 s", `${overOneSecond} of ${all.length}`, "0"],
    ["contract violations", String(scan.violations.length), "0"],
    ["service peak RSS", `${fmt(rss, 0)} MB`, ""],
    ["start-up indexing of Stash's files", `${fmt(indexSeconds, 1)} s (in the background; not part of the scan)`, ""],
  ];
  const markdown = [
    `## Provider: a full PMS scan (issue 2)${clustered ? ", unknown files clustered" : ""}`,
    "",
    `Command: \`${commandLine("bench/provider.ts")}\` (${FILES} files, ${SCENES} scenes, ${CONCURRENCY} concurrent requests; files Stash does not know ${clustered ? "all at the end" : "spread through the scan"}).`,
    `Machine: ${machine()}. Stash simulator and service each in their own process; scan driver in a third.`,
    "",
    "| measure | result | target |",
    "|---|---|---|",
    ...rows.map(([a, b, c]) => `| ${a} | ${b} | ${c} |`),
    "",
    "A match answers from the service's index of Stash's files (built at start-up by paging",
    "through Stash, kept fresh by `updated_at` deltas), so it needs no Stash round trip; a miss",
    "is answered from the index too while it is complete (refreshed within 2 s, else its delta is",
    "loaded first, one query shared by concurrent lookups), with live lookups only while it is not.",
    "Metadata lookups arriving together are coalesced into one `findScenes(ids:)` query.",
  ].join("\n");
  report(clustered ? "provider-clustered" : "provider", markdown);
  if (scan.violations.length) console.log(scan.violations.slice(0, 10));
} finally {
  service.proc.kill("SIGTERM");
  stash.proc.kill("SIGTERM");
}
