import { expect, test } from "bun:test";
import { Elysia } from "elysia";
import { createScheduler, type Job } from "../../src/jobs.ts";

/** A fake clock and a log of when each job ran (seconds since start). */
function harness(specs: Omit<Job, "run">[], runFor: Record<string, () => Promise<unknown>> = {}) {
  let t = 1_000_000;
  const start = t;
  const ranAt: Record<string, number[]> = Object.fromEntries(specs.map((s) => [s.id, []]));
  const jobs = specs.map((s) => ({
    ...s,
    run: async () => {
      ranAt[s.id]!.push((t - start) / 1000);
      await runFor[s.id]?.();
    },
  }));
  const scheduler = createScheduler(jobs, () => t);
  return {
    scheduler,
    ranAt,
    /** Moves the clock a second at a time, ticking like the cron plugin does. */
    async advance(seconds: number, { waitForRuns = true } = {}) {
      for (let i = 0; i < seconds; i++) {
        t += 1000;
        const runs = scheduler.tick();
        await (waitForRuns ? runs : Bun.sleep(0));
      }
    },
    now: () => t,
    start,
  };
}

test("every job runs again on its interval: second and third runs of 5 s, 60 s, 5 min and 1 h jobs", async () => {
  const h = harness([
    { id: "poll", name: "5 s", everySeconds: 5 },
    { id: "stash-index", name: "60 s", everySeconds: 60 },
    { id: "plex-index", name: "5 min", everySeconds: 300 },
    { id: "reconcile", name: "1 h", everySeconds: 3600 },
  ]);
  h.scheduler.start();
  await h.scheduler.tick();
  await h.advance(7200);
  expect(h.ranAt.poll!.slice(0, 3)).toEqual([0, 5, 10]);
  expect(h.ranAt["stash-index"]!.slice(0, 3)).toEqual([0, 60, 120]);
  expect(h.ranAt["plex-index"]!.slice(0, 3)).toEqual([0, 300, 600]);
  expect(h.ranAt.reconcile).toEqual([0, 3600, 7200]);
  expect(h.ranAt["stash-index"]).toHaveLength(121);
  expect(h.ranAt.poll).toHaveLength(1441);
});

test("the schedule's own state says when each job last ran, last succeeded and runs next", async () => {
  let fail = false;
  const h = harness([{ id: "index", name: "60 s", everySeconds: 60 }], {
    index: async () => {
      if (fail) throw new Error("Stash down");
    },
  });
  expect(h.scheduler.list()[0]!.nextRunAt).toBeNull();
  h.scheduler.start();
  expect(h.scheduler.list()[0]!.nextRunAt).toBe(h.start);
  await h.scheduler.tick();
  let s = h.scheduler.list()[0]!;
  expect(s).toMatchObject({
    runs: 1,
    lastRunAt: h.start,
    lastSuccessAt: h.start,
    nextRunAt: h.start + 60_000,
    lastError: null,
  });
  fail = true;
  await h.advance(60);
  s = h.scheduler.list()[0]!;
  expect(s).toMatchObject({
    runs: 2,
    lastRunAt: h.start + 60_000,
    lastSuccessAt: h.start,
    nextRunAt: h.start + 120_000,
    lastError: "Stash down",
  });
});

test("nothing runs before start() (a one-shot command builds the app without starting it); firstAfterSeconds holds a job back", async () => {
  const h = harness([
    { id: "tick", name: "every second", everySeconds: 1 },
    { id: "nightly", name: "held back", everySeconds: 3600, firstAfterSeconds: 600 },
    { id: "manual", name: "run-now only", everySeconds: 0 },
  ]);
  await h.advance(5);
  expect(h.ranAt).toEqual({ tick: [], nightly: [], manual: [] });
  h.scheduler.start();
  await h.advance(1200);
  expect(h.ranAt.nightly).toEqual([605]);
  expect(h.ranAt.manual).toEqual([]);
  expect(h.scheduler.list().find((j) => j.id === "manual")!.nextRunAt).toBeNull();
});

test("run-now is never held back and the schedule restarts from it; a running job is not started twice", async () => {
  let release!: () => void;
  const h = harness(
    [
      { id: "slow", name: "slow", everySeconds: 10 },
      { id: "quick", name: "quick", everySeconds: 2 },
    ],
    {
      slow: () =>
        new Promise<void>((r) => {
          release = r;
        }),
    },
  );
  h.scheduler.start();
  const free = { waitForRuns: false };
  await h.advance(0);
  void h.scheduler.tick(); // slow starts and hangs
  await h.advance(30, free); // quick goes on meanwhile; slow is not started again while it runs
  expect(h.ranAt.slow).toEqual([0]);
  expect(h.ranAt.quick!.length).toBeGreaterThanOrEqual(15);
  expect(h.scheduler.trigger("slow")).toBe(true); // already running: no second run
  expect(h.ranAt.slow).toEqual([0]);
  release();
  await Bun.sleep(0);
  await h.advance(1, free);
  expect(h.ranAt.slow).toEqual([0, 31]); // overdue: runs at the next tick
  release();
  await h.advance(4, free);
  expect(h.scheduler.trigger("slow")).toBe(true);
  release();
  await Bun.sleep(0);
  expect(h.ranAt.slow).toEqual([0, 31, 35]);
  expect(h.scheduler.list().find((j) => j.id === "slow")!.nextRunAt).toBe(h.now() + 10_000);
  expect(h.scheduler.trigger("nope")).toBe(false);
});

test("the cron plugin ticks the schedule every second once started, and stops", async () => {
  let runs = 0;
  const scheduler = createScheduler([
    { id: "tick", name: "every second", everySeconds: 1, run: async () => void runs++ },
  ]);
  const app = new Elysia().use(scheduler.plugin);
  try {
    await Bun.sleep(1200);
    expect(runs).toBe(0);
    scheduler.start();
    const until = Date.now() + 6000;
    while (runs < 2 && Date.now() < until) await Bun.sleep(50);
    expect(runs).toBeGreaterThanOrEqual(2);
  } finally {
    scheduler.stop(app);
  }
  const after = runs;
  await Bun.sleep(1200);
  expect(runs).toBe(after);
}, 15_000);

test("a tick that fires late does not push a job off its interval (a 1 s job on ticks 5 ms late still runs every second)", async () => {
  let t = 1_000_000;
  let runs = 0;
  const scheduler = createScheduler(
    [{ id: "poll", name: "1 s", everySeconds: 1, run: async () => void runs++ }],
    () => t,
  );
  scheduler.start(); // between two ticks
  t += 300;
  for (let i = 0; i < 60; i++) {
    t += 1000;
    const jitter = i % 2 ? 5 : 0;
    t += jitter;
    await scheduler.tick();
    t -= jitter;
  }
  expect(runs).toBe(60);
});
