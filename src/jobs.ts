/**
 * THE list of scheduled jobs. Each has an id, a name, how often it runs, whether it is
 * running now, and a way to run it at once, so the status API can list and trigger them.
 */
import { cron } from "@elysiajs/cron";
import { Elysia } from "elysia";

export interface Job {
  id: string;
  name: string;
  everySeconds: number;
  /** First scheduled run one interval after start (not at the first tick); run-now is not held back. */
  waitFirst?: boolean;
  run: () => Promise<unknown>;
}

export interface JobState {
  id: string;
  name: string;
  everySeconds: number;
  running: boolean;
  lastRunAt: number | null;
  /** How long the last run took. */
  lastDurationMs: number | null;
  lastError: string | null;
}

export function createScheduler(jobs: Job[], now: () => number = Date.now) {
  // The cron plugin ticks from the moment it is built; nothing runs before start() (a one-shot
  // command builds the app without starting it, and must not poll or push).
  let startedAt: number | undefined;
  // Ticks come at whole seconds, an interval apart from when the plugin was built: "one interval
  // after start" allows for that alignment.
  const TICK_SLACK_MS = 2000;
  const due = (job: Job) => startedAt !== undefined && (!job.waitFirst || now() - startedAt >= job.everySeconds * 1000 - TICK_SLACK_MS);
  const state = new Map<string, JobState>(
    jobs.map((j) => [j.id, { id: j.id, name: j.name, everySeconds: j.everySeconds, running: false, lastRunAt: null, lastDurationMs: null, lastError: null }]),
  );
  const runJob = async (job: Job) => {
    const s = state.get(job.id)!;
    if (s.running) return;
    s.running = true;
    const started = Date.now();
    try {
      await job.run();
      s.lastError = null;
    } catch (err) {
      s.lastError = (err as Error).message;
    } finally {
      s.running = false;
      s.lastRunAt = Date.now();
      s.lastDurationMs = s.lastRunAt - started;
    }
  };
  const plugin = jobs
    .filter((j) => j.everySeconds > 0)
    .reduce(
      (app, job) => app.use(cron({ name: job.id, pattern: "* * * * * *", interval: job.everySeconds, protect: true, run: () => due(job) && runJob(job) })),
      new Elysia({ name: "jobs" }) as Elysia<any, any, any, any, any, any, any>,
    );
  return {
    plugin,
    start() {
      startedAt = now();
    },
    list: () => [...state.values()],
    trigger(id: string): boolean {
      const job = jobs.find((j) => j.id === id);
      if (job) void runJob(job);
      return Boolean(job);
    },
    /** Stops every schedule (the cron instances live in the plugin's store). */
    stop(app: { store: unknown }) {
      const store = (app.store as { cron?: Record<string, { stop(): void }> }).cron ?? {};
      for (const c of Object.values(store)) c.stop();
    },
  };
}
