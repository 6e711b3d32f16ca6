/**
 * The faults of the chaos soak, planned from the seeded generator before the run (at which edit
 * each one starts, how long it lasts) and done by the driver: kill -9 of the service and its
 * restart; Plex down for a while, restarted, or slow; a Stash answering 503 or too slowly for
 * a while; the default Stash's clock crossing its DST change. Faults of one target never
 * overlap (a Plex cannot go down twice): each waits for the one before it on that target.
 */
import type { ChaosTrace } from "./trace.ts";
import { PLEX_TIMEOUT_MS, STASH_TIMEOUT_MS, type ChaosWorld } from "./world.ts";

export type FaultKind = "kill" | "plex-down" | "plex-restart" | "plex-slow" | "stash-503" | "stash-timeout" | "dst";

export interface Fault {
  kind: FaultKind;
  /** The edit (by its number) before which it starts. */
  atEdit: number;
  /** How long it lasts, in ms (kill: how long the service stays down). */
  ms: number;
  /** Which Stash instance (Stash faults). */
  instance: number;
  /** How slow, in ms (plex-slow). */
  latencyMs: number;
}

export interface FaultPlanOptions {
  edits: number;
  kills: number;
  /** Outages of each other kind (Plex down, restarted, slow; a Stash 503, a Stash timing out). */
  outagesPerKind: number;
  /** The longest outage, in ms. */
  maxOutageMs: number;
}

/** Every fault of the run, in the order they start. */
export function planFaults(rand: () => number, o: FaultPlanOptions): Fault[] {
  const at = () => Math.floor(rand() * o.edits * 0.95);
  const fault = (kind: FaultKind, ms: number): Fault => ({
    kind,
    atEdit: at(),
    ms,
    instance: rand() < 0.5 ? 0 : 1,
    latencyMs: 100 + Math.floor(rand() * (PLEX_TIMEOUT_MS + 500)),
  });
  const outage = () => 300 + Math.floor(rand() * (o.maxOutageMs - 300));
  const faults: Fault[] = [];
  for (let i = 0; i < o.kills; i++) faults.push(fault("kill", Math.floor(rand() * 800)));
  for (const kind of ["plex-down", "plex-restart", "plex-slow", "stash-503", "stash-timeout"] as const)
    for (let i = 0; i < o.outagesPerKind; i++) faults.push(fault(kind, kind === "plex-restart" ? 200 : outage()));
  // The clock goes back an hour (EDT → EST) once, halfway through.
  faults.push({ kind: "dst", atEdit: Math.floor(o.edits / 2), ms: 0, instance: 0, latencyMs: 0 });
  return faults.sort((a, b) => a.atEdit - b.atEdit);
}

/** Which fault kinds share a target (and so wait for each other). */
const targetOf = (f: Fault) =>
  f.kind === "kill"
    ? "service"
    : f.kind.startsWith("plex")
      ? "plex"
      : f.kind.startsWith("stash")
        ? `stash${f.instance}`
        : "clock";

export class FaultRunner {
  private chains = new Map<string, Promise<void>>();
  /** How many of each kind were done. */
  readonly done = new Map<FaultKind, number>();
  /** When the last fault ended (performance.now()). */
  lastEnded = 0;

  constructor(
    private readonly world: ChaosWorld,
    private readonly trace?: ChaosTrace,
  ) {}

  /** Starts a fault after the ones before it on its target; does not wait for it. */
  start(f: Fault) {
    const target = targetOf(f);
    const next = (this.chains.get(target) ?? Promise.resolve()).then(async () => {
      this.trace?.fault(`${f.kind} starts (${f.ms} ms${f.kind === "plex-slow" ? `, ${f.latencyMs} ms a call` : ""})`);
      await this.run(f);
      this.trace?.fault(`${f.kind} ends`);
      this.done.set(f.kind, (this.done.get(f.kind) ?? 0) + 1);
      this.lastEnded = performance.now();
    });
    this.chains.set(target, next);
  }

  /** Waits until every fault started has ended (everything is up again); call once no more start. */
  async settle() {
    await Promise.all(this.chains.values());
  }

  private async run(f: Fault) {
    const { world } = this;
    const pms = world.pms;
    switch (f.kind) {
      case "kill":
        await world.kill();
        await Bun.sleep(f.ms);
        world.start();
        // A kill during start-up is fair; a kill before the process runs at all is not a new case.
        await Bun.sleep(100);
        return;
      case "plex-down":
        await pms.stop();
        await Bun.sleep(f.ms);
        pms.start();
        return;
      case "plex-restart":
        // PMS accepts a refresh and restarts before fetching it: the fetch never comes.
        pms.pullsEnabled = false;
        await Bun.sleep(f.ms);
        await pms.stop();
        pms.pullsEnabled = true;
        pms.start();
        return;
      case "plex-slow":
        pms.latencyMs = f.latencyMs;
        await Bun.sleep(f.ms);
        pms.latencyMs = 0;
        return;
      case "stash-503": {
        const stash = world.instances[f.instance]!.stash;
        stash.faults.errorPage = 503;
        await Bun.sleep(f.ms);
        stash.faults.errorPage = null;
        return;
      }
      case "stash-timeout": {
        const stash = world.instances[f.instance]!.stash;
        stash.faults.latencyMs = STASH_TIMEOUT_MS + 500;
        await Bun.sleep(f.ms);
        stash.faults.latencyMs = 0;
        return;
      }
      case "dst":
        world.main.stash.library.clock.dst!.at = Date.now();
        return;
    }
  }
}
