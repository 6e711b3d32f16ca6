/**
 * Memory of the index of Stash's files (issue 19), before and after, side by side in one run:
 * idle RSS at 20,000 and 50,000 scenes, and the match latency of a full PMS scan with path
 * rules (as bench/provider.ts) and without (the tail rung, as bench/match-ladder.ts).
 * "Before" and "after" are the service at two git revisions, each unpacked into a temp folder
 * (`git archive`); one service runs at a time, alternating which goes first.
 *
 *   bun bench/memory.ts --before <rev or folder> [--after <rev or folder>] [--index-only] [--runs 3] [--rounds 2] [--files 20000]
 * Without --after, "after" is this checkout as it is.
 */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scanFiles } from "../sim/plex/scan.ts";
import { DEMO_RULES } from "../src/demo.ts";
import {
  commandLine,
  cpuMs,
  currentRssMb,
  fmt,
  freePort,
  indexed,
  machine,
  median,
  numberArg,
  peakRssMb,
  percentile,
  report,
  scanOfLibrary,
  ROOT,
  sourceAt,
  startService,
  startStashSim,
} from "./lib.ts";

const RUNS = numberArg("runs", 3);
const ROUNDS = numberArg("rounds", 2);
const FILES = numberArg("files", 20_000);
const IDLE_S = numberArg("idle", 10);
const argOf = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const beforeRev = argOf("before");
if (!beforeRev) throw new Error("give the revision to compare with: --before <rev>");
const afterRev = argOf("after");
/** A revision unpacked, or a folder holding the service's source as it is. */
const sourceOf = (revOrDir: string) =>
  existsSync(join(revOrDir, "src/main.ts")) ? { root: revOrDir, commit: revOrDir } : sourceAt(revOrDir);
const after = afterRev ? sourceOf(afterRev) : { root: ROOT, commit: "this checkout" };
const before = process.argv.includes("--index-only") ? withIndexOf(beforeRev) : sourceOf(beforeRev);

/**
 * --index-only: "before" is "after" with only src/stash/file-index.ts taken from --before
 * (the in-heap index), so nothing else differs. That file predates fileIndexFile() and
 * close(), which the service now calls: two inert stand-ins are appended.
 */
function withIndexOf(rev: string) {
  const base = sourceAt(afterRev ?? "HEAD");
  const old = Bun.spawnSync(["git", "show", `${rev}:src/stash/file-index.ts`], { cwd: ROOT })
    .stdout.toString()
    .replace("return {\n    get ready()", "return {\n    close() {},\n    get ready()");
  if (!old.includes("close() {}")) throw new Error(`${rev}: not the in-heap file index this option knows`);
  writeFileSync(
    join(base.root, "src/stash/file-index.ts"),
    `${old}\nexport const fileIndexFile = (dataDir: string, instance?: string) => join(dataDir, instance ?? "");\nimport { join } from "node:path";\n`,
  );
  return { root: base.root, commit: `${base.commit} with the file index of ${rev}` };
}
const variants = [
  { name: "before", ...before },
  { name: "after", ...after },
] as const;
type Name = (typeof variants)[number]["name"];
/** Alternates which variant goes first, so neither always runs on a warmer machine. */
const inTurn = (i: number) => (i % 2 === 0 ? variants : [...variants].reverse());

const tmp = () => mkdtempSync(join(tmpdir(), "s2p-mem-"));

/** Idle RSS: start, wait until every scene is indexed, sit idle, read VmRSS (and the peak). */
async function idleRss(root: string, stashUrl: string, scenes: number) {
  const service = await startService({ STASH_URL: stashUrl, DATA_DIR: tmp() }, freePort(), root);
  try {
    const buildS = await indexed(service.url, scenes);
    await Bun.sleep(IDLE_S * 1000);
    return { rss: currentRssMb(service.proc.pid), peak: peakRssMb(service.proc.pid), buildS };
  } finally {
    service.proc.kill("SIGTERM");
    await service.proc.exited;
  }
}

const idle: { scenes: number; byName: Record<Name, { rss: number[]; peak: number[]; buildS: number[] }> }[] = [];
for (const scenes of [20_000, 50_000]) {
  console.log(`idle RSS at ${scenes} scenes …`);
  const stash = await startStashSim(scenes, 3);
  const byName = {
    before: { rss: [], peak: [], buildS: [] },
    after: { rss: [], peak: [], buildS: [] },
  } as (typeof idle)[number]["byName"];
  for (let i = 0; i < RUNS; i++) {
    for (const v of inTurn(i)) {
      const m = await idleRss(v.root, stash.url, scenes);
      byName[v.name].rss.push(m.rss);
      byName[v.name].peak.push(m.peak);
      byName[v.name].buildS.push(m.buildS);
    }
  }
  stash.proc.kill("SIGTERM");
  idle.push({ scenes, byName });
}

/** The two ladders of bench/provider.ts (path rules) and bench/match-ladder.ts (no rules, 30% generic names). */
const SCENES = 50_000;
const ladders = [
  { label: "with path rules (bench/provider.ts's library)", generic: 0, rules: DEMO_RULES },
  { label: "no path rules, 30% generic names (bench/match-ladder.ts's library)", generic: 0.3, rules: [] },
];
const latency: {
  label: string;
  byName: Record<Name, { known: number[]; unknown: number[]; cpuMs: number; wrong: number; unmatched: number }>;
}[] = [];
for (const ladder of ladders) {
  console.log(`match latency, ${ladder.label} …`);
  const { files, owner } = scanOfLibrary({ scenes: SCENES, seed: 5, count: FILES, genericShare: ladder.generic });
  const stash = await startStashSim(SCENES, 5, ladder.generic);
  const byName = {
    before: { known: [], unknown: [], cpuMs: 0, wrong: 0, unmatched: 0 },
    after: { known: [], unknown: [], cpuMs: 0, wrong: 0, unmatched: 0 },
  } as (typeof latency)[number]["byName"];
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of inTurn(round)) {
      const service = await startService(
        { STASH_URL: stash.url, DATA_DIR: tmp(), PATHS_RULES: JSON.stringify(ladder.rules) },
        freePort(),
        v.root,
      );
      try {
        await indexed(service.url, SCENES);
        const cpu0 = cpuMs(service.proc.pid);
        const scan = await scanFiles(service.url, files, { concurrency: 32 });
        const out = byName[v.name];
        out.cpuMs += cpuMs(service.proc.pid) - cpu0;
        for (const r of scan.results) {
          const id = owner.get(r.file.path);
          (id ? out.known : out.unknown).push(r.matchMs);
          if (id && !r.match) out.unmatched++;
          if (r.match && r.match.ratingKey !== id) out.wrong++;
        }
      } finally {
        service.proc.kill("SIGTERM");
        await service.proc.exited;
      }
    }
  }
  stash.proc.kill("SIGTERM");
  latency.push({ label: ladder.label, byName });
}

const ms = (xs: number[]) => `${fmt(median(xs))} / ${fmt(percentile(xs, 99))} ms`;
const ratio = (a: number[], b: number[], p: number) => fmt(percentile(a, p) / percentile(b, p));
const rows: string[][] = [];
for (const { scenes, byName: b } of idle) {
  rows.push([
    `idle RSS after ${IDLE_S} s, ${scenes} scenes indexed (median of ${RUNS})`,
    `${fmt(median(b.before.rss), 0)} MB`,
    `${fmt(median(b.after.rss), 0)} MB`,
    fmt(median(b.after.rss) / median(b.before.rss)),
    scenes === 50_000 ? "< 100 MB" : "",
  ]);
  rows.push([
    `peak RSS, ${scenes} scenes`,
    `${fmt(median(b.before.peak), 0)} MB`,
    `${fmt(median(b.after.peak), 0)} MB`,
    fmt(median(b.after.peak) / median(b.before.peak)),
    "",
  ]);
  rows.push([
    `start-up indexing, ${scenes} scenes (in the background)`,
    `${fmt(median(b.before.buildS), 1)} s`,
    `${fmt(median(b.after.buildS), 1)} s`,
    fmt(median(b.after.buildS) / median(b.before.buildS)),
    "",
  ]);
}
for (const { label, byName: b } of latency) {
  const all = (n: Name) => [...b[n].known, ...b[n].unknown];
  rows.push([
    `match p50 / p99, ${label}`,
    ms(all("before")),
    ms(all("after")),
    `${ratio(all("after"), all("before"), 50)} / ${ratio(all("after"), all("before"), 99)}`,
    "≤ 1.10 / 1.10",
  ]);
  rows.push([
    "… files Stash lacks (full ladder incl. title search)",
    ms(b.before.unknown),
    ms(b.after.unknown),
    `${ratio(b.after.unknown, b.before.unknown, 50)} / ${ratio(b.after.unknown, b.before.unknown, 99)}`,
    "",
  ]);
  const perFile = (n: Name) => (b[n].cpuMs * 1000) / (b[n].known.length + b[n].unknown.length);
  rows.push([
    "… service CPU per scanned file (match + metadata)",
    `${fmt(perFile("before"), 0)} µs`,
    `${fmt(perFile("after"), 0)} µs`,
    fmt(perFile("after") / perFile("before")),
    "",
  ]);
  rows.push([
    "… unmatched / wrong",
    `${b.before.unmatched} / ${b.before.wrong}`,
    `${b.after.unmatched} / ${b.after.wrong}`,
    "",
    "0 / 0",
  ]);
}

const markdown = [
  "## Memory: the index of Stash's files in SQLite (issue 19)",
  "",
  `Command: \`${commandLine("bench/memory.ts")}\` (before: ${before.commit}, after: ${after.commit}; ${RUNS} idle runs and ${ROUNDS} scans of ${FILES} files at 32 at once per variant, alternating).`,
  `Machine: ${machine()}. Service (\`bun src/main.ts serve\`), Stash simulator and scan driver each in their own process; one service at a time.`,
  "",
  "| measure | before | after | after ÷ before | target |",
  "|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.join(" | ")} |`),
  "",
  "Before, the index was JS maps in the heap (~1 KB a scene) and a rebuild held every page of",
  "Stash's answer until its swap, so the heap grew to the library's size and stayed there. After,",
  "it is three SQLite tables in a file in the data folder (`stash-files.sqlite`, rebuilt at every",
  "start): their pages are the operating system's file cache, and a rebuild writes each page of",
  "1,000 scenes as it arrives into a second set of tables that replaces the first in one step.",
  "",
  "Match cost: a lookup in SQLite takes ~1–5 µs against under 1 µs in a map, ~6 µs more per match",
  "(measured in one process, 20,000 matches), yet the service's CPU per scanned file rises more than",
  "that. The rest is the garbage collector: JavaScriptCore sizes its collection cycles by the live",
  "heap, and the in-heap index (tens of MB of live objects) gave it room; a small heap is collected",
  "more often. In diagnostic runs (not in this table) the SQLite build with 600,000 small objects",
  "held alive used 16% less CPU per file; an untouched 64 MB ArrayBuffer (reported to the GC, not",
  "resident) did not help; keeping path → scene as a map in the heap (the rest in SQLite) brought",
  "CPU per file back to the in-heap figure but idle RSS at 50,000 scenes to ~102 MB.",
].join("\n");
report("memory", markdown);
