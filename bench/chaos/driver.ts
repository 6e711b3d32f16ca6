/**
 * The chaos soak (issue 27): edits in two Stashes, viewings in Plex, and faults, all from one
 * seeded generator, against the real service process; then, with everything up, the wait for
 * convergence and the check of what Plex, the episode folder and Stash's play history show.
 * Shared by `bun bench/chaos.ts` (the long soak) and test/e2e/chaos.test.ts (a short one).
 */
import { rng } from "../../sim/rng.ts";
import type { SimScene } from "../../sim/stash/library.ts";
import { describe, findingCount, type Findings, inspect } from "./check.ts";
import { type Fault, FaultRunner, type FaultKind, planFaults } from "./faults.ts";
import { ChaosTrace } from "./trace.ts";
import { ChaosWorld, type Instance, STASH_HOOK_TOKEN } from "./world.ts";

export interface ChaosOptions {
  edits: number;
  kills: number;
  /** Outages of each kind: Plex down, Plex restarted, Plex slow, a Stash 503, a Stash timing out. */
  outagesPerKind: number;
  maxOutageMs: number;
  /** Scenes in each Stash. */
  scenes: number;
  seed: number;
  editsPerSecond: number;
  /** One viewing in Plex every this many edits. */
  viewEvery: number;
  convergeTimeoutMs: number;
  log?: (line: string) => void;
}

export interface ChaosResult {
  edits: number;
  editedScenes: number;
  viewings: number;
  faults: Map<FaultKind, number>;
  kills: number;
  /** Every fault that was not a kill or the clock's change: Plex down, restarted, slow; a Stash 503 or timing out. */
  outages: number;
  crashes: string[];
  lives: number;
  findings: Findings;
  converged: boolean;
  convergeSeconds: number;
  runSeconds: number;
  plexCallsPerScene: number;
  refreshesPerEdit: number;
}

const EDIT_KINDS = ["title", "title", "tags", "performers", "date", "image", "studio"] as const;

/** Makes one edit as a user in Stash's UI would; answers its kind. */
function edit(rand: () => number, instance: Instance, scene: SimScene, n: number): string {
  const library = instance.stash.library;
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
  const some = <T>(list: readonly T[], most: number) => [
    ...new Set(Array.from({ length: Math.floor(rand() * (most + 1)) }, () => pick(list))),
  ];
  const kind = pick(EDIT_KINDS);
  const all = [...library.scenes.values()];
  switch (kind) {
    case "title":
      library.update(scene.id, { title: `Chaos ${instance.id} ${n}` });
      break;
    case "tags":
      library.update(scene.id, { tags: some(uniqueById(all.flatMap((s) => s.tags)), 3) });
      break;
    case "performers":
      library.update(scene.id, { performers: some(uniqueById(all.flatMap((s) => s.performers)), 2) });
      break;
    case "date": {
      const year = 2015 + Math.floor(rand() * 10);
      const date = `${year}-${String(1 + Math.floor(rand() * 12)).padStart(2, "0")}-${String(1 + Math.floor(rand() * 28)).padStart(2, "0")}`;
      library.update(scene.id, { date: rand() < 0.05 ? null : date });
      break;
    }
    case "image":
      library.replaceScreenshot(scene.id);
      break;
    case "studio":
      library.update(scene.id, { studio: rand() < 0.05 ? null : pick(library.studios) });
      break;
  }
  return kind;
}

const uniqueById = <T extends { id: string }>(list: T[]) => [...new Map(list.map((x) => [x.id, x])).values()];

/** The Stash plugin's hook: one POST, fire-and-forget (it never retries; a service that is down misses it). */
function announce(world: ChaosWorld, instance: Instance, sceneId: string) {
  void fetch(`${world.url}/hooks/stash`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${STASH_HOOK_TOKEN}` },
    body: JSON.stringify({ sceneIds: [sceneId], ...(instance.id === "default" ? {} : { instance: instance.id }) }),
    signal: AbortSignal.timeout(2000),
  })
    .then((res) => res.arrayBuffer())
    .catch(() => {});
}

/** Sets the world up: the service started, the providers added in Plex, both movie sections scanned, the TV section filled. */
async function prepare(world: ChaosWorld, log: (line: string) => void) {
  world.start();
  await world.healthy(60_000);
  await world.pms.registerProvider(world.url);
  await world.pms.registerProvider(`${world.url}/instances/vault`);
  await world.pms.registerProvider(`${world.url}/tv`);
  for (const i of world.instances) await world.pms.scan(i.section, { concurrency: 8 });
  log(`scanned ${world.pms.items.size} Plex items; waiting for the episode folder and the TV section`);
  const end = performance.now() + 90_000;
  for (;;) {
    const f = await inspect(world, new Set(), new Map());
    if (findingCount(f) === 0) return;
    if (performance.now() > end) throw new Error(`the world did not start in sync:\n${describe(f)}`);
    await Bun.sleep(500);
  }
}

/** Whether the service has nothing left to do: no push waiting in any instance's queue, no write-back event. */
async function settled(world: ChaosWorld): Promise<boolean> {
  try {
    const status = await world.api<{
      instances: { queue: { pending: number } }[];
      writeback: { pending: number } | null;
    }>("/api/status");
    return status.instances.every((i) => i.queue.pending === 0) && (status.writeback?.pending ?? 0) === 0;
  } catch {
    return false;
  }
}

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const log = o.log ?? (() => {});
  const rand = rng(o.seed);
  const world = new ChaosWorld({ scenes: o.scenes, seed: o.seed });
  let keep = false;
  try {
    await prepare(world, log);
    const callsBefore = world.pms.calls.length;
    const refreshes = () => world.pms.calls.filter((c) => c.method === "PUT" && c.path.endsWith("/refresh")).length;
    const refreshesBefore = refreshes();
    const trace = new ChaosTrace(world);
    const faults = new FaultRunner(world, trace);
    const plan: Fault[] = planFaults(rand, o);
    const edited = new Set<string>();
    const viewed = new Map<string, number>();
    const crashes: string[] = [];
    // A few scenes take a large share of the edits (a user tidying one scene many times).
    const hot = world.instances.map((i) => [...i.stash.library.scenes.keys()].filter(() => rand() < 0.02));
    const started = performance.now();
    let next = 0;
    for (let n = 0; n < o.edits; n++) {
      while (next < plan.length && plan[next]!.atEdit <= n) faults.start(plan[next++]!);
      const which = rand() < 0.6 ? 0 : 1;
      const instance = world.instances[which]!;
      const ids = [...instance.stash.library.scenes.keys()];
      const id =
        rand() < 0.3 && hot[which]!.length
          ? hot[which]![Math.floor(rand() * hot[which]!.length)]!
          : ids[Math.floor(rand() * ids.length)]!;
      const scene = instance.stash.library.scenes.get(id)!;
      const kind = edit(rand, instance, scene, n);
      edited.add(`${instance.id}:${id}`);
      trace.edit(`${instance.id}:${id}`, kind, scene.updated_at);
      if (rand() < 0.5) announce(world, instance, id);
      if (n % o.viewEvery === o.viewEvery - 1) view(world, rand, viewed);
      const crash = world.crashed();
      if (crash) {
        crashes.push(crash);
        log(crash);
        world.start();
      }
      if (n % Math.ceil(o.edits / 10) === 0) log(`edit ${n}/${o.edits}, lives ${world.lives}`);
      const due = started + ((n + 1) / o.editsPerSecond) * 1000;
      if (due > performance.now()) await Bun.sleep(due - performance.now());
    }
    const runSeconds = (performance.now() - started) / 1000;
    log(`edits done in ${runSeconds.toFixed(1)} s; waiting for the last faults to end`);
    await faults.settle();
    // Everything up: the service running, Plex up and fast, both Stashes answering.
    if (!world.proc) world.start();
    if (!world.pms.running) world.pms.start();
    const upAt = performance.now();
    log("everything is up; waiting for convergence");

    let findings = await inspect(world, edited, viewed);
    let converged = false;
    let convergeSeconds = Number.NaN;
    let lastSaid = performance.now();
    while (performance.now() - upAt < o.convergeTimeoutMs) {
      const crash = world.crashed();
      if (crash) {
        crashes.push(crash);
        world.start();
      }
      await world.pms.idle();
      findings = await inspect(world, edited, viewed);
      if (findingCount(findings) === 0 && (await settled(world))) {
        convergeSeconds = (performance.now() - upAt) / 1000;
        converged = true;
        break;
      }
      if (performance.now() - lastSaid > 10_000) {
        lastSaid = performance.now();
        log(
          `not yet (${findingCount(findings)} findings, queue settled: ${await settled(world)}):\n${describe(findings, 3)}`,
        );
      }
      await Bun.sleep(250);
    }
    // A late write (a Stash call that timed out but still landed) would show after a quiet while.
    await Bun.sleep(2 * 1500);
    await world.pms.idle();
    findings = await inspect(world, edited, viewed);
    converged &&= findingCount(findings) === 0;
    if (!converged) {
      keep = true;
      log(`not converged; the run's folder is kept: ${world.dir}\n${describe(findings)}\n${trace.story(findings)}`);
    }
    const count = (kind: FaultKind) => faults.done.get(kind) ?? 0;
    return {
      edits: o.edits,
      editedScenes: edited.size,
      viewings: [...viewed.values()].reduce((a, b) => a + b, 0),
      faults: faults.done,
      kills: count("kill"),
      outages: (["plex-down", "plex-restart", "plex-slow", "stash-503", "stash-timeout"] as const)
        .map(count)
        .reduce((a, b) => a + b, 0),
      crashes,
      lives: world.lives,
      findings,
      converged,
      convergeSeconds,
      runSeconds,
      plexCallsPerScene: (world.pms.calls.length - callsBefore) / edited.size,
      refreshesPerEdit: (refreshes() - refreshesBefore) / o.edits,
    };
  } finally {
    await world.close(keep);
  }
}

/**
 * A viewing to the end in Plex of a scene not viewed before (so each viewing is one play to
 * find), through PMS's webhooks (now and then delivered twice) and its notification stream.
 * Only while PMS is up: nobody watches on a Plex that is down.
 */
function view(world: ChaosWorld, rand: () => number, viewed: Map<string, number>) {
  // Drawn whether or not the viewing happens, so the rest of the run is the same for a seed.
  const [which, choice, twice] = [rand(), rand(), rand()];
  if (!world.pms.running) return;
  const instance = world.instances[which < 0.6 ? 0 : 1]!;
  const candidates = [...world.movieItems(instance)].filter(
    ([id, items]) => items.length === 1 && !viewed.has(`${instance.id}:${id}`),
  );
  if (!candidates.length) return;
  const [id, items] = candidates[Math.floor(choice * candidates.length)]!;
  world.pms.watch.duplicates = twice < 0.2 ? 2 : 1;
  world.pms.watch.view(items[0]!.ratingKey);
  viewed.set(`${instance.id}:${id}`, 1);
}

/** The soak's last line. */
export const lastLine = (r: ChaosResult) =>
  `edits=${r.edits} kills=${r.kills} outages=${r.outages} lost=${r.findings.lost.size} duplicates=${r.findings.duplicates} converge_s=${Number.isFinite(r.convergeSeconds) ? r.convergeSeconds.toFixed(1) : "none"}`;
