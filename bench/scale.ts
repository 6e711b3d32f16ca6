/**
 * Scale benchmark (issue 26, part 1): the whole service with everything on (the index of Stash's
 * files, a TV library with its episode folder, write-back) over a Stash simulator of `--scenes`
 * scenes (some with two files) and a PMS simulator holding the same library (a movie section with
 * every file, a TV section with every episode of the episode folder), side by side with a
 * `--baseline` library so the growth shows. Each size runs alone, one after the other; the service
 * is its own process (restarted as the measurements need), the Stash simulator another, the PMS
 * simulator and the drivers this one. Per size:
 *
 *   1. a first start on an empty data folder, until it has settled (index built, episode folder
 *      written, artwork uploaded for every item, the collections job's first run); then Plex's TV section is filled from the TV
 *      provider and the episode folder (sim/plex/tv.ts's own scan is quadratic in a show's size);
 *   2. `--starts` restarts with everything already on disk: start-up to the first right match
 *      (a match polled from the spawn on, as bench/startup.ts times /healthz); before the second
 *      one the episode folder is emptied, so that start builds it from empty (its tv-sync run);
 *   3. in the last process, settled: idle RSS (and its peak while the 5-minute Plex index job
 *      runs); the poller, polls triggered with nothing and with a few scenes changed (scenes
 *      read, Stash queries, service CPU per poll, as bench/poll-cost.ts counts them); one scene's
 *      date moved to another year (the episode folder compared before and after); a full
 *      reconcile with heal through the API (peak RSS from a reset VmHWM; wall time; PMS and Stash
 *      requests per 1,000 items, counted at the simulators); every dashboard page under /ui
 *      (src/ui/routes.ts) timed and sized; a PMS scan of `--scan-files` files through the provider
 *      (sim/plex/scan.ts, as bench/provider.ts: throughput and CPU per file).
 *
 * Both simulators answer a page of the whole library from an order kept once (the Stash
 * simulator's --ordered-pages, ListingPmsSim below): their own per-page sorts and filters would
 * make paging the library quadratic, and the reconcile's time the simulators'.
 *
 *   bun bench/scale.ts [--scenes 200000] [--baseline 50000] [--scan-files 20000] [--scan-rounds 3] [--starts 3]
 *     [--drift 0.005] [--polls 5] [--idle 30] [--seed 26] [--tv-dir <folder>] [--profile <folder>] [--heap <folder>] [--no-write]
 *     [--only startup | --only reconcile] [--rev <git revision>]
 *
 * `--only startup` stops each size after step 3's idle and Plex index job (no polls, move, reconcile,
 * pages or scan) and reports those rows only; `--rev` runs the service from that git revision's
 * source (bench/lib.ts sourceAt), for a before/after with the same bench.
 */
import { Database } from "bun:sqlite";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PmsSim, type SimItem } from "../sim/plex/server.ts";
import { parsedTitle, relativeFilename, scanFiles, type ScanFile } from "../sim/plex/scan.ts";
import { createStashClient } from "../src/stash/client.ts";
import { loadConfig } from "../src/config/load.ts";
import { instanceContext } from "../src/provider/instance.ts";
import { instancesOf } from "../src/config/instances.ts";
import { sceneToMetadata } from "../src/provider/metadata.ts";
import { DEFAULT_INSTANCE_ID, guidOf, sceneRef, tvIdentifierOf, tvPathOf } from "../src/domain/ref.ts";
import { DEMO_RULES, plexPathFor } from "../src/demo.ts";
import type { PlexMetadata } from "../src/schema/plex.ts";
import {
  BENCH_ADMIN_TOKEN,
  sourceAt,
  commandLine,
  cpuMs,
  cpuSpentMs,
  currentRssMb,
  fmt,
  freePort,
  linksUnder,
  machine,
  median,
  numberArg,
  peakRssMb,
  percentile,
  report,
  resetPeakRss,
  spawnService,
  startStashSim,
  threadCpuMs,
  until,
} from "./lib.ts";

const SCENES = numberArg("scenes", 200_000);
const BASELINE = numberArg("baseline", 50_000);
const SCAN_FILES = numberArg("scan-files", 20_000);
const SCAN_ROUNDS = numberArg("scan-rounds", 3);
const STARTS = Math.max(2, numberArg("starts", 3));
const DRIFT = numberArg("drift", 0.005);
const POLLS = numberArg("polls", 5);
const IDLE_S = numberArg("idle", 30);
const SEED = numberArg("seed", 26);
const argOf = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const TV_BASE = argOf("tv-dir") ?? tmpdir();
/**
 * `--only reconcile`: one size (`--scenes`), set up as usual and restarted once, then only the full
 * reconcile with heal is measured (its figures printed, BENCHMARKS.md left as it is).
 */
const ONLY_RECONCILE = argOf("only") === "reconcile";
/** `--profile <folder>`: every service process writes a CPU profile there (Bun's --cpu-prof; it costs memory). */
const PROFILE_DIR = argOf("profile");
/** `--heap <folder>`: every service process preloads bench/heap-probe.ts; its heap is written there after the idle time and the Plex index job. */
const HEAP_DIR = argOf("heap");
const ONLY_STARTUP = argOf("only") === "startup";
const SERVICE_ROOT = argOf("rev") ? sourceAt(argOf("rev")!).root : undefined;
const IDENTIFIER = "tv.plex.agents.custom.stash2plex";
const TV_IDENTIFIER = tvIdentifierOf(IDENTIFIER);
/**
 * The poller's windows: this many polls triggered, one every POLL_GAP_MS: 5 s, the period of the
 * push and write-back sweeps, so a window with polls and one without hold the same background work.
 */
const POLL_RUNS = 50;
const POLL_GAP_MS = 100;
const FEW = 5;
const auth = { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` };

/** What one size measured. */
interface Figures {
  scenes: number;
  twoFileScenes: number;
  files: number;
  movieItems: number;
  tv: { shows: number; seasons: number; episodes: number; links: number; setupS: number };
  firstStart: { settleS: number; indexS: number; tvSyncS: number; plexIndexS: number; collectionsS: number };
  settleAfterTvS: number;
  startMs: number[];
  /** Per restart: /healthz's first answer (ms from the spawn) and its longest wait until settled. */
  startHealth: Health[];
  /** Per restart: the index of Stash's files caught up from the file the last run left (its first run). */
  indexAfterRestartS: number[];
  tvEmpty: { seconds: number; links: number; floorUs: number; where: string };
  idle: { atSettle: number; rss: number; max: number; hwm: number; plexIndexPeak: number };
  rec: {
    seconds: number;
    peakMb: number;
    peakMethod: string;
    items: number;
    scenes: number;
    counts: Record<string, number>;
    healed: Record<string, number>;
    plex: { listing: number; reads: number; other: number };
    stash: number;
    stashSimCpuS: number;
    /** Its heal phase, and the scans of Plex folders the heal asked for. */
    healS: number;
    scans: number;
    pmsSimCpuS: number;
    healDrainS: number;
    healLeft: number;
  };
  poll: {
    idle: { read: number[]; queries: number[]; cpuMs: number; wallMs: number[]; runs: number[] };
    few: { read: number[] };
    swept: number;
  };
  move: { scene: string; differing: number; own: boolean; seconds: number };
  pages: { path: string; ms: number; bytes: number }[];
  scan: {
    files: number;
    seconds: number;
    cpuUsPerFile: number;
    p50: number;
    p99: number;
    wrong: number;
    unmatched: number;
    violations: number;
  };
}

interface Health {
  healthyMs: number;
  maxMs: number;
  p99Ms: number;
}

const json = async (res: Response) => {
  if (!res.ok) throw new Error(`${res.url} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  return (await res.json()) as any;
};

interface JobView {
  id: string;
  running: boolean;
  lastRunAt: number | null;
  lastDurationMs: number | null;
  lastError: string | null;
  runs: number;
}

async function measure(N: number): Promise<Figures> {
  console.log(`\n=== ${N.toLocaleString("en")} scenes ===`);
  const t0 = performance.now();
  const stash = await startStashSim(N, SEED, 0, { orderedPages: true });
  const pms = new ListingPmsSim().start();
  const work = mkdtempSync(join(tmpdir(), `s2p-scale-${N}-`));
  const tvBase = mkdtempSync(join(TV_BASE, `s2p-scale-tv-${N}-`));
  const dataDir = join(work, "data");
  const tvFolder = join(tvBase, "episodes");
  mkdirSync(dataDir);
  const env: Record<string, string> = {
    STASH_URL: stash.url,
    PLEX_URL: pms.url,
    PLEX_TOKEN: pms.token,
    DATA_DIR: dataDir,
    PATHS_RULES: JSON.stringify(DEMO_RULES),
    TV_LIBRARIES: JSON.stringify([{ id: "sites", layout: "studio", folder: tvFolder, plexFolder: tvFolder }]),
    WRITEBACK_ENABLED: "true",
    WRITEBACK_WEBHOOK_TOKEN: "bench-plex-webhook-token",
    // Polls are triggered by the benchmark (a scheduled one would land in its windows), and no
    // scheduled reconcile 10 minutes after a start (it would collide with the one measured).
    SYNC_POLL_SECONDS: "600",
    RECONCILE_AFTER_START_MINUTES: "0",
    ...(HEAP_DIR ? { HEAP_PROBE_DIR: join(HEAP_DIR, String(N)), HEAP_PROBE_MIMALLOC: "1" } : {}),
  };
  if (HEAP_DIR) mkdirSync(join(HEAP_DIR, String(N)), { recursive: true });
  let service: { proc: ReturnType<typeof Bun.spawn>; url: string } | undefined;
  const stop = async () => {
    if (!service) return;
    service.proc.kill("SIGTERM");
    await service.proc.exited;
    service = undefined;
  };
  try {
    // Plex holds every file as an item showing what the provider serves (as bench/reconcile.ts
    // fills it), a few of them hand-edited so the reconcile has something to heal.
    console.log("reading the library from Stash and filling the PMS simulator …");
    const config = loadConfig(env, undefined);
    const ctx = instanceContext(config, instancesOf(config)[0]!);
    const client = createStashClient({ url: stash.url, apiKey: "", timeoutMs: 120_000 });
    pms.addSection(
      { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
      [],
    );
    /** Which scene owns each Plex path; the scenes with a POSIX file; those whose date can move. */
    const owner = new Map<string, string>();
    const posix: { path: string; id: string }[] = [];
    const movable: { id: string; date: string }[] = [];
    let twoFileScenes = 0;
    let files = 0;
    const every = Math.max(1, Math.round(1 / DRIFT));
    for (let page = 1, i = 0; ; page++) {
      const { items } = await client.scenesPage(page, 1000);
      for (const scene of items) {
        if (scene.files.length > 1) twoFileScenes++;
        const fields = sceneToMetadata(scene, ctx);
        const drifted = i % every === 7;
        for (const file of scene.files) {
          const path = plexPathFor(file.path);
          const item = pms.addItem("1", path, {
            guid: guidOf(IDENTIFIER, sceneRef(DEFAULT_INSTANCE_ID, scene.id)),
            fields,
          });
          item.title = fields.title;
          owner.set(path, scene.id);
          files++;
          if (drifted) {
            item.fields = { ...item.fields, title: "Edited in Plex" };
            item.title = "Edited in Plex";
          }
        }
        const year = Number(scene.date?.slice(0, 4));
        const onPosix = scene.files[0]?.path.startsWith("/") ?? false;
        if (scene.studio && year >= 2016 && year <= 2024 && scene.files.length === 1 && onPosix && !drifted)
          movable.push({ id: scene.id, date: scene.date! });
        if (onPosix) posix.push({ path: plexPathFor(scene.files[0]!.path), id: scene.id });
        i++;
      }
      if (items.length < 1000) break;
    }
    const movieItems = pms.items.size;
    // A scene from the middle of the library: its date moves; a few others are edited for the poller.
    const mover = movable[Math.floor(movable.length / 2)]!;
    const probe = posix[Math.floor(posix.length * 0.37)]!;
    const editable = posix.filter((_, k) => k % 997 === 3).map((p) => p.id);
    console.log(
      `  ${N} scenes (${twoFileScenes} with two files), ${files} files, ${movieItems} Plex items (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );

    /** With --profile, Bun's CPU profiler on for a process: its profile in <folder>/<size>/<name>/. */
    const profiled = (name: string) => [
      ...(PROFILE_DIR ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${join(PROFILE_DIR, String(N), name)}`] : []),
      ...(HEAP_DIR ? ["--preload", join(import.meta.dir, "heap-probe.ts")] : []),
    ];
    /** With --heap, the service writes what holds its heap (bench/heap-probe.ts); a moment for it to write. */
    const heapProbe = async (pid: number) => {
      if (!HEAP_DIR) return;
      process.kill(pid, "SIGUSR2");
      await Bun.sleep(3000);
    };
    /** /healthz asked every 10 ms from the spawn until the service settled: how long the event loop made it wait. */
    let prober: ReturnType<typeof probeHealth> | undefined;
    /** Starts the service; resolves at its first right answer to a match (ms from the spawn). */
    const start = async (bunArgs: string[] = []) => {
      const port = freePort();
      const url = `http://127.0.0.1:${port}`;
      pms.providers.set(IDENTIFIER, url);
      pms.providers.set(TV_IDENTIFIER, `${url}${tvPathOf("")}`);
      const spawned = spawnService(env, port, SERVICE_ROOT, bunArgs);
      service = { proc: spawned.proc, url };
      prober = probeHealth(url, spawned.started);
      const file: ScanFile = {
        path: probe.path,
        root: probe.path.startsWith("/media/Windows/") ? "/media/Windows" : "/media/Scenes",
      };
      const body = JSON.stringify({ type: 1, ...parsedTitle(file.path), filename: relativeFilename(file) });
      const exited = () =>
        spawned.proc.exitCode !== null ? `the service exited (${spawned.proc.exitCode})` : undefined;
      const firstMatchMs = await until(
        async () => {
          const res = await fetch(`${url}/library/metadata/matches`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          }).catch(() => undefined);
          if (!res) return undefined;
          const answer = res.ok ? ((await res.json()) as any) : (await res.arrayBuffer(), undefined);
          return answer?.MediaContainer?.Metadata?.[0]?.ratingKey === probe.id
            ? performance.now() - spawned.started
            : undefined;
        },
        60_000,
        "the first right match",
        2,
        exited,
      ).catch((err: Error) => {
        if (exited()) throw err;
        return NaN;
      });
      return { url, firstMatchMs, started: spawned.started, exited };
    };
    const status = async () => json(await fetch(`${service!.url}/api/status`, { headers: auth }));
    const jobOf = (s: any, id: string) => (s.jobs as JobView[]).find((j) => j.id === id);
    const post = async (path: string, body?: unknown) =>
      json(
        await fetch(`${service!.url}${path}`, {
          method: "POST",
          headers: { ...auth, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
    /** The push queue has nothing to do now: none due, none being pushed, none waiting for PMS's fetch. */
    const queueIdle = (q: any) => q.due === 0 && !q.draining && q.waitingForPlexToFetch === 0;
    /** Until the service is done with what a start does: index built, episode folder synced, Plex indexed (and artwork), collections kept. */
    const settled = async (what: string) => {
      const t = performance.now();
      const s = await until(
        async () => {
          const s = await status();
          const done = (id: string) => {
            const j = jobOf(s, id);
            return j && j.lastRunAt !== null && !j.running;
          };
          return (
            s.indexes.stashScenes >= N &&
            // The collections job's first run (2 minutes after a start) makes or checks every collection.
            ["stash-index", "plex-index", "tv-sync", "collections"].every(done) &&
            queueIdle(s.queue) &&
            !s.reconcile?.running &&
            s
          );
        },
        180_000 + N * 10,
        `${what}: the service settling`,
        500,
        () => (service!.proc.exitCode !== null ? "the service exited" : undefined),
      );
      for (const id of ["stash-index", "plex-index", "tv-sync", "collections"])
        if (jobOf(s, id)?.lastError) console.log(`  (${id}: ${jobOf(s, id)!.lastError})`);
      const health = await prober?.stop();
      prober = undefined;
      console.log(
        `  ${what}: settled in ${((performance.now() - t) / 1000).toFixed(1)} s; /healthz first at ${fmt((health?.healthyMs ?? NaN) / 1000)} s, longest wait ${fmt(health?.maxMs ?? NaN, 0)} ms`,
      );
      return { s, seconds: (performance.now() - t) / 1000, health };
    };
    const seconds = (s: any, id: string) => (jobOf(s, id)?.lastDurationMs ?? NaN) / 1000;
    let lastLeft = "";
    /**
     * Until the push queue has nothing to do now (jobs waiting for a retry later are left: how
     * many, and why, is said once).
     */
    const drained = async (what: string, timeoutMs: number) => {
      const t = performance.now();
      await Bun.sleep(300);
      const s = await until(
        async () => {
          const s = await status();
          return queueIdle(s.queue) && s;
        },
        timeoutMs,
        what,
        200,
      ).catch(async (err: Error) => {
        console.log(`  (${err.message})`);
        return status();
      });
      const left = s.queue.pending ? `${s.queue.pending} push(es) left for a later retry: ${stuckJobs()}` : "";
      if (left && left !== lastLeft) console.log(`  ${what}: ${left}`);
      lastLeft = left;
      return { seconds: (performance.now() - t) / 1000, left: s.queue.pending as number };
    };
    /** Why the jobs left in the queue wait: their last errors (paths and ages taken out), counted; read from the service's database. */
    const stuckJobs = () => {
      const db = new Database(join(dataDir, "stash2plex.sqlite"), { readonly: true });
      try {
        const why = new Map<string, number>();
        for (const { e } of db.query<{ e: string | null }, []>("SELECT last_error AS e FROM jobs").all()) {
          const key = (e ?? "(none yet)").replace(/\/[^;]*?\d+ s ago/g, "…").slice(0, 160);
          why.set(key, (why.get(key) ?? 0) + 1);
        }
        return JSON.stringify(Object.fromEntries(why));
      } finally {
        db.close();
      }
    };

    // 1. First start on an empty data folder.
    console.log("first start (empty data folder) …");
    const first = await start(profiled("first-start"));
    const firstSettled = await settled("first start");
    const firstStart = {
      settleS: (performance.now() - first.started) / 1000,
      indexS: seconds(firstSettled.s, "stash-index"),
      tvSyncS: seconds(firstSettled.s, "tv-sync"),
      plexIndexS: seconds(firstSettled.s, "plex-index"),
      collectionsS: seconds(firstSettled.s, "collections"),
    };

    // Plex's TV section on the episode folder, its shows, seasons and episodes as the TV provider
    // serves them, each episode at its link (PMS's own TV scan, sim/plex/tv.ts, looks every
    // file's episode up in its show's list: quadratic at this size, so the tree is made here).
    console.log("filling Plex's TV section from the TV provider …");
    const tvT = performance.now();
    const tv = await fillTvSection(pms, `${service!.url}${tvPathOf("")}`, tvFolder);
    const tvSetupS = (performance.now() - tvT) / 1000;
    console.log(
      `  ${tv.shows} shows, ${tv.seasons} seasons, ${tv.episodes} episodes (${tv.links} links) in ${tvSetupS.toFixed(1)} s`,
    );
    await stop();

    // 2. Restarts with everything on disk; the second builds the episode folder from empty.
    const startMs: number[] = [];
    const startHealth: Health[] = [];
    const indexAfterRestartS: number[] = [];
    let settleAfterTvS = NaN;
    let tvEmpty = { seconds: NaN, links: 0, floorUs: NaN, where: TV_BASE };
    for (let k = 1; k <= (ONLY_RECONCILE ? 1 : STARTS); k++) {
      if (k === 2) {
        rmSync(tvFolder, { recursive: true, force: true });
        tvEmpty.floorUs = symlinkFloorUs(tvBase);
      }
      console.log(`restart ${k} of ${STARTS}${k === 2 ? " (episode folder emptied)" : ""} …`);
      const started = await start(profiled(`restart-${k}`));
      startMs.push(started.firstMatchMs);
      const { s, seconds: settleS, health } = await settled(`restart ${k}`);
      if (health) startHealth.push(health);
      indexAfterRestartS.push(seconds(s, "stash-index"));
      if (k === 1) settleAfterTvS = settleS;
      if (k === 2) {
        tvEmpty = { ...tvEmpty, seconds: seconds(s, "tv-sync"), links: linksUnder(tvFolder).size };
        console.log(`  episode folder from empty: ${fmt(tvEmpty.seconds, 1)} s (${tvEmpty.links} links)`);
      }
      if (k < (ONLY_RECONCILE ? 1 : STARTS)) await stop();
    }
    const pid = service!.proc.pid;

    /** 3d. A full reconcile with heal, through the API: its figures. */
    const reconcileWithHeal = async () => {
      console.log("reconcile with heal …");
      const reset = resetPeakRss(pid);
      let sampled = currentRssMb(pid);
      const sampler = setInterval(() => {
        try {
          sampled = Math.max(sampled, currentRssMb(pid));
        } catch {}
      }, 50);
      const s0 = (await stash.stats()).queries;
      const p0 = pms.calls.length;
      const simCpu0 = cpuMs(stash.proc.pid);
      const own0 = process.cpuUsage();
      // Stash's count, sampled: the heal's pushes start as the report is saved, and are not the reconcile's.
      const stashSamples: { at: number; queries: number }[] = [];
      let sampling = true;
      const stashSampler = (async () => {
        while (sampling) {
          const at = Date.now();
          stashSamples.push({ at, queries: (await stash.stats()).queries });
          await Bun.sleep(20);
        }
      })();
      const recT = performance.now();
      const startedAt = Date.now();
      await post("/api/reconcile", { heal: true });
      // When its heal phase began: from then on the pushes it queued run beside it (the push worker's
      // requests, not the reconcile's), while the heal's own requests (scans, matches) are its.
      let healAt = Number.POSITIVE_INFINITY;
      const done = await until(
        async () => {
          const r = await json(await fetch(`${service!.url}/api/reconcile`, { headers: auth }));
          if (r.running?.phase === "heal" && healAt === Number.POSITIVE_INFINITY) healAt = Date.now();
          return !r.running && r.report && r.report.startedAt >= startedAt - 1000 && r.report;
        },
        600_000,
        "the reconcile",
        100,
      );
      const recSeconds = (performance.now() - recT) / 1000;
      sampling = false;
      await stashSampler;
      clearInterval(sampler);
      const finishedAt = done.finishedAt as number;
      healAt = Math.min(healAt, finishedAt);
      const pushCall = (c: { method: string; path: string }) =>
        !(c.method === "POST" && /^\/library\/sections\/\d+\/refresh$/.test(c.path)) &&
        !(c.method === "PUT" && /^\/library\/metadata\/\d+\/match$/.test(c.path));
      const all = pms.calls.slice(p0).filter((c) => c.at <= finishedAt);
      const calls = all.filter((c) => c.at < healAt || !pushCall(c));
      const pushCalls = all.length - calls.length;
      // Stash: what it answered until the heal began (the heal asks Stash nothing unless scanning Stash is on).
      const stashAtEnd = Math.max(s0, ...stashSamples.filter((x) => x.at <= healAt).map((x) => x.queries));
      const ownCpu = process.cpuUsage(own0);
      const classes = new Map<string, number>();
      for (const c of calls) {
        const key = `${c.method} ${c.path.replace(/\d+(,\d+)*/g, "#")}`;
        classes.set(key, (classes.get(key) ?? 0) + 1);
      }
      console.log(
        `  PMS requests of the reconcile: ${JSON.stringify(Object.fromEntries(classes))}; of its pushes meanwhile: ${pushCalls}; heal phase ${fmt((finishedAt - healAt) / 1000, 1)} s`,
      );
      for (const kind of Object.keys(done.counts ?? {})) {
        const page = await json(await fetch(`${service!.url}/api/reconcile?kind=${kind}&limit=1`, { headers: auth }));
        console.log(`  e.g. ${kind}: ${JSON.stringify(page.gaps?.[0]).slice(0, 400)}`);
      }
      const rec = {
        seconds: recSeconds,
        healS: (finishedAt - healAt) / 1000,
        scans: calls.filter((c) => c.method === "POST" && /^\/library\/sections\/\d+\/refresh$/.test(c.path)).length,
        peakMb: reset ? peakRssMb(pid) : sampled,
        peakMethod: reset ? "VmHWM reset before the run" : "VmRSS sampled every 50 ms",
        items: done.items as number,
        scenes: done.scenes as number,
        counts: done.counts as Record<string, number>,
        healed: done.healed as Record<string, number>,
        plex: {
          listing: calls.filter((c) => c.method === "GET" && /^\/library\/sections\/\d+\/all$/.test(c.path)).length,
          reads: calls.filter((c) => c.method === "GET" && /^\/library\/metadata\/\d+(,\d+)+$/.test(c.path)).length,
          other: 0,
        },
        stash: stashAtEnd - s0,
        stashSimCpuS: (cpuMs(stash.proc.pid) - simCpu0) / 1000,
        pmsSimCpuS: (ownCpu.user + ownCpu.system) / 1e6,
      };
      rec.plex.other = calls.length - rec.plex.listing - rec.plex.reads;
      console.log(
        `  ${fmt(recSeconds, 1)} s, ${rec.items} items, gaps ${JSON.stringify(rec.counts)}, peak ${fmt(rec.peakMb, 0)} MB`,
      );
      return rec;
    };

    if (ONLY_RECONCILE) {
      // On a busy machine the start's artwork uploads may have stopped part way (PMS slow to
      // answer): the Plex index job runs again until it ends without error (at most 3 times), so
      // the reconcile measured meets the library as a settled service leaves it.
      for (let k = 0; k < 3 && jobOf(await status(), "plex-index")?.lastError; k++) {
        console.log(`  the Plex index job again (${jobOf(await status(), "plex-index")!.lastError}) …`);
        const runs0 = jobOf(await status(), "plex-index")!.runs;
        await post("/api/jobs/plex-index/run");
        await until(
          async () => {
            const j = jobOf(await status(), "plex-index")!;
            return j.runs > runs0 && !j.running;
          },
          900_000,
          "the Plex index job",
          500,
        );
      }
      // What the service holds as the reconcile starts, and whether the Plex index job (every 5 min) ran beside it.
      const rssBefore = currentRssMb(pid);
      const indexRuns = jobOf(await status(), "plex-index")!.runs;
      const rec = await reconcileWithHeal();
      console.log(
        `  the service's RSS as the reconcile started: ${fmt(rssBefore, 0)} MB; the Plex index job ran ${jobOf(await status(), "plex-index")!.runs - indexRuns} time(s) meanwhile`,
      );
      return { scenes: N, twoFileScenes, files, movieItems, rec } as Partial<Figures> as Figures;
    }

    // 3a. Idle.
    console.log(`idle ${IDLE_S} s …`);
    const atSettle = currentRssMb(pid);
    let idleMax = atSettle;
    for (let t = 0; t < IDLE_S * 2; t++) {
      await Bun.sleep(500);
      idleMax = Math.max(idleMax, currentRssMb(pid));
    }
    const idle = { atSettle, rss: currentRssMb(pid), max: idleMax, hwm: peakRssMb(pid), plexIndexPeak: NaN };
    console.log(
      `  idle RSS ${fmt(idle.rss, 0)} MB (as it settled ${fmt(atSettle, 0)}; max ${fmt(idleMax, 0)}; peak since start ${fmt(idle.hwm, 0)})`,
    );
    await heapProbe(pid);
    // The Plex index job (every 5 min; it looks at every item for artwork), run now: the RSS it peaks at.
    {
      resetPeakRss(pid);
      const runs0 = jobOf(await status(), "plex-index")!.runs;
      await post("/api/jobs/plex-index/run");
      // A run that outlasts the wait (its artwork uploads timing out against the simulator at
      // 200,000 items) gives the peak so far rather than ending the whole bench.
      await until(
        async () => {
          const j = jobOf(await status(), "plex-index")!;
          return j.runs > runs0 && !j.running;
        },
        300_000,
        "the Plex index job",
        200,
      ).catch((err: Error) => console.log(`  (${err.message}: its peak so far)`));
      idle.plexIndexPeak = peakRssMb(pid);
      console.log(`  peak RSS while the Plex index job ran: ${fmt(idle.plexIndexPeak, 0)} MB`);
      await heapProbe(pid);
    }
    if (ONLY_STARTUP) {
      const partial = { scenes: N, twoFileScenes, files, movieItems, tv: { ...tv, setupS: tvSetupS }, firstStart };
      return { ...partial, settleAfterTvS, startMs, startHealth, indexAfterRestartS, tvEmpty, idle } as Figures;
    }

    // 3b. The poller (before the reconcile, whose heal leaves pushes to retry in the background):
    // polls triggered with nothing changed, then with a few scenes edited.
    console.log("polls …");
    const mutate = async (id: string, input: Record<string, unknown>) => {
      const res = await json(
        await fetch(`${stash.url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            query: "mutation Edit($input: SceneUpdateInput!) { sceneUpdate(input: $input) { id } }",
            variables: { input: { id, ...input } },
          }),
        }),
      );
      if (res.errors) throw new Error(`sceneUpdate ${id}: ${JSON.stringify(res.errors)}`);
    };
    /**
     * A window of POLL_RUNS × POLL_GAP_MS, with (or without) a poll triggered at the start of each
     * gap: the service's CPU and Stash's queries over it, and the polls that ran.
     */
    const window = async (polls: boolean) => {
      const runs0 = jobOf(await status(), "poll")!.runs;
      const q0 = (await stash.stats()).queries;
      const c0 = threadCpuMs(pid);
      for (let k = 0; k < POLL_RUNS; k++) {
        if (polls) await post("/api/jobs/poll/run");
        await Bun.sleep(POLL_GAP_MS);
      }
      const cpu = cpuSpentMs(c0, threadCpuMs(pid));
      const q1 = (await stash.stats()).queries;
      const s = await until(
        async () => {
          const s = await status();
          return !jobOf(s, "poll")!.running && s;
        },
        60_000,
        "the polls",
        50,
      );
      const j = jobOf(s, "poll")!;
      return {
        cpu,
        queries: q1 - q0,
        runs: j.runs - runs0,
        read: s.poller.lastPoll?.read as number,
        swept: s.poller.lastPoll?.swept as number,
        wallMs: j.lastDurationMs as number,
      };
    };
    let edit = 0;
    /** One poll after `edits` scenes were edited: what it read. */
    const onePoll = async (edits: number) => {
      for (let e = 0; e < edits; e++)
        await mutate(editable[edit++ % editable.length]!, { title: `Scale edit ${edit}` });
      const runs0 = jobOf(await status(), "poll")!.runs;
      await post("/api/jobs/poll/run");
      const s = await until(
        async () => {
          const s = await status();
          const j = jobOf(s, "poll")!;
          return j.runs > runs0 && !j.running && s;
        },
        60_000,
        "a poll",
        50,
      );
      await drained("the edits' pushes", 60_000);
      return { read: s.poller.lastPoll.read as number, swept: s.poller.lastPoll.swept as number };
    };
    await onePoll(0); // the first after a start may differ: not counted
    const idleWindows: Awaited<ReturnType<typeof window>>[] = [];
    const pollWindows: Awaited<ReturnType<typeof window>>[] = [];
    for (let k = 0; k < POLLS; k++) {
      idleWindows.push(await window(false));
      pollWindows.push(await window(true));
    }
    const few: Awaited<ReturnType<typeof onePoll>>[] = [];
    for (let k = 0; k < POLLS; k++) few.push(await onePoll(FEW));
    console.log(
      `  windows (idle | polls): ${idleWindows.map((w, k) => `${fmt(w.cpu, 1)} ms ${w.queries} q | ${fmt(pollWindows[k]!.cpu, 1)} ms ${pollWindows[k]!.queries} q ${pollWindows[k]!.runs} polls`).join("; ")}`,
    );
    const perPoll = (pick: (w: (typeof pollWindows)[number]) => number) =>
      pollWindows.map((w, k) => (pick(w) - pick(idleWindows[k]!)) / Math.max(1, w.runs));
    const poll = {
      idle: {
        read: pollWindows.map((w) => w.read),
        queries: perPoll((w) => w.queries),
        cpuMs: median(perPoll((w) => w.cpu)),
        wallMs: pollWindows.map((w) => w.wallMs),
        runs: pollWindows.map((w) => w.runs),
      },
      few: { read: few.map((w) => w.read) },
      swept: [...pollWindows, ...few].filter((w) => w.swept > 0).length,
    };

    // 3c. One scene's date to another year: its link moves, nothing else in the folder changes.
    console.log("one scene's move …");
    const token = `{s2p-st-${mover.id}}`;
    const before = linksUnder(tvFolder);
    const oldLink = [...before.keys()].find((k) => k.includes(token));
    const moveT = performance.now();
    await mutate(mover.id, { date: `2015${mover.date.slice(4)}` });
    await post("/api/jobs/poll/run");
    // Its show's Season 2015 folder holds its link once moved (only that folder is read meanwhile).
    const season2015 = join(tvFolder, oldLink?.split("/")[0] ?? "", "Season 2015");
    await until(
      () =>
        oldLink &&
        !lstatSync(join(tvFolder, oldLink), { throwIfNoEntry: false }) &&
        (() => {
          try {
            return readdirSync(season2015).some((name) => name.includes(token));
          } catch {
            return false;
          }
        })(),
      60_000,
      "the moved link",
      100,
    ).catch(() => console.log("  (the link did not move)"));
    const moveSeconds = (performance.now() - moveT) / 1000;
    const after = linksUnder(tvFolder);
    const differing = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
    const move = {
      scene: mover.id,
      differing: differing.length,
      own: differing.length > 0 && differing.every((k) => k.includes(token)),
      seconds: moveSeconds,
    };
    await drained("the move's push", 60_000);

    // 3d. A full reconcile with heal, through the API.
    const rec = await reconcileWithHeal();
    const healDrain = await drained("the heal's pushes", 120_000 + N * 5);

    // 3e. Every dashboard page (src/ui/routes.ts), with the admin token: median of 5 after one.
    console.log("dashboard pages …");
    const scenePage = editable[0]!;
    const paths = [
      "/ui",
      "/ui/queue",
      `/ui/scenes/${scenePage}`,
      "/ui/outages",
      "/ui/gaps",
      "/ui/gaps?kind=stale",
      "/ui/writeback",
      `/ui/paths?path=${encodeURIComponent(probe.path)}`,
      "/ui/jobs",
      "/ui/settings",
      "/ui/live/overview",
      "/ui/live/queue",
      `/ui/live/scenes/${scenePage}`,
      "/ui/live/outages",
      "/ui/live/writeback",
      "/ui/live/reconcile",
      "/ui/live/sync",
    ];
    const pages: Figures["pages"] = [];
    for (const path of paths) {
      const ms: number[] = [];
      let bytes = 0;
      for (let k = 0; k < 6; k++) {
        const t = performance.now();
        const res = await fetch(`${service!.url}${path}`, { headers: auth });
        if (res.status !== 200 || !res.url.endsWith(path))
          throw new Error(`${path} answered ${res.status} from ${res.url}`);
        bytes = (await res.arrayBuffer()).byteLength;
        if (k > 0) ms.push(performance.now() - t);
      }
      pages.push({ path, ms: median(ms), bytes });
    }

    // 3f. A PMS scan through the provider (as bench/provider.ts): files spread over the library,
    // SCAN_ROUNDS times (the median round counts: the machine is shared).
    console.log(`a PMS scan of ${SCAN_FILES} files, ${SCAN_ROUNDS} times …`);
    const scanFilesList = spreadFiles([...owner.keys()], SCAN_FILES, N);
    const rounds: { seconds: number; cpuMs: number }[] = [];
    const matchMs: number[] = [];
    let wrong = 0;
    let unmatched = 0;
    let violations = 0;
    for (let round = 0; round < SCAN_ROUNDS; round++) {
      const c0 = cpuMs(pid);
      const scan = await scanFiles(service!.url, scanFilesList, { concurrency: 32 });
      rounds.push({ seconds: scan.seconds, cpuMs: cpuMs(pid) - c0 });
      for (const r of scan.results) {
        const id = owner.get(r.file.path);
        if (id && !r.match) unmatched++;
        if (r.match && r.match.ratingKey !== id) wrong++;
        matchMs.push(r.matchMs);
      }
      violations += scan.violations.length;
      console.log(`  ${fmt(scanFilesList.length / scan.seconds, 0)} files/s`);
    }
    const scanFigures = {
      files: scanFilesList.length,
      seconds: median(rounds.map((r) => r.seconds)),
      cpuUsPerFile: (median(rounds.map((r) => r.cpuMs)) * 1000) / scanFilesList.length,
      p50: median(matchMs),
      p99: percentile(matchMs, 99),
      wrong,
      unmatched,
      violations,
    };

    return {
      scenes: N,
      twoFileScenes,
      files,
      movieItems,
      tv: { ...tv, setupS: tvSetupS },
      firstStart,
      settleAfterTvS,
      startMs,
      startHealth,
      indexAfterRestartS,
      tvEmpty,
      idle,
      rec: { ...rec, healDrainS: healDrain.seconds, healLeft: healDrain.left },
      poll,
      move,
      pages,
      scan: scanFigures,
    };
  } finally {
    await stop();
    stash.proc.kill("SIGTERM");
    await pms.stop();
    rmSync(work, { recursive: true, force: true });
    rmSync(tvBase, { recursive: true, force: true });
  }
}

/** Asks /healthz every 10 ms until stopped: when it first answered, and the longest an answer took after that. */
function probeHealth(url: string, started: number) {
  let on = true;
  let healthyMs = NaN;
  const waits: number[] = [];
  const loop = (async () => {
    while (on) {
      const t = performance.now();
      const ok = await fetch(`${url}/healthz`)
        .then(async (r) => (await r.arrayBuffer(), r.ok))
        .catch(() => false);
      if (ok && Number.isNaN(healthyMs)) healthyMs = performance.now() - started;
      else if (ok) waits.push(performance.now() - t);
      await Bun.sleep(10);
    }
  })();
  return {
    async stop(): Promise<Health> {
      on = false;
      await loop;
      return { healthyMs, maxMs: Math.max(0, ...waits), p99Ms: percentile(waits, 99) };
    },
  };
}

/** Plex's type numbers, as `type=` in a section listing names them (sim/plex/server.ts). */
const TYPE_OF_NUMBER: Record<string, string> = { "1": "movie", "2": "show", "3": "season", "4": "episode" };

/**
 * The PMS simulator, its section listings (`/library/sections/{id}/all`, no filter) answered from
 * a list of the section's items of that type kept until an item is added or removed, instead of
 * filtering every item of every section for each page: at 200,000 scenes (~580,000 items with the
 * TV section) one page cost ~50 ms of the simulator, so paging the library was quadratic. The
 * answers (and the calls counted) are the same; filtered listings go the simulator's own way.
 */
class ListingPmsSim extends PmsSim {
  private itemsVersion = 0;
  private lists = new Map<string, { version: number; items: SimItem[] }>();
  /** A TV section's season folders as last read: their mtime and files. */
  private seasonFolders = new Map<string, { mtimeMs: number; files: string[] }>();

  /**
   * The files a scan of a TV section finds: its show and season folders, each season folder read
   * again only when its mtime moved (sim/plex/tv.ts's walk stats every link at every partial
   * scan, seconds at this size). Other sections as the simulator finds them.
   */
  override filesOf(sectionId: string): string[] {
    const section = this.sections.find((s) => s.key === sectionId);
    if (section?.type !== "show" || this.disk.has(sectionId)) return super.filesOf(sectionId);
    const out: string[] = [];
    const dirs = (path: string) => {
      try {
        return readdirSync(path, { withFileTypes: true }).filter((e) => e.isDirectory());
      } catch {
        return [];
      }
    };
    for (const root of section.locations)
      for (const show of dirs(root))
        for (const season of dirs(join(root, show.name))) {
          const path = join(root, show.name, season.name);
          const mtimeMs = lstatSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
          let known = this.seasonFolders.get(path);
          if (known?.mtimeMs !== mtimeMs) {
            const files = readdirSync(path, { withFileTypes: true }).filter((e) => !e.isDirectory());
            known = { mtimeMs, files: files.map((e) => join(path, e.name)) };
            this.seasonFolders.set(path, known);
          }
          out.push(...known.files);
        }
    return out;
  }
  constructor() {
    super();
    const items = this.items;
    const set = items.set.bind(items);
    const remove = items.delete.bind(items);
    items.set = (key, item) => {
      if (!items.has(key)) this.itemsVersion++;
      return set(key, item);
    };
    items.delete = (key) => {
      this.itemsVersion++;
      return remove(key);
    };
  }
  protected override async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const q = url.searchParams;
    const section = /^\/library\/sections\/(\d+)\/all$/.exec(url.pathname)?.[1];
    if (
      req.method !== "GET" ||
      !section ||
      q.has("updatedAt>") ||
      q.has("guid") ||
      // Another type (collections, type=18) is the simulator's own to answer: taken for the section's
      // items, a listing of collections showed none of ours, and every pass made them all again.
      (q.has("type") && !TYPE_OF_NUMBER[q.get("type")!]) ||
      this.latencyMs ||
      (req.headers.get("x-plex-token") ?? q.get("X-Plex-Token")) !== this.token
    )
      return super.handle(req);
    this.calls.push({ method: req.method, path: url.pathname, query: url.search, at: Date.now() });
    const own = this.sections.find((s) => s.key === section);
    const type = TYPE_OF_NUMBER[q.get("type") ?? ""] ?? (own?.type === "show" ? "show" : "movie");
    const key = `${section}/${type}`;
    let list = this.lists.get(key);
    if (list?.version !== this.itemsVersion) {
      list = {
        version: this.itemsVersion,
        items: [...this.items.values()].filter(
          (i) => i.sectionId === section && (i.type ?? "movie") === type && i.updatedAt > 0,
        ),
      };
      this.lists.set(key, list);
    }
    return (this as unknown as { page(req: Request, all: SimItem[], listing: boolean): Response }).page(
      req,
      list.items,
      true,
    );
  }
}

/** `count` files spread evenly over the library (the cost per file must not depend on where), 2% unknown to Stash. */
function spreadFiles(all: string[], count: number, scenes: number): ScanFile[] {
  const knownCount = Math.min(all.length, Math.round(count * 0.98));
  const stride = all.length / knownCount;
  const known = Array.from({ length: knownCount }, (_, i) => all[Math.floor(i * stride)]!);
  const unknown = Array.from(
    { length: Math.round(count * 0.02) },
    (_, i) => `/media/Scenes/Unsorted/not-in-stash-${scenes}-${i}.mp4`,
  );
  const paths = known.flatMap((p, i) => (i % 49 === 48 && unknown.length ? [p, unknown.pop()!] : [p])).concat(unknown);
  return paths.map((path) => ({ path, root: path.startsWith("/media/Windows/") ? "/media/Windows" : "/media/Scenes" }));
}

/** The filesystem's own cost of a symbolic link where the episode folder is (a bare loop, as bench/episode-folder.ts). */
function symlinkFloorUs(base: string): number {
  const bare = mkdtempSync(join(base, "bare-"));
  const t = performance.now();
  for (let i = 0; i < 5000; i++)
    symlinkSync(`../../media/${i}.mp4`, join(bare, `Show - S2023E0${i} - Title {s2p-st-${i}}.mp4`));
  const us = ((performance.now() - t) * 1000) / 5000;
  rmSync(bare, { recursive: true, force: true });
  return us;
}

/** A provider's item as PMS keeps its fields (sim/plex/tv.ts strip). */
function strip(meta: PlexMetadata): Record<string, any> {
  const { Children: _c, ratingKey: _r, key: _k, ...rest } = meta as PlexMetadata & Record<string, any>;
  for (const k of Object.keys(rest)) if (/^(parent|grandparent)(RatingKey|Key)$/.test(k)) delete rest[k];
  return rest;
}

/**
 * Plex's TV section on the episode folder: every show folder's show with its seasons and the
 * episodes that have a link, each as the TV provider serves it (show with includeChildren=1,
 * episodes from /grandchildren in pages of 1,000), placed at its link.
 */
async function fillTvSection(pms: PmsSim, tvUrl: string, folder: string) {
  const links = linksUnder(folder);
  // Read from the folder at each scan (ListingPmsSim.filesOf).
  pms.addSection({ key: "2", title: "Sites", type: "show", agent: TV_IDENTIFIER, locations: [folder] });
  const linkOf = new Map<string, string>();
  /** Each show's folder (absolute), by show id. */
  const showIds = new Map<string, string>();
  for (const rel of links.keys()) {
    const episode = /\{s2p-((?:st|sn|gr)-\d+)\}[^/]*$/.exec(rel)?.[1];
    if (episode) linkOf.set(episode, join(folder, rel));
    const show = /^[^/]*\{s2p-((?:st|sn|gr)\d+)\}\//.exec(rel)?.[1];
    if (show) showIds.set(show, join(folder, rel.split("/")[0]!));
  }
  // PMS knows each show by its folder (sim/plex/tv.ts keeps that map for the shows its scans made).
  const showOfFolder = (pms.tv as unknown as { showOfFolder: Map<string, string> }).showOfFolder;
  const get = async (path: string, headers: Record<string, string> = {}) =>
    (await json(await fetch(`${tvUrl}${path}`, { headers: { accept: "application/json", ...headers } })))
      .MediaContainer;
  let seasons = 0;
  let episodes = 0;
  for (const [showId, showFolder] of showIds) {
    const meta = (await get(`/library/metadata/${showId}?includeChildren=1`)).Metadata[0] as PlexMetadata;
    const show = pms.createItem("2", { type: "show", guid: meta.guid, title: meta.title, fields: strip(meta) });
    showOfFolder.set(`2\0${showFolder}`, show.ratingKey);
    const seasonOf = new Map<number, string>();
    for (const s of (meta.Children?.Metadata ?? []) as PlexMetadata[]) {
      const season = pms.createItem("2", {
        type: "season",
        parentRatingKey: show.ratingKey,
        index: s.index,
        guid: s.guid,
        title: s.title,
        fields: strip(s),
      });
      seasonOf.set(s.index!, season.ratingKey);
      seasons++;
    }
    for (let start = 0; ; start += 1000) {
      const page = await get(`/library/metadata/${showId}/grandchildren`, {
        "X-Plex-Container-Start": String(start),
        "X-Plex-Container-Size": "1000",
      });
      for (const e of (page.Metadata ?? []) as PlexMetadata[]) {
        const link = linkOf.get(e.ratingKey);
        const season = seasonOf.get(e.parentIndex!);
        if (!link || !season) continue;
        pms.createItem("2", {
          type: "episode",
          parentRatingKey: season,
          index: e.index,
          guid: e.guid,
          title: e.title,
          fields: strip(e),
          files: [link],
        });
        episodes++;
      }
      if (!page.Metadata?.length || start + 1000 >= page.totalSize) break;
    }
  }
  return { shows: showIds.size, seasons, episodes, links: linkOf.size };
}

// --- run both sizes, one after the other, and report ---

const runs: Figures[] = [];
if (ONLY_RECONCILE) {
  const { rec } = await measure(SCENES);
  const requests = rec.plex.listing + rec.plex.reads + rec.plex.other + rec.stash;
  console.log(
    `reconcile with heal at ${SCENES} scenes: ${fmt(rec.seconds, 1)} s, peak RSS ${fmt(rec.peakMb, 0)} MB (${rec.peakMethod}), ` +
      `${fmt((requests / rec.items) * 1000, 1)} requests per 1,000 items (${rec.plex.listing} + ${rec.plex.reads} + ${rec.plex.other}; Stash ${rec.stash}), heal ${fmt(rec.healS, 1)} s`,
  );
  process.exit(0);
}
for (const size of [BASELINE, SCENES]) runs.push(await measure(size));
const [base, big] = runs as [Figures, Figures];

const n = (x: number) => x.toLocaleString("en");
const s1 = (x: number) => `${fmt(x, 1)} s`;
const mb = (x: number) => `${fmt(x, 0)} MB`;
const yes = (ok: boolean) => (ok ? "yes" : "**no**");
const ratio = (a: number, b: number) => fmt(a / b);
const perThousand = (f: Figures) =>
  ((f.rec.plex.listing + f.rec.plex.reads + f.rec.plex.other + f.rec.stash) / f.rec.items) * 1000;
const tvItems = (f: Figures) => f.tv.shows + f.tv.seasons + f.tv.episodes;
const slowest = (f: Figures) => f.pages.reduce((a, b) => (b.ms > a.ms ? b : a));
const largest = (f: Figures) => f.pages.reduce((a, b) => (b.bytes > a.bytes ? b : a));
const rate = (f: Figures) => f.scan.files / f.scan.seconds;
const same = (a: number[], b: number[]) => median(a) === median(b);
const pollRead = (xs: number[]) => `${fmt(median(xs), 0)} (max ${Math.max(...xs)})`;

if (ONLY_STARTUP) {
  // Start-up and idle only: printed, BENCHMARKS.md left alone (its scale section is the whole run's).
  const startup: string[][] = [
    [
      `idle RSS ${IDLE_S} s after settling (as it settled; max meanwhile)`,
      ...runs.map((f) => `${mb(f.idle.rss)} (${mb(f.idle.atSettle)}; ${mb(f.idle.max)})`),
    ],
    ["peak RSS while the Plex index job runs, triggered", ...runs.map((f) => mb(f.idle.plexIndexPeak))],
    ["peak RSS of the service since its start", ...runs.map((f) => mb(f.idle.hwm))],
    [
      "start-up to the first right match (each)",
      ...runs.map((f) => `${f.startMs.map((x) => fmt(x / 1000, 2)).join(", ")} s`),
    ],
    [
      "restarts: /healthz first answered; longest wait until settled (each)",
      ...runs.map(
        (f) =>
          `${f.startHealth.map((h) => fmt(h.healthyMs / 1000)).join(", ")} s; ${f.startHealth.map((h) => fmt(h.maxMs, 0)).join(", ")} ms`,
      ),
    ],
    [
      "restarts: the stash-index job's first run (each)",
      ...runs.map((f) => `${f.indexAfterRestartS.map((x) => fmt(x, 1)).join(", ")} s`),
    ],
    [
      "TV episode folder built from empty (links)",
      ...runs.map((f) => `${s1(f.tvEmpty.seconds)} (${n(f.tvEmpty.links)} links)`),
    ],
    [
      "first start: settled (stash index; tv-sync; Plex index + artwork)",
      ...runs.map(
        (f) =>
          `${s1(f.firstStart.settleS)} (${s1(f.firstStart.indexS)}; ${s1(f.firstStart.tvSyncS)}; ${s1(f.firstStart.plexIndexS)})`,
      ),
    ],
  ];
  console.log(
    [
      `Command: \`${commandLine("bench/scale.ts")}\`; ${machine()}`,
      "",
      `| | ${n(BASELINE)} | ${n(SCENES)} |`,
      "|---|---|---|",
      ...startup.map((r) => `| ${r.join(" | ")} |`),
    ].join("\n"),
  );
  process.exit(0);
}

const rows: string[][] = [
  [
    "library: scenes (with two files) / Plex items (movies + TV shows, seasons, episodes)",
    ...runs.map((f) => `${n(f.scenes)} (${n(f.twoFileScenes)}) / ${n(f.movieItems)} + ${n(tvItems(f))}`),
    "",
    "",
  ],
  [
    `idle RSS, everything on: ${IDLE_S} s after settling (as it settled; max meanwhile)`,
    ...runs.map((f) => `${mb(f.idle.rss)} (${mb(f.idle.atSettle)}; ${mb(f.idle.max)})`),
    "< 200 MB",
    yes(big.idle.rss < 200),
  ],
  [
    "… peak RSS while idle when the Plex index job runs (every 5 min; it looks at every item for artwork), triggered",
    ...runs.map((f) => mb(f.idle.plexIndexPeak)),
    "< 200 MB",
    yes(big.idle.plexIndexPeak < 200),
  ],
  [
    "peak RSS during a full reconcile with heal (service)",
    ...runs.map((f) => mb(f.rec.peakMb)),
    "< 350 MB",
    yes(big.rec.peakMb < 350),
  ],
  [
    "full reconcile with heal, wall time (API call to report)",
    ...runs.map((f) => s1(f.rec.seconds)),
    "< 30 s",
    yes(big.rec.seconds < 30),
  ],
  [
    "… requests per 1,000 items, Plex + Stash (listing pages + batched reads + other; Stash queries)",
    ...runs.map(
      (f) =>
        `${fmt(perThousand(f), 1)} (${fmt((f.rec.plex.listing / f.rec.items) * 1000, 1)} + ${fmt((f.rec.plex.reads / f.rec.items) * 1000, 1)} + ${fmt((f.rec.plex.other / f.rec.items) * 1000, 1)}; ${fmt((f.rec.stash / f.rec.items) * 1000, 1)})`,
    ),
    "≤ 10",
    yes(perThousand(big) <= 10),
  ],
  [
    `PMS scan through the provider, ${n(big.scan.files)} files: files per second, median of ${SCAN_ROUNDS} (big ÷ baseline)`,
    fmt(rate(base), 0),
    `${fmt(rate(big), 0)} (${ratio(rate(big), rate(base))})`,
    "≥ 0.90 of the baseline's",
    yes(rate(big) / rate(base) >= 0.9),
  ],
  [
    "… service CPU per scanned file (big ÷ baseline); match p50 / p99; wrong / unmatched",
    `${fmt(base.scan.cpuUsPerFile, 0)} µs; ${fmt(base.scan.p50)} / ${fmt(base.scan.p99)} ms; ${base.scan.wrong} / ${base.scan.unmatched}`,
    `${fmt(big.scan.cpuUsPerFile, 0)} µs (${ratio(big.scan.cpuUsPerFile, base.scan.cpuUsPerFile)}); ${fmt(big.scan.p50)} / ${fmt(big.scan.p99)} ms; ${big.scan.wrong} / ${big.scan.unmatched}`,
    "0 / 0 wrong / unmatched",
    yes(big.scan.wrong === 0 && big.scan.unmatched === 0),
  ],
  [
    `TV episode folder built from empty (a start's tv-sync run; links), in ${TV_BASE}`,
    ...runs.map((f) => `${s1(f.tvEmpty.seconds)} (${n(f.tvEmpty.links)} links)`),
    "< 60 s",
    yes(big.tvEmpty.seconds < 60),
  ],
  [
    "… the filesystem's floor there (a bare symlink loop)",
    ...runs.map((f) => `${fmt(f.tvEmpty.floorUs, 0)} µs a link = ${s1((f.tvEmpty.floorUs * f.tvEmpty.links) / 1e6)}`),
    "",
    "",
  ],
  [
    "one scene's date to another year: episode-folder entries that differ before/after (all its own?)",
    ...runs.map(
      (f) => `${f.move.differing} (${f.move.own ? "all its own" : "NOT only its own"}), ${s1(f.move.seconds)}`,
    ),
    "only its own links",
    yes(big.move.own),
  ],
  [
    `start-up to the first right match, everything on disk (median of ${STARTS}: each)`,
    ...runs.map((f) => `${fmt(median(f.startMs) / 1000, 2)} s (${f.startMs.map((x) => fmt(x / 1000, 2)).join(", ")})`),
    "< 1 s",
    yes(median(big.startMs) < 1000),
  ],
  [
    `poll, nothing changed: scenes read, Stash queries per poll (median of ${POLLS} rounds of ${POLL_RUNS})`,
    ...runs.map((f) => `${pollRead(f.poll.idle.read)}, ${fmt(median(f.poll.idle.queries), 1)}`),
    "the same at both sizes",
    yes(
      same(big.poll.idle.read, base.poll.idle.read) &&
        Math.abs(median(big.poll.idle.queries) - median(base.poll.idle.queries)) < 0.5,
    ),
  ],
  [
    "… service CPU per poll (big ÷ baseline); poll wall time incl. the simulator's answer",
    `${fmt(base.poll.idle.cpuMs, 1)} ms; ${fmt(median(base.poll.idle.wallMs), 0)} ms`,
    `${fmt(big.poll.idle.cpuMs, 1)} ms (${ratio(big.poll.idle.cpuMs, base.poll.idle.cpuMs)}); ${fmt(median(big.poll.idle.wallMs), 0)} ms`,
    "CPU ≤ 1.25 × the baseline's (+ 0.5 ms)",
    yes(big.poll.idle.cpuMs <= 1.25 * base.poll.idle.cpuMs + 0.5),
  ],
  [
    `poll, ${FEW} scenes changed: scenes read (median of ${POLLS})`,
    ...runs.map((f) => pollRead(f.poll.few.read)),
    `≤ 2 × ${FEW} + 2 at both sizes (the poller's bound, bench/poll-cost.ts)`,
    yes(Math.max(...big.poll.few.read, ...base.poll.few.read) <= 2 * FEW + 2),
  ],
  [
    `dashboard: slowest of ${big.pages.length} pages under /ui, median of 5`,
    ...runs.map((f) => `${fmt(slowest(f).ms, 1)} ms (${slowest(f).path})`),
    "< 300 ms",
    yes(slowest(big).ms < 300),
  ],
  [
    "dashboard: largest page",
    ...runs.map((f) => `${fmt(largest(f).bytes / 1024, 1)} KB (${largest(f).path})`),
    "< 200 KB",
    yes(largest(big).bytes < 200 * 1024),
  ],
];

const detail: string[][] = [
  [
    "first start on an empty data folder: settled (index of Stash's files; tv-sync; Plex index + artwork of every item; the collections job, 2 min after the start)",
    ...runs.map(
      (f) =>
        `${s1(f.firstStart.settleS)} (${s1(f.firstStart.indexS)}; ${s1(f.firstStart.tvSyncS)}; ${s1(f.firstStart.plexIndexS)}; ${s1(f.firstStart.collectionsS)})`,
    ),
  ],
  [
    "restart after Plex's TV section was filled: settled (artwork of every episode)",
    ...runs.map((f) => s1(f.settleAfterTvS)),
  ],
  ["Plex's TV section filled from the TV provider (bench set-up)", ...runs.map((f) => s1(f.tv.setupS))],
  [
    "restarts: /healthz first answered; the longest /healthz wait from then until settled (each)",
    ...runs.map(
      (f) =>
        `${f.startHealth.map((h) => fmt(h.healthyMs / 1000)).join(", ")} s; ${f.startHealth.map((h) => fmt(h.maxMs, 0)).join(", ")} ms`,
    ),
  ],
  [
    "restarts: the index of Stash's files caught up (its file kept from the last run, src/stash/file-index-file.ts: one delta from its bookmark)",
    ...runs.map((f) => `${f.indexAfterRestartS.map((x) => fmt(x, 1)).join(", ")} s`),
  ],
  [
    "reconcile: scenes / items compared; gaps; healed",
    ...runs.map(
      (f) => `${n(f.rec.scenes)} / ${n(f.rec.items)}; ${JSON.stringify(f.rec.counts)}; ${JSON.stringify(f.rec.healed)}`,
    ),
  ],
  [
    "reconcile: its heal phase (of it: Plex asked to scan folders, each a scan in the PMS simulator)",
    ...runs.map((f) => `${s1(f.rec.healS)} (${f.rec.scans} scans)`),
  ],
  [
    "reconcile: CPU of the Stash simulator / of the PMS simulator (bench process) meanwhile",
    ...runs.map((f) => `${s1(f.rec.stashSimCpuS)} / ${s1(f.rec.pmsSimCpuS)}`),
  ],
  [
    "the heal's pushes: pushed (after the report); left waiting for a retry",
    ...runs.map((f) => `${s1(f.rec.healDrainS)}; ${f.rec.healLeft}`),
  ],
  ["peak RSS method", ...runs.map((f) => f.rec.peakMethod)],
  ["peak RSS of the service since its start (at the end of the idle time)", ...runs.map((f) => mb(f.idle.hwm))],
  ["polls that included a sweep (every 15 min)", ...runs.map((f) => String(f.poll.swept))],
];
const pageRows = big.pages.map((p, i) => {
  const b = base.pages[i]!;
  return [
    `\`${p.path.replace(/\?path=.*/, "?path=…")}\``,
    `${fmt(b.ms, 1)} ms, ${fmt(b.bytes / 1024, 1)} KB`,
    `${fmt(p.ms, 1)} ms, ${fmt(p.bytes / 1024, 1)} KB`,
  ];
});

const markdown = [
  `## Scale: ${n(SCENES)} scenes beside ${n(BASELINE)} (issue 26)`,
  "",
  `Command: \`${commandLine("bench/scale.ts")}\` (seed ${SEED}; ${STARTS} restarts; drift ${DRIFT * 100}% of the scenes hand-edited in Plex; ${POLLS} polls each way; ${SCAN_ROUNDS} scans of ${n(SCAN_FILES)} files, 32 at once).`,
  `Machine: ${machine()}. Per size, one after the other: the service (\`bun src/main.ts serve\`) and the Stash simulator (its own process, \`--ordered-pages\`) each in their own process; the PMS simulator and the drivers in the bench process.`,
  "Everything on: the index of Stash's files, a TV library (studio layout) with its episode folder and Plex's TV section on it, write-back (webhook, notifications, catch-up), the Plex index and artwork; polls are triggered by the bench (`SYNC_POLL_SECONDS=600`) and no reconcile is scheduled after a start.",
  "",
  `| measure | ${n(BASELINE)} | ${n(SCENES)} | goal | met? |`,
  "|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.join(" | ")} |`),
  "",
  `"met?" is judged at ${n(SCENES)} scenes (for per-file and per-poll figures, against the baseline). More:`,
  "",
  `| | ${n(BASELINE)} | ${n(SCENES)} |`,
  "|---|---|---|",
  ...detail.map((r) => `| ${r.join(" | ")} |`),
  "",
  "Dashboard pages (median of 5 after one, with the admin token; times measured by the client over loopback):",
  "",
  `| page | ${n(BASELINE)} | ${n(SCENES)} |`,
  "|---|---|---|",
  ...pageRows.map((r) => `| ${r.join(" | ")} |`),
  "",
  "Plex holds every Stash file as a movie item showing what the provider serves (filled directly, as",
  "bench/reconcile.ts does, then given its artwork by the service's first start), and every linked",
  "episode in a TV section on the episode folder, as the TV provider serves it. The reconcile's",
  "requests are counted at the simulators from the API call until its report is saved: PMS's, all but",
  "those of the pushes its heal queued (they run beside the heal's scans); Stash's until the heal began",
  "(sampled every 20 ms; anything else the service asked meanwhile counts too). A poll's CPU is the service's CPU in",
  `a window of ${POLL_RUNS} polls triggered ${POLL_GAP_MS} ms apart less that of an idle window of the same length, per poll`,
  "(the median of the rounds); its Stash queries likewise.",
  "The Stash simulator's `--ordered-pages` cuts pages of the whole library from an id order kept once",
  "(without it, it sorts the library for every page: ~45 ms a page at 200,000 scenes, ~40 s of",
  "simulator CPU for one reconcile's pages; Stash answers from its primary key).",
].join("\n");
report("scale", markdown);
