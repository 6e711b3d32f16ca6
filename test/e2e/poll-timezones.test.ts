/**
 * The poller against a Stash that stamps as real Stash does: local time with the server's
 * offset, compared as TEXT. 1,000 edits found by polling alone (no webhook) in several time
 * zones and across a daylight-saving switch, each delivered, and no poll reads much more
 * than what changed since the poll before it.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { startWorld, waitFor, type World } from "../helpers.ts";
import type { ClockOptions } from "../../sim/stash/clock.ts";

const FAST = {
  SYNC_RETRY_BASE_SECONDS: "0.05",
  SYNC_RETRY_CAP_SECONDS: "0.4",
  SYNC_SWEEP_SECONDS: "1",
  SYNC_DRAIN_PER_SECOND: "2000",
};
const EDITS = 1000;

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const titleOf = (world: World, sceneId: string) =>
  [...world.pms.items.values()].find((i) => i.guid.endsWith(`/movie/${sceneId}`))?.title;

/** Edits every scene once at a steady pace (~200 a second), as a busy user or a Stash task would. */
async function editSteadily(world: World, ids: string[], onHalfway?: () => void) {
  for (let i = 0; i < ids.length; i++) {
    world.stash.library.update(ids[i]!, { title: `Polled ${ids[i]}` });
    if (i === ids.length / 2) onHalfway?.();
    if (i % 20 === 19) await Bun.sleep(100);
  }
}

async function pollAlone(clock: ClockOptions, during?: (world: World) => void) {
  w = await startWorld({ seed: { scenes: EDITS, clock }, env: { ...FAST, SYNC_POLL_SECONDS: "2" } });
  await w.pms.scan("1", { concurrency: 16 });
  await w.app.plexIndex.refresh(await w.app.plex.sections());
  const ids = [...w.stash.library.scenes.keys()];
  const world = w;
  await editSteadily(w, ids, () => during?.(world));
  const delivered = await waitFor(
    async () => {
      await world.pms.idle();
      return ids.every((id) => titleOf(world, id) === `Polled ${id}`) && world.app.queue.pending() === 0;
    },
    30_000,
    100,
  );
  const lost = ids.filter((id) => titleOf(world, id) !== `Polled ${id}`);
  expect(lost).toEqual([]);
  expect(delivered).toBe(true);
  expect(w.app.queue.deadLetters()).toEqual([]);
  // Cost: each poll reads at most twice what changed since the poll before it, plus a constant.
  // The repeated-hour band trails now by a second (clock skew allowance), so an edit made in
  // the second before a poll is read, once, by the next one: count it there too.
  const polls = w.app.poller.recentPolls;
  const edits = w.stash.library.edits;
  for (let k = 1; k < polls.length; k++) {
    const changed = edits.filter((e) => e.at > polls[k - 1]!.at - 2000 && e.at <= polls[k]!.at).length;
    expect({ poll: k, read: polls[k]!.read, changed }).toEqual({
      poll: k,
      read: Math.min(polls[k]!.read, 2 * changed + 20),
      changed,
    });
  }
  expect(polls.reduce((n, p) => n + p.read, 0)).toBeLessThan(2 * EDITS);
}

describe("polling alone finds every edit, whatever the Stash server's time zone", () => {
  test("UTC−05:00 (the Americas: stamps sort below a UTC watermark)", () => pollAlone({ offsetMinutes: -300 }), 60_000);
  test("UTC (stamps end in Z)", () => pollAlone({ offsetMinutes: 0 }), 60_000);
  test("UTC+01:00 (Europe: stamps sort above a UTC watermark)", () => pollAlone({ offsetMinutes: 60 }), 60_000);
  test("UTC+05:30 (a half-hour offset)", () => pollAlone({ offsetMinutes: 330 }), 60_000);
  test(
    "a DST switch −04:00 → −05:00 halfway through (an hour of wall clock repeats)",
    () =>
      pollAlone({ dst: { at: Number.MAX_SAFE_INTEGER, from: -240, to: -300 } }, (world) => {
        world.stash.library.clock.dst!.at = Date.now();
      }),
    60_000,
  );
});
