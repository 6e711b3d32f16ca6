/**
 * Drains the queue: claims due jobs, pushes them at a bounded rate while the breaker allows,
 * and turns each outcome into done, a retry with backoff, or a dead letter. The cron calls
 * `sweep()`; the webhook calls `kick()` so a change goes out at once instead of at the next
 * sweep. Only one drain runs at a time.
 */
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import type { PlexClient } from "../plex/client.ts";
import { backoffMs } from "./backoff.ts";
import type { Breaker } from "./breaker.ts";
import { refOf, type Job, type JobScope, type Queue } from "./queue.ts";
import { type Ref, refKey } from "../domain/ref.ts";

/** A job's scene as every log line names it (`scene`: the id, as before), with its Stash instance. */
const logFields = (job: Job) => {
  const ref = refOf(job);
  return { scene: ref.id, instance: ref.instance };
};
import type { Outcome } from "./push.ts";

export interface WorkerDeps {
  config: Config;
  queue: Queue;
  breaker: Breaker;
  plex: Pick<PlexClient, "identity">;
  /** The jobs this worker drains (each Stash instance has its own worker and breaker); absent: all. */
  scope?: JobScope;
  /** The instance named in its log lines. */
  instance?: string;
  /**
   * What must answer before pushes resume after an outage: Plex's `GET /identity` by default; the
   * push side adds the instance's Stash, since a down Stash opens the same breaker.
   */
  probe?: () => Promise<void>;
  /** Told when that probe succeeds: the upstreams answer again (the push side polls Stash at once). */
  recovered?: () => void;
  /** `doneAt`: the scene's version (Stash's updated_at) the `done` items were pushed at. */
  push: (ref: Ref, done: ReadonlySet<string>, doneAt?: string | null) => Promise<Outcome>;
  /**
   * Reads awaited items back from PMS: the jobs (by ref key) whose item shows what we serve. A
   * push is confirmed so when no fetch by PMS is seen (the fetch stays the fast path).
   */
  readBack?: (awaiting: { ref: Ref; ratingKey: string }[]) => Promise<Set<string>>;
  /**
   * Whether PMS already fetched what the refreshed item shows (its movie, or its episode) since
   * the job was claimed: the fetch may come before the refresh call returns. Absent: any fetch
   * of the scene counts (the queue's own record).
   */
  fetchedDuringClaim?: (job: Job, ratingKey: string) => boolean;
  /**
   * Told which provider's fetch confirms an awaited item (the push knows it is a movie or an
   * episode), and whether a fetch can confirm it at all (`shared`: see Outcome.sharedFetch).
   */
  awaitingKind?: (ratingKey: string, kind: "scene" | "episode", shared: boolean) => void;
  log: Logger;
  now?: () => number;
  /** Told of every push's result (metrics). */
  /** A push's result, for the metrics, with the Stash instance of the job. */
  pushed?: (result: "refreshed" | "written" | "retry" | "dead", instance: string) => void;
}

const BATCH = 16;
/** How long a refreshed item waits for PMS's fetch before it is read back (at most half the confirm window). */
const READ_BACK_AFTER_MS = 3000;
const CONCURRENCY = 4;
/** After a fetch that may be the awaited item's (several share its URL): how soon it is read back. */
const SHARED_READ_BACK_MS = 100;

export function createWorker(deps: WorkerDeps) {
  const { queue, breaker, log, config } = deps;
  const now = deps.now ?? Date.now;
  const probeUpstream = deps.probe ?? (async () => void (await deps.plex.identity()));
  const instanceField = deps.instance ? { instance: deps.instance } : {};
  let draining: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  // Pacing: pushes start at most drainPerSecond a second, so a backlog never floods Plex.
  const gapMs = 1000 / config.sync.drainPerSecond;
  let nextSlot = 0;
  const slot = async () => {
    const t = now();
    const wait = Math.max(0, nextSlot - t);
    nextSlot = Math.max(t, nextSlot) + gapMs;
    if (wait > 0) await Bun.sleep(wait);
  };

  function settle(job: Job, outcome: Outcome) {
    if (outcome.ok) {
      if (outcome.awaiting) {
        // Only a worker that can read items back leaves the fetch out (else nothing would confirm them).
        const shared = outcome.sharedFetch === true && deps.readBack !== undefined;
        if (outcome.awaitingKind) deps.awaitingKind?.(outcome.awaiting, outcome.awaitingKind, shared);
        const push = { ratingKey: outcome.awaiting, itemsLeft: outcome.itemsLeft, written: outcome.written };
        queue.awaitPull(
          job,
          push,
          outcome.stashUpdatedAt,
          now() + config.sync.confirmSeconds * 1000,
          shared ? false : deps.fetchedDuringClaim?.(job, outcome.awaiting),
        );
        if (deps.readBack) readBackSoon();
      } else queue.complete(job, outcome.written, outcome.stashUpdatedAt, outcome.note);
      deps.pushed?.(outcome.awaiting ? "refreshed" : "written", refOf(job).instance);
      breaker.succeeded();
      log.debug("pushed", { ...logFields(job), note: outcome.note });
      return;
    }
    // A down Plex or a down Stash of this instance: pause this instance's pushes behind its breaker
    // rather than spend every job's attempts on it (the other instances' workers go on).
    if (outcome.plexFailed || outcome.stashFailed) breaker.failed(outcome.error, queue.pending(deps.scope));
    const ageMs = now() - job.first_queued_at;
    const tooOld = ageMs > config.sync.maxAgeHours * 3_600_000 || job.attempts >= config.sync.maxAttempts;
    if (outcome.kind === "permanent" || tooOld) {
      const why =
        outcome.kind === "permanent" ? outcome.error : `gave up after ${job.attempts} attempts: ${outcome.error}`;
      deps.pushed?.("dead", refOf(job).instance);
      if (queue.bury(job, why, outcome.stashUpdatedAt))
        log.warn("push failed for good; kept as a dead letter", { ...logFields(job), error: why });
      return;
    }
    const delay = backoffMs(job.attempts, config.sync.retryBaseSeconds * 1000, config.sync.retryCapSeconds * 1000);
    queue.retry(job, outcome.error, now() + delay);
    deps.pushed?.("retry", refOf(job).instance);
    log.debug("push will be retried", { ...logFields(job), inMs: delay, error: outcome.error });
  }

  async function probe(): Promise<boolean> {
    if (!breaker.probeDue()) return false;
    try {
      await probeUpstream();
      breaker.probed(true, queue.pending(deps.scope));
      queue.wakeAll(deps.scope);
      deps.recovered?.();
      log.info("Plex and Stash answer again; draining the backlog", {
        waiting: queue.pending(deps.scope),
        ...instanceField,
      });
      return true;
    } catch (err) {
      breaker.probed(false, queue.pending(deps.scope), (err as Error).message);
      return false;
    }
  }

  // Read-back waits a little for PMS's fetch (the fast path); an item not showing ours yet is
  // looked at again after the same wait, until the confirm window closes.
  const confirmMs = config.sync.confirmSeconds * 1000;
  const readBackAfterMs = Math.min(READ_BACK_AFTER_MS, confirmMs / 2);
  /** When each awaiting job's item was last read back (job ref → ms). */
  const readAt = new Map<string, number>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  /** Jobs whose scene PMS fetched while their awaited item shares its URL with others (sharedFetch): read back next. */
  const fetchedShared = new Map<string, Ref>();
  function readBackSoon() {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!stopped) void run();
    }, readBackAfterMs + 20);
    timer.unref?.();
    timers.add(timer);
  }

  /**
   * Reads the jobs' awaited items back; each showing what we serve is delivered. Answers the jobs
   * not showing it yet and whether any was confirmed; undefined when PMS could not be read.
   */
  async function readBackEach(jobs: Job[]): Promise<{ waiting: Job[]; confirmed: boolean } | undefined> {
    let shown: Set<string>;
    try {
      shown = await deps.readBack!(jobs.map((job) => ({ ref: refOf(job), ratingKey: job.pushed_rating_keys! })));
    } catch (err) {
      log.debug("read-back failed; a later read-back or the deadline decides", { error: (err as Error).message });
      return undefined;
    }
    const waiting: Job[] = [];
    let confirmed = false;
    for (const job of jobs) {
      if (!shown.has(job.ref)) waiting.push(job);
      else if (queue.confirmReadBack(job)) {
        confirmed = true;
        log.debug("delivery confirmed by reading the item back", { ...logFields(job), item: job.pushed_rating_keys });
      }
    }
    return { waiting, confirmed };
  }

  /** Refreshed items still unconfirmed a while after the refresh: read back, delivered when they show what we serve. */
  async function confirmByReadBack() {
    if (!deps.readBack) return;
    const t = now();
    const due = queue
      .overdue(deps.scope, t + confirmMs - readBackAfterMs)
      .filter((job) => t - (readAt.get(job.ref) ?? -Infinity) >= readBackAfterMs);
    if (!due.length) return;
    for (const job of due) readAt.set(job.ref, t);
    const read = await readBackEach(due);
    if (!read) return readBackSoon();
    const waiting = new Set(read.waiting.map((job) => job.ref));
    for (const job of due) if (!waiting.has(job.ref)) readAt.delete(job.ref);
    // What is no longer awaited is forgotten.
    for (const [ref, at] of readAt) if (t - at > confirmMs) readAt.delete(ref);
    if (waiting.size) readBackSoon();
  }

  /**
   * The items whose scene PMS fetched a moment ago, though the fetch may have been another of the
   * scene's items' (sharedFetch): read back in one batch, beside the drain (it waits for nothing).
   * Those not showing ours yet are left to the read-back above and the deadline.
   */
  let sharedTimer: ReturnType<typeof setTimeout> | undefined;
  async function readBackFetched() {
    sharedTimer = undefined;
    const jobs = [...fetchedShared.values()].flatMap((ref) => {
      const job = queue.job(ref);
      return job?.state === "confirming" && job.pushed_rating_keys ? [job] : [];
    });
    fetchedShared.clear();
    if (stopped || !jobs.length || !deps.readBack) return;
    if ((await readBackEach(jobs))?.confirmed) void run();
  }

  /** Refreshes PMS accepted but never fetched: push them again (with backoff, counting the attempt). */
  function retryUnfetched() {
    for (const job of queue.overdue(deps.scope)) {
      const error = `Plex accepted the refresh of item ${job.pushed_rating_keys} but did not fetch the metadata within ${config.sync.confirmSeconds} s`;
      settle(job, { ok: false, kind: "transient", error, plexFailed: false });
    }
  }

  async function drain() {
    while (!stopped) {
      // At every round, not only the first: under a steady backlog of retries the loop does not end,
      // and a refresh PMS never fetched would wait for it (found by the short chaos soak: an item
      // left waiting for a fetch to the end of the run).
      await confirmByReadBack();
      retryUnfetched();
      if (breaker.state === "open" && !(await probe())) return;
      // Half-open: one trial push decides whether the breaker closes.
      const jobs = queue.claim(breaker.state === "half-open" ? 1 : BATCH, deps.scope);
      if (jobs.length === 0) return;
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(CONCURRENCY, jobs.length) }, async () => {
          while (next < jobs.length) {
            const job = jobs[next++]!;
            if (stopped || !breaker.allows()) {
              queue.release(job);
              continue;
            }
            await slot();
            const ref = refOf(job);
            settle(job, await deps.push(ref, queue.doneItems(ref), job.stash_updated_at));
          }
        }),
      );
    }
  }

  const run = (): Promise<void> => {
    if (draining) {
      again = true;
      return draining;
    }
    draining = drain()
      .catch((err: Error) => log.error("queue drain failed", { error: err.message }))
      .finally(() => {
        draining = undefined;
        if (again && !stopped) {
          again = false;
          void run();
        }
      });
    return draining;
  };

  return {
    sweep: run,
    kick: () => void run(),
    /**
     * PMS fetched the scene of a job whose awaited item shares its URL with the scene's other
     * items: the item is read back shortly (PMS writes what it fetched after our answer).
     */
    fetchSeen(ref: Ref) {
      fetchedShared.set(refKey(ref), ref);
      if (sharedTimer || stopped) return;
      sharedTimer = setTimeout(() => void readBackFetched(), SHARED_READ_BACK_MS);
      sharedTimer.unref?.();
    },
    get busy() {
      return draining !== undefined;
    },
    /** Stops taking jobs and waits (bounded by the caller) for the pushes under way. */
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      if (sharedTimer) clearTimeout(sharedTimer);
      await draining;
    },
  };
}
export type Worker = ReturnType<typeof createWorker>;
