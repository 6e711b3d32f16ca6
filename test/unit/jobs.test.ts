import { expect, test } from "bun:test";
import { Elysia } from "elysia";
import { createScheduler } from "../../src/jobs.ts";

test("nothing runs before start() (a one-shot command builds the app without starting it); waitFirst holds a job back one interval", async () => {
  const runs: Record<string, number> = { tick: 0, nightly: 0 };
  const scheduler = createScheduler([
    { id: "tick", name: "every second", everySeconds: 1, run: async () => void runs.tick!++ },
    { id: "nightly", name: "held back", everySeconds: 3, waitFirst: true, run: async () => void runs.nightly!++ },
  ]);
  const app = new Elysia().use(scheduler.plugin);
  try {
    await Bun.sleep(1500);
    expect(runs).toEqual({ tick: 0, nightly: 0 });
    scheduler.start();
    await Bun.sleep(1500);
    expect(runs.tick).toBeGreaterThan(0);
    expect(runs.nightly).toBe(0);
    await Bun.sleep(3000);
    expect(runs.nightly).toBeGreaterThan(0);
    // Run-now is never held back.
    expect(scheduler.trigger("nightly")).toBe(true);
    expect(scheduler.trigger("nope")).toBe(false);
  } finally {
    scheduler.stop(app);
  }
}, 10_000);
