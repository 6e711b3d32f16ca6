/**
 * Drains the write-back queue (events.ts) through the applier, one Stash instance at a time
 * each, oldest viewing first. Per instance a small breaker: when its Stash does not answer
 * (the applier says `stashDown`) three times in a row, the instance's events wait untouched
 * (no attempt spent) and its Stash is probed with a growing delay (the retry base doubling to
 * a minute); a good probe drains again. Other failures count an attempt and back off (events.ts).
 *
 * The breaker lives in memory: after a restart the first event tries Stash once and reopens
 * it. (The push side's breaker is persisted because its probe hits Plex; here a probe is one
 * cheap Stash call.)
 */
import type { Logger } from "../log.ts";
import type { ApplyOutcome, PlayedLedger } from "./apply.ts";
import type { EventQueue, StoredEvent } from "./events.ts";
import type { PlexEvent } from "./types.ts";

const BATCH = 20;
const OPEN_AFTER = 3;

export interface WritebackWorkerDeps {
  events: EventQueue;
  applyEvent: (event: PlexEvent, ledger?: PlayedLedger) => Promise<ApplyOutcome>;
  /** The configured Stash instances' ids. */
  instances: readonly string[];
  /** Throws when the instance's Stash does not answer. */
  probe: (instance: string) => Promise<unknown>;
  log: Logger;
  retryBaseMs: number;
  now?: () => number;
  /** Told of each event taken off the queue (metrics: done/ignored/failed). */
  settled?: (event: StoredEvent, state: "done" | "ignored" | "failed" | "retry") => void;
}

interface InstanceBreaker {
  /** When it opened (null while closed: the breaker is open while this is set). */
  openedAt: number | null;
  downInARow: number;
  probes: number;
  nextProbeAt: number;
  lastError: string | null;
}

export function createWritebackWorker(deps: WritebackWorkerDeps) {
  const { events, log } = deps;
  const now = deps.now ?? Date.now;
  const breakers = new Map<string, InstanceBreaker>(
    deps.instances.map((i) => [i, { openedAt: null, downInARow: 0, probes: 0, nextProbeAt: 0, lastError: null }]),
  );
  const draining = new Map<string, Promise<void>>();
  let stopped = false;

  const probeDelay = (b: InstanceBreaker) => Math.min(60_000, deps.retryBaseMs * 2 ** Math.min(10, b.probes));

  async function settle(e: StoredEvent, outcome: ApplyOutcome, b: InstanceBreaker, instance: string): Promise<boolean> {
    switch (outcome.status) {
      case "done":
        events.complete(e.key, outcome.note);
        deps.settled?.(e, "done");
        break;
      case "ignored":
        events.ignore(e.key, outcome.why);
        deps.settled?.(e, "ignored");
        break;
      case "permanent":
        events.fail(e.key, outcome.error, true);
        deps.settled?.(e, "failed");
        break;
      case "transient":
        if (outcome.stashDown) {
          b.downInARow++;
          b.lastError = outcome.error;
          if (b.downInARow >= OPEN_AFTER) {
            b.openedAt = now();
            b.probes = 0;
            b.nextProbeAt = now() + probeDelay(b);
            log.warn("write-back: Stash does not answer; its events wait until it does", {
              instance,
              error: outcome.error.slice(0, 200),
            });
            events.release(e.key);
            return false;
          }
        }
        {
          // Not inside `settled?.(…)`: an optional call skips evaluating its arguments.
          const state = events.fail(e.key, outcome.error);
          deps.settled?.(e, state === "failed" ? "failed" : "retry");
        }
        return true;
    }
    b.downInARow = 0;
    return true;
  }

  async function drainOnce(instance: string) {
    const b = breakers.get(instance);
    if (!b) return;
    if (b.openedAt !== null) {
      if (now() < b.nextProbeAt) return;
      try {
        await deps.probe(instance);
        b.openedAt = null;
        b.downInARow = 0;
        b.lastError = null;
        log.info("write-back: Stash answers again; writing what waited", { instance });
      } catch (err) {
        b.probes++;
        b.nextProbeAt = now() + probeDelay(b);
        b.lastError = (err as Error).message;
        return;
      }
    }
    while (!stopped) {
      const batch = events.claim(instance, BATCH);
      if (!batch.length) return;
      for (let i = 0; i < batch.length; i++) {
        const e = batch[i]!;
        let outcome: ApplyOutcome;
        try {
          outcome = await deps.applyEvent(e.event, {
            playedSent: e.playedSentAt !== null,
            markPlayedSent: () => events.markPlayedSent(e.key),
          });
        } catch (err) {
          outcome = { status: "transient", error: (err as Error).message, stashDown: false };
        }
        if (!(await settle(e, outcome, b, instance))) {
          // The breaker opened: the rest of the batch goes back untouched.
          for (const rest of batch.slice(i + 1)) events.release(rest.key);
          return;
        }
        if (stopped) {
          for (const rest of batch.slice(i + 1)) events.release(rest.key);
          return;
        }
      }
    }
  }

  /** Drains an instance now (one drain at a time each; a kick during one runs another after it). */
  function drain(instance: string): Promise<void> {
    const running = draining.get(instance);
    const next = (running ?? Promise.resolve())
      .then(() => drainOnce(instance))
      .catch((err: Error) => log.error("write-back: draining the queue failed", { instance, error: err.message }))
      .finally(() => {
        if (draining.get(instance) === next) draining.delete(instance);
      });
    draining.set(instance, next);
    return next;
  }

  return {
    /** New events of an instance (or of all): write them now. */
    kick(instance?: string) {
      if (stopped) return;
      for (const i of instance ? [instance] : deps.instances) void drain(i);
    },
    /** The scheduled pass: every instance's due events, and probes of open breakers. */
    sweep: () => Promise.all(deps.instances.map(drain)).then(() => {}),
    /** Per instance: whether its Stash is taken to be down, and why. */
    breakers: () =>
      [...breakers].map(([instance, b]) => ({
        instance,
        open: b.openedAt !== null,
        openedAt: b.openedAt,
        nextProbeAt: b.nextProbeAt,
        lastError: b.lastError,
      })),
    async stop() {
      stopped = true;
      await Promise.all([...draining.values()]);
    },
    /** Waits for drains under way (tests). */
    idle: () => Promise.all([...draining.values()]).then(() => {}),
  };
}
export type WritebackWorker = ReturnType<typeof createWritebackWorker>;
