/**
 * Identity benchmark (issue 29): copies whose names tell nothing, bound by size and duration
 * (then oshash) at `--scenes` scenes (default 50,000). The Stash simulator (its own process)
 * holds the library; the real index of Stash's files (SQLite, in a temp data folder) indexes
 * it; the Plex index holds tidy-named copies of every third scene; the real binder
 * (sync/identity-binding.ts) binds them against an in-process PMS simulator. `--twins` pairs of
 * Stash files share size and duration (sim/stash/twins.ts); the copies of those scenes are
 * written to disk as sparse files of the stated size with their own first and last 64 KiB,
 * under a folder the path rules map, so the binder reads their oshash as the service would.
 * Measured: copies bound per second (median of `--runs`, each on fresh copies), oshash reads per
 * ambiguous copy and how many were resolved (and 0 wrong), the index file's extra bytes for
 * sizes, durations and oshash (the same library indexed without them), the heap before and after.
 *
 *   bun bench/identity.ts [--scenes 50000] [--runs 3] [--twins 300] [--no-write]
 */
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { heapStats } from "bun:jsc";
import { PmsSim } from "../sim/plex/server.ts";
import { createStashClient } from "../src/stash/client.ts";
import { createFileIndex } from "../src/stash/file-index.ts";
import { openStore } from "../src/store/db.ts";
import { createPlexClient } from "../src/plex/client.ts";
import { createPlexIndex } from "../src/sync/plex-index.ts";
import { createIdentityState } from "../src/sync/identity-state.ts";
import { createIdentityBinder } from "../src/sync/identity-binding.ts";
import { compilePathRules } from "../src/paths/mapper.ts";
import { loadConfig } from "../src/config/load.ts";
import { silentLogger } from "../src/log.ts";
import { DEMO_RULES } from "../src/demo.ts";
import { oshashOfFile } from "../src/sync/oshash.ts";
import { writeTwinFile } from "../sim/stash/twins.ts";
import type { SyncSection } from "../src/sync/push.ts";
import { commandLine, fmt, machine, median, numberArg, report, startStashSim } from "./lib.ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";

const SCENES = numberArg("scenes", 50_000);
const RUNS = numberArg("runs", 3);
const TWINS = numberArg("twins", 300);
const IDENTIFIER = "tv.plex.agents.custom.stash2plex";
const sim = await startStashSim(SCENES, 29, 0, { twins: TWINS });
const dir = mkdtempSync(join(tmpdir(), "s2p-bench-identity-"));
try {
  const stash = createStashClient({ url: sim.url, apiKey: "", timeoutMs: 30_000 });
  const heapBefore = heapStats().heapSize;
  const index = createFileIndex(stash, Date.now, { file: join(dir, "stash-files.sqlite") });
  const t0 = performance.now();
  await index.refresh();
  const buildS = (performance.now() - t0) / 1000;
  Bun.gc(true);
  const heapAfter = heapStats().heapSize;
  /** A SQLite file's bytes with its WAL (not yet written back). */
  const onDisk = (file: string) => statSync(file).size + (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);
  const withFacts = onDisk(join(dir, "stash-files.sqlite"));
  // The same library indexed without sizes, durations and oshash: the index's extra bytes.
  const bare = createFileIndex(
    {
      sceneFilesPage: async (page, perPage) => {
        const p = await stash.sceneFilesPage(page, perPage);
        return { ...p, items: p.items.map((s) => ({ ...s, files: s.files.map((f) => ({ path: f.path })) })) };
      },
      scenesStampedBetween: (a, b) => stash.scenesStampedBetween(a, b),
    },
    Date.now,
    { file: join(dir, "stash-files-bare.sqlite") },
  );
  await bare.refresh();
  const withoutFacts = onDisk(join(dir, "stash-files-bare.sqlite"));

  // Every third scene's single file, copied under a tidy name; its size and duration as Stash has them.
  const pages: Awaited<ReturnType<typeof stash.sceneFilesPage>>["items"] = [];
  for (let page = 1; pages.length < SCENES; page++) {
    const p = await stash.sceneFilesPage(page, 1000);
    pages.push(...p.items);
    if (p.items.length < 1000) break;
  }
  const copiesAll = pages.filter((s, i) => i % 3 === 0 && s.files.length === 1 && s.files[0]!.size != null);
  // Copies whose size another Stash file has too: ambiguous by size and duration, told apart by oshash.
  const filesOfSize = new Map<number, number>();
  for (const s of pages)
    for (const f of s.files) filesOfSize.set(Number(f.size), (filesOfSize.get(Number(f.size)) ?? 0) + 1);
  const twinned = (s: (typeof pages)[number]) => (filesOfSize.get(Number(s.files[0]!.size)) ?? 0) > 1;
  // The media folder, mounted here read-only in a real setup: where the binder reads the copies' bytes.
  const media = join(dir, "tidy");
  mkdirSync(media);
  const rules = [
    ...DEMO_RULES,
    { name: "tidy", plex: "^/media/Tidy/(.*)$", stash: `${media}/$1`, plexRoots: ["/media/Tidy"] },
  ];
  const runs: {
    seconds: number;
    bound: number;
    ambiguous: number;
    twins: number;
    byHash: number;
    wrong: number;
    reads: number;
  }[] = [];
  const perRun = Math.floor(copiesAll.length / RUNS);
  for (let r = 0; r < RUNS; r++) {
    const copies = copiesAll.slice(r * perRun, (r + 1) * perRun);
    const store = openStore(join(dir, `run-${r}`));
    const pms = new PmsSim().start();
    const paths = copies.map((s) => `/media/Tidy/Copy ${s.id}.mp4`);
    pms.addSection({ key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Tidy"] }, paths);
    copies.forEach((s, i) =>
      pms.fileFacts.set(paths[i]!, {
        size: Number(s.files[0]!.size),
        duration: Math.round((s.files[0]!.duration ?? 0) * 1000),
      }),
    );
    for (const p of paths) pms.addItem("1", p);
    const twins = copies.filter(twinned);
    for (const s of twins) writeTwinFile(join(media, `Copy ${s.id}.mp4`), s.id, Number(s.files[0]!.size));
    const plex = createPlexClient({ url: pms.url, token: pms.token, timeoutMs: 30_000 });
    const plexIndex = createPlexIndex(store, plex);
    const sections: SyncSection[] = [
      {
        key: "1",
        title: "Scenes",
        type: "movie",
        agent: IDENTIFIER,
        locations: ["/media/Tidy"],
        strategy: "refresh",
        instance: "default",
      },
    ];
    await plexIndex.refresh(sections);
    let reads = 0;
    const binder = createIdentityBinder({
      plex,
      plexIndex,
      state: createIdentityState(store),
      log: silentLogger,
      push: () => {},
      oshashOf: (path) => {
        reads++;
        return oshashOfFile(path);
      },
    });
    const { mapper } = compilePathRules(
      loadConfig({ STASH_URL: sim.url, DATA_DIR: dir, PATHS_RULES: JSON.stringify(rules) }, undefined).paths.rules,
    );
    const t = performance.now();
    const { bound, ambiguous } = await binder({ id: "default", identifier: IDENTIFIER, mapper, index }, sections);
    const seconds = (performance.now() - t) / 1000;
    // Bound to another scene than the one copied: never acceptable.
    const wrong = copies.filter((s, i) => {
      const guid = pms.itemByFile(paths[i]!)!.guid;
      return guid.startsWith(`${IDENTIFIER}://`) && guid !== `${IDENTIFIER}://movie/${s.id}`;
    }).length;
    const byHash = createIdentityState(store).counts().oshash ?? 0;
    runs.push({ seconds, bound, ambiguous, twins: twins.length, byHash, wrong, reads });
    await pms.stop();
    store.close();
  }
  const rate = median(runs.map((r) => r.bound / r.seconds));
  const sum = (key: keyof (typeof runs)[number]) => runs.reduce((n, r) => n + r[key], 0);
  const ambiguous = sum("ambiguous");
  const twins = sum("twins");
  const mb = (b: number) => `${fmt(b / 1024 / 1024, 1)} MB`;
  report(
    "identity",
    `## Files whose names tell nothing: bound by size, duration and fingerprint (issue 29)

Command: \`${commandLine("bench/identity.ts")}\` (${SCENES.toLocaleString("en")} scenes; ${RUNS} runs of ${perRun.toLocaleString("en")} tidy-named copies each).
Machine: ${machine()}. Stash simulator in its own process; the index of Stash's files (SQLite), the Plex index, the binder (sync/identity-binding.ts) and a PMS simulator in the bench process; each bound copy is one PMS match call.

| measure | result |
|---|---|
| copies bound per second, median of ${RUNS} (each: index lookup by size, duration check, PMS match, record) | ${fmt(rate, 0)} |
| bound / left ambiguous / bound to a wrong scene | ${sum("bound")} / ${ambiguous} / ${sum("wrong")} |
| copies with a twin (another Stash file of the same size and duration, ${TWINS} pairs in the library) / resolved by oshash | ${twins} / ${sum("byHash")} |
| oshash reads per ambiguous copy (128 KiB each, from a sparse file of the stated size) | ${twins ? fmt(sum("reads") / twins, 2) : "— (0 ambiguous)"} |
| index of Stash's files on disk, with sizes, durations and oshash / without | ${mb(withFacts)} / ${mb(withoutFacts)} (+${mb(withFacts - withoutFacts)}) |
| heap of the process: before / after building the index (it lives in SQLite, not the heap) | ${mb(heapBefore)} / ${mb(heapAfter)} |
| index built from empty | ${fmt(buildS, 1)} s |
`,
  );
} finally {
  sim.proc.kill();
  rmSync(dir, { recursive: true, force: true });
}
