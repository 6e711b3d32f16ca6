/**
 * THE list of scheduled jobs. Each has an id, a name, how often it runs, whether it is
 * running now, when it last ran and when it runs next, and a way to run it at once, so the
 * status API, the dashboard and /metrics can list and trigger them.
 *
 * The schedule is our own state (a next-run time per job), advanced by one cron tick a second.
 * Croner's `interval` option was used before; combined with an every-second pattern, jobs of a
 * minute or more ran at start and never again. Owning the next-run time also lets the pages say
 * when a job runs next, and lets tests drive the schedule with a fake clock (`tick()`).
 */
import { cron } from "@elysiajs/cron";
import { Elysia } from "elysia";

export interface Job {
  id: string;
  name: string;
  /** 0: never on a schedule (run-now only). */
  everySeconds: number;
  /** First scheduled run this long after start (default 0: at start). Run-now is not held back. */
  firstAfterSeconds?: number;
  run: () => Promise<unknown>;
}

export interface JobState {
  id: string;
  name: string;
  everySeconds: number;
  running: boolean;
  /** When the last run ended (ms since the epoch). */
  lastRunAt: number | null;
  /** When the last run that did not throw ended. */
  lastSuccessAt: number | null;
  /** How long the last run took. */
  lastDurationMs: number | null;
  lastError: string | null;
  /** When the schedule runs it next; null before start and for jobs off the schedule. */
  nextRunAt: number | null;
  /** Runs since start, scheduled or not. */
  runs: number;
}

export function createScheduler(jobs: Job[], now: () => number = Date.now) {
  // Nothing runs before start(): a one-shot command builds the app without starting it.
  let started = false;
  const state = new Map<string, JobState>(
    jobs.map((j) => [
      j.id,
      {
        id: j.id,
        name: j.name,
        everySeconds: j.everySeconds,
        running: false,
        lastRunAt: null,
        lastSuccessAt: null,
        lastDurationMs: null,
        lastError: null,
        nextRunAt: null,
        runs: 0,
      },
    ]),
  );
  const byId = new Map(jobs.map((j) => [j.id, j]));

  const runJob = async (job: Job, scheduled = false): Promise<void> => {
    const s = state.get(job.id)!;
    if (s.running) return;
    s.running = true;
    s.runs++;
    const startedAt = now();
    if (started && job.everySeconds > 0) {
      const every = job.everySeconds * 1000;
      // On the schedule's own grid, not from when the tick happened to fire: a tick a few ms late
      // must not push a 1 s job to every 2 s. A run overdue by a whole interval (a long run, a
      // sleeping host) starts the grid afresh instead of running again and again to catch up.
      // Run-now restarts the schedule from this run.
      const onGrid = scheduled && s.nextRunAt !== null ? s.nextRunAt + every : startedAt + every;
      s.nextRunAt = onGrid > startedAt ? onGrid : startedAt + every;
    }
    try {
      await job.run();
      s.lastError = null;
      s.lastSuccessAt = now();
    } catch (err) {
      s.lastError = (err as Error).message;
    } finally {
      s.running = false;
      s.lastRunAt = now();
      s.lastDurationMs = s.lastRunAt - startedAt;
    }
  };

  /** Starts every job that is due; resolves when those runs end. A job still running is not started twice. */
  const tick = async (): Promise<void> => {
    if (!started) return;
    const at = now();
    const due = jobs.filter((j) => {
      const s = state.get(j.id)!;
      return s.nextRunAt !== null && s.nextRunAt <= at && !s.running;
    });
    await Promise.all(due.map((job) => runJob(job, true)));
  };

  // One tick a second; `protect: false` because a long job must not hold back the others' ticks.
  const plugin = new Elysia({ name: "jobs" }).use(
    cron({ name: "scheduler", pattern: "* * * * * *", run: () => void tick() }),
  );

  return {
    plugin,
    tick,
    start() {
      if (started) return;
      started = true;
      const at = now();
      for (const job of jobs) {
        if (job.everySeconds > 0) state.get(job.id)!.nextRunAt = at + (job.firstAfterSeconds ?? 0) * 1000;
      }
    },
    list: (): JobState[] => [...state.values()].map((s) => ({ ...s })),
    /** Runs a job now (the schedule restarts from this run). False when there is no such job. */
    trigger(id: string): boolean {
      const job = byId.get(id);
      if (job) void runJob(job);
      return Boolean(job);
    },
    /** Stops the tick (the cron instance lives in the plugin's store). */
    stop(app: { store: unknown }) {
      started = false;
      const store = (app.store as { cron?: Record<string, { stop(): void }> }).cron ?? {};
      for (const c of Object.values(store)) c.stop();
    },
  };
}
export type Scheduler = ReturnType<typeof createScheduler>;
