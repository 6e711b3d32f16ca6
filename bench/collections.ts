/**
 * Collections benchmark (issue 28: "scan and push with every kind on vs only groups, side by
 * side: within 20 %; PMS calls per changed scene"). Two configs, each in fresh worlds built
 * alternately in the same run (A, B, A, B …):
 *   A: COLLECTIONS_KINDS=group
 *   B: every kind (studio, network, group, performer with ≥ 5 scenes, tags POV and 4K)
 * Each world: the Stash simulator, the PMS simulator with one movie section (no TV section),
 * and the real service (createApp), all in this process, as test/e2e/collections.test.ts
 * builds them. Per world:
 *   1. scan: a PMS scan of the movie section through the provider (files/s);
 *   2. the first pass (keeper.pass()): wall time, PMS calls;
 *   3. push: `--edits` scenes edited in Stash (half moved to another studio, the other half
 *      losing their POV or 4K tag), announced through the webhook, until the queue is empty and
 *      PMS has pulled every refresh: wall time, PMS calls per changed scene (collection calls
 *      and the rest).
 * Medians over `--runs` worlds of each config; B ÷ A for scan and push.
 *
 *   bun bench/collections.ts [--scenes 5000] [--edits 500] [--runs 3] [--no-write]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StashSim } from "../sim/stash/server.ts";
import { PmsSim, type PmsCall } from "../sim/plex/server.ts";
import { loadConfig } from "../src/config/load.ts";
import { createApp } from "../src/app.ts";
import { silentLogger } from "../src/log.ts";
import { DEMO_RULES, plexFilesFor } from "../src/demo.ts";
import { commandLine, fmt, machine, median, numberArg, report } from "./lib.ts";

const SCENES = numberArg("scenes", 5000);
const EDITS = numberArg("edits", 500);
const RUNS = numberArg("runs", 3);
const SEED = 28;
const TOKEN = "bench-webhook-token";
const IDENTIFIER = "tv.plex.agents.custom.stash2plex";
const CONCURRENCY = 16;

interface Config {
  name: "A" | "B";
  label: string;
  env: Record<string, string>;
}
const CONFIGS: Config[] = [
  { name: "A", label: "only groups", env: { COLLECTIONS_KINDS: "group" } },
  {
    name: "B",
    label: "every kind",
    env: {
      COLLECTIONS_KINDS: "studio,network,group,performer,tag",
      COLLECTIONS_TAGS: "POV,4K",
      COLLECTIONS_PERFORMER_MIN_SCENES: "5",
    },
  },
];

/** Collection calls: under /library/collections, collection (type=18) listings and edits, and reads or uploads of a collection's own metadata. */
function isCollectionCall(c: PmsCall, collectionKeys: ReadonlySet<string>): boolean {
  if (c.path.startsWith("/library/collections")) return true;
  if (/^\/library\/sections\/\d+\/all$/.test(c.path) && new URLSearchParams(c.query ?? "").get("type") === "18")
    return true;
  const m = /^\/library\/metadata\/(\d+)(\/|$)/.exec(c.path);
  return Boolean(m && collectionKeys.has(m[1]!));
}
/** Every collection rating key the calls name (a dropped collection is no longer in the simulator). */
function collectionKeysIn(calls: readonly PmsCall[], pms: PmsSim): Set<string> {
  const keys = new Set(pms.collections.inSection("1").map((c) => c.ratingKey));
  for (const c of calls) {
    const m = /^\/library\/collections\/(\d+)/.exec(c.path);
    if (m) keys.add(m[1]!);
    const q = new URLSearchParams(c.query ?? "");
    if (q.get("type") === "18" && q.get("id")) keys.add(q.get("id")!);
  }
  return keys;
}

interface Sample {
  config: Config["name"];
  files: number;
  scanSeconds: number;
  passSeconds: number;
  passCalls: number;
  passCollectionCalls: number;
  collections: number;
  changed: number;
  pushSeconds: number;
  pushCollectionCalls: number;
  pushOtherCalls: number;
  /** The push's collection calls by request (method and path shape). */
  pushBreakdown: Record<string, number>;
  /** The first pass's collection calls by request. */
  passBreakdown: Record<string, number>;
  /** What a dry-run pass right after the push still finds to do, by action. */
  leftAfterPush: Record<string, number>;
}

async function oneWorld(config: Config): Promise<Sample> {
  const stash = new StashSim({ scenes: SCENES, seed: SEED, windowsShare: 0 }).start();
  const pms = new PmsSim().start();
  pms.addSection(
    { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
    plexFilesFor(stash),
  );
  const dataDir = mkdtempSync(join(tmpdir(), "s2p-bench-coll-"));
  const env: Record<string, string> = {
    STASH_URL: stash.url,
    PLEX_URL: pms.url,
    PLEX_TOKEN: pms.token,
    DATA_DIR: dataDir,
    PATHS_RULES: JSON.stringify(DEMO_RULES),
    SYNC_WEBHOOK_TOKEN: TOKEN,
    SYNC_POLL_SECONDS: "0",
    SYNC_DRAIN_PER_SECOND: "100000",
    RECONCILE_EVERY_HOURS: "0",
    RECONCILE_AFTER_START_MINUTES: "0",
    COLLECTIONS_EVERY_MINUTES: "0",
    ...config.env,
  };
  const app = createApp(loadConfig(env, undefined), { log: silentLogger });
  try {
    await app.start(0, "127.0.0.1");
    await pms.registerProvider(app.url!);
    await app.stashIndex.refresh();

    // 1. scan
    const files = pms.disk.get("1")?.length ?? 0;
    let t = performance.now();
    await pms.scan("1", { concurrency: CONCURRENCY });
    await pms.idle();
    const scanSeconds = (performance.now() - t) / 1000;
    await app.plexIndex.refresh(await app.plex.sections());

    // 2. the first pass
    const keeper = app.collections.keeperOf("default")!;
    let from = pms.calls.length;
    t = performance.now();
    await keeper.pass();
    const passSeconds = (performance.now() - t) / 1000;
    const passCalls = pms.calls.slice(from);
    const collections = pms.collections.inSection("1").filter((c) => c.labels.includes("stash2plex")).length;

    // 3. push: half the edits move a scene to studio 2, the other half take POV or 4K off a scene.
    const lib = stash.library;
    const all = [...lib.scenes.values()].filter((s) => s.files.length);
    const stride = Math.max(1, Math.floor(all.length / EDITS));
    const spread = all.filter((_, i) => i % stride === 0);
    const target = lib.studios.find((s) => s.id === "2")!;
    const moved = spread.filter((s) => s.studio && s.studio.id !== target.id).slice(0, Math.ceil(EDITS / 2));
    const movedIds = new Set(moved.map((s) => s.id));
    const untagged = all
      .filter((s) => !movedIds.has(s.id) && s.tags.some((t) => t.name === "POV" || t.name === "4K"))
      .filter((_, i, list) => i % Math.max(1, Math.floor(list.length / (EDITS - moved.length))) === 0)
      .slice(0, EDITS - moved.length);
    for (const s of moved) lib.update(s.id, { studio: target });
    for (const s of untagged) {
      const off = s.tags.find((t) => t.name === "POV") ? "POV" : "4K";
      lib.update(s.id, { tags: s.tags.filter((t) => t.name !== off) });
    }
    const ids = [...moved, ...untagged].map((s) => s.id);
    if (app.queue.pending() !== 0) throw new Error(`the queue holds ${app.queue.pending()} jobs before the push`);
    from = pms.calls.length;
    t = performance.now();
    const res = await fetch(`${app.url}/hooks/stash`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ sceneIds: ids }),
    });
    if (res.status >= 300) throw new Error(`the webhook answered ${res.status}: ${await res.text()}`);
    const deadline = performance.now() + 600_000;
    while (app.queue.pending() !== 0) {
      if (performance.now() > deadline) throw new Error("the push did not finish in 10 minutes");
      await Bun.sleep(10);
    }
    await pms.idle();
    const pushSeconds = (performance.now() - t) / 1000;
    const pushCalls = pms.calls.slice(from);

    const keys = collectionKeysIn(pms.calls, pms);
    const passCollectionCalls = passCalls.filter((c) => isCollectionCall(c, keys)).length;
    const pushCollectionCalls = pushCalls.filter((c) => isCollectionCall(c, keys)).length;
    const shapes = (calls: PmsCall[]) => {
      const out: Record<string, number> = {};
      for (const c of calls.filter((c) => isCollectionCall(c, keys))) {
        const shape = `${c.method} ${c.path.replace(/\d+/g, "{n}")}`;
        out[shape] = (out[shape] ?? 0) + 1;
      }
      return out;
    };
    const pushBreakdown = shapes(pushCalls);
    const passBreakdown = shapes(passCalls);

    // Not timed: what the next pass would still do (the push should have left memberships exact).
    const leftAfterPush: Record<string, number> = {};
    for (const a of (await keeper.pass({ dryRun: true })).sections.flatMap((s) => s.actions))
      leftAfterPush[a.do] = (leftAfterPush[a.do] ?? 0) + 1;

    return {
      config: config.name,
      files,
      scanSeconds,
      passSeconds,
      passCalls: passCalls.length,
      passCollectionCalls,
      collections,
      changed: ids.length,
      pushSeconds,
      pushCollectionCalls,
      pushOtherCalls: pushCalls.length - pushCollectionCalls,
      pushBreakdown,
      passBreakdown,
      leftAfterPush,
    };
  } finally {
    await app.stop();
    await pms.stop();
    await stash.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const samples: Sample[] = [];
for (let run = 1; run <= RUNS; run++) {
  for (const config of CONFIGS) {
    console.log(`run ${run}/${RUNS}, ${config.name} (${config.label}) …`);
    const s = await oneWorld(config);
    samples.push(s);
    console.log(
      `  scan ${fmt(s.scanSeconds)} s (${fmt(s.files / s.scanSeconds, 0)} files/s); first pass ${fmt(s.passSeconds)} s, ` +
        `${s.passCalls} PMS calls (${s.passCollectionCalls} collection), ${s.collections} collections; ` +
        `push of ${s.changed} ${fmt(s.pushSeconds)} s, ${s.pushCollectionCalls} collection + ${s.pushOtherCalls} other calls; ` +
        `left for the next pass: ${JSON.stringify(s.leftAfterPush)}\n  first pass's collection calls: ${JSON.stringify(s.passBreakdown)}\n  push's collection calls: ${JSON.stringify(s.pushBreakdown)}`,
    );
  }
}

const of = (name: Config["name"]) => samples.filter((s) => s.config === name);
const med = (name: Config["name"], f: (s: Sample) => number) => median(of(name).map(f));
const filesPerSecond = (s: Sample) => s.files / s.scanSeconds;
const perScene = (f: (s: Sample) => number) => (s: Sample) => f(s) / s.changed;
const scanRatio = med("A", filesPerSecond) / med("B", filesPerSecond); // B's time ÷ A's
const pushRatio = med("B", (s) => s.pushSeconds) / med("A", (s) => s.pushSeconds);
const within = (r: number) => (r <= 1.2 ? "yes" : `no (${fmt((r - 1) * 100, 0)} % slower)`);
const left = (name: Config["name"]) => {
  const counts: Record<string, number> = {};
  for (const s of of(name))
    for (const [k, v] of Object.entries(s.leftAfterPush)) counts[k] = Math.max(counts[k] ?? 0, v);
  const text = Object.entries(counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  return text || "none";
};
const breakdown = (name: Config["name"]) => {
  const shapes = new Set(of(name).flatMap((s) => Object.keys(s.pushBreakdown)));
  const text = [...shapes]
    .map((k) => [k, median(of(name).map((s) => (s.pushBreakdown[k] ?? 0) / s.changed))] as const)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k.replace(/^(\w+) /, "$1 `").replace(/$/, "`")} ${fmt(v)}`)
    .join("; ");
  return text || "none";
};
const changed = of("A")[0]!.changed;
const files = of("A")[0]!.files;

const rows: string[][] = [
  [
    `scan of the movie section (${files} files, ${CONCURRENCY} at once), files/s`,
    fmt(med("A", filesPerSecond), 0),
    fmt(med("B", filesPerSecond), 0),
    "",
  ],
  ["first pass: wall time", `${fmt(med("A", (s) => s.passSeconds))} s`, `${fmt(med("B", (s) => s.passSeconds))} s`, ""],
  [
    "first pass: PMS calls (collection calls) → collections made",
    `${med("A", (s) => s.passCalls)} (${med("A", (s) => s.passCollectionCalls)}) → ${med("A", (s) => s.collections)}`,
    `${med("B", (s) => s.passCalls)} (${med("B", (s) => s.passCollectionCalls)}) → ${med("B", (s) => s.collections)}`,
    "",
  ],
  [
    `push of ${changed} changed scenes: wall time`,
    `${fmt(med("A", (s) => s.pushSeconds))} s`,
    `${fmt(med("B", (s) => s.pushSeconds))} s`,
    "",
  ],
  [
    "PMS calls per changed scene: collections / other",
    `${fmt(
      med(
        "A",
        perScene((s) => s.pushCollectionCalls),
      ),
    )} / ${fmt(
      med(
        "A",
        perScene((s) => s.pushOtherCalls),
      ),
    )}`,
    `${fmt(
      med(
        "B",
        perScene((s) => s.pushCollectionCalls),
      ),
    )} / ${fmt(
      med(
        "B",
        perScene((s) => s.pushOtherCalls),
      ),
    )}`,
    "",
  ],
  ["the push's collection calls per changed scene, by request (median)", breakdown("A"), breakdown("B"), ""],
  ["left for the next pass after the push (dry run, worst world)", left("A"), left("B"), ""],
  ["scan time B ÷ A", "", fmt(scanRatio), `≤ 1.20: ${within(scanRatio)}`],
  ["push time B ÷ A", "", fmt(pushRatio), `≤ 1.20: ${within(pushRatio)}`],
];

const markdown = [
  "## Collections: every kind vs only groups (issue 28)",
  "",
  `Command: \`${commandLine("bench/collections.ts")}\` (${SCENES} scenes, ${changed} edited, ${RUNS} worlds of each config, built alternately).`,
  `Machine: ${machine()}. Stash simulator, PMS simulator and the service (createApp) in the benchmark's one process.`,
  "",
  "| measure | A: only groups | B: every kind | goal B ÷ A within 20 % |",
  "|---|---|---|---|",
  ...rows.map((r) => `| ${r.join(" | ")} |`),
  "",
  "A is `COLLECTIONS_KINDS=group`; B is `studio,network,group,performer,tag` with `COLLECTIONS_TAGS=POV,4K` and",
  "`COLLECTIONS_PERFORMER_MIN_SCENES=5`. Each world is fresh: one movie section (no TV section), the scan of",
  "it through the provider (which serves no Collection tags, so A and B should scan alike), the keeper's first",
  "pass (every collection made), then the push: half the edited scenes moved to another studio, the other half",
  "with POV or 4K taken off, announced in one webhook call, timed until the queue is empty and PMS has pulled",
  "every refresh. Collection calls are requests under /library/collections, `type=18` listings and edits, and",
  "reads or poster uploads of a collection's own metadata; the rest includes the refresh, PMS's re-pull being",
  "the provider's, and the push's reads of the items (the keeper's look at an item's Collection tags is one of",
  "those reads and is counted there). Figures are medians over the worlds; the ratios are of medians. The last",
  "table row is a dry-run pass after the push: what a scene's own look left for the hourly pass.",
].join("\n");
report("collections", markdown);
