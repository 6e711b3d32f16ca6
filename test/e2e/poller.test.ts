/**
 * The poller against the Stash simulator on a controlled clock (both sides), for what takes
 * hours of real time: a TZ setting moved west by six hours, an upgrade from the UTC
 * watermark of older versions, a stamp from a clock that was once wrong. Real SQLite queue.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { StashSim } from "../../sim/stash/server.ts";
import { createStashClient } from "../../src/stash/client.ts";
import { openStore } from "../../src/store/db.ts";
import { createQueue, refOf } from "../../src/sync/queue.ts";
import { createPoller, SWEEP_EVERY_MS } from "../../src/sync/poller.ts";
import { silentLogger } from "../../src/log.ts";

let stash: StashSim | undefined;
afterEach(async () => {
  await stash?.stop();
  stash = undefined;
});

function setUp(offsetMinutes: number) {
  let clock = Date.UTC(2026, 10, 24, 12, 0, 0);
  stash = new StashSim({ scenes: 50, clock: { offsetMinutes, now: () => clock } }).start();
  const store = openStore(":memory:");
  const queue = createQueue(store, () => clock);
  const client = createStashClient({ url: stash.url, apiKey: "", timeoutMs: 2000 });
  const poller = createPoller({ store, stash: client, queue, log: silentLogger, now: () => clock });
  const sim = stash;
  return {
    store,
    queue,
    poller,
    sim,
    client,
    now: () => clock,
    advance: (ms: number) => void (clock += ms),
    edit: (id: string) => sim.library.update(id, { title: `t${clock}` }),
    queuedIds: () =>
      queue
        .jobs(10_000)
        .map((j) => refOf(j).id)
        .sort((a, b) => Number(a) - Number(b)),
  };
}

describe("the poller in Stash's terms", () => {
  test("first start begins at Stash's newest stamp: nothing old is queued, the next edit is", async () => {
    const s = setUp(-300);
    expect(await s.poller.poll()).toBe(0);
    expect(s.poller.watermark).toMatch(/-05:00$/);
    s.advance(5000);
    s.edit("7");
    s.advance(3000);
    expect(await s.poller.poll()).toBe(1);
    expect(s.queuedIds()).toEqual(["7"]);
  });

  test("an edit later in the watermark's own second is found, at the cost of one row", async () => {
    const s = setUp(60);
    await s.poller.poll();
    s.advance(5000);
    s.edit("3");
    expect(await s.poller.poll()).toBe(1); // read within the same second as the edit
    s.advance(300);
    s.edit("4"); // same second, same stamp, after our read
    s.advance(3000);
    expect(await s.poller.poll()).toBe(1);
    expect(s.queuedIds()).toEqual(["3", "4"]);
    s.advance(3000);
    expect(await s.poller.poll()).toBe(0);
    expect(s.poller.recentPolls.at(-1)!.read).toBe(0); // the second has closed: no re-read at all
  });

  // Found by the chaos soak under load: a scene edited twice within one second, its first edit
  // fetched by PMS in between. Both edits carry the same stamp, so neither the count of that
  // stamp nor the stamp itself tells the second edit from the first.
  test("a scene edited again later in the same second, after PMS fetched its first edit, is pushed again", async () => {
    const s = setUp(60);
    await s.poller.poll();
    s.advance(5000);
    s.edit("3");
    expect(await s.poller.poll()).toBe(1);
    const [job] = s.queue.claim(1);
    s.queue.complete(job!, ["101"], s.sim.library.scenes.get("3")!.updated_at); // fetched within the second
    s.advance(300);
    s.edit("3"); // same second, same stamp, after the fetch
    s.advance(3000);
    expect(await s.poller.poll()).toBe(1);
    expect(s.queuedIds()).toEqual(["3"]);
    s.advance(3000);
    expect(await s.poller.poll()).toBe(0); // the second has closed
  });

  test("a scene with two Plex items edited again in the same second after its first item's fetch: every item again", async () => {
    const s = setUp(60);
    await s.poller.poll();
    s.advance(5000);
    s.edit("3");
    expect(await s.poller.poll()).toBe(1);
    const ref = refOf(s.queue.claim(1)[0]!);
    const stamp = s.sim.library.scenes.get("3")!.updated_at;
    s.queue.awaitPull(s.queue.job(ref)!, { ratingKey: "101", itemsLeft: 1, written: [] }, stamp, s.now() + 60_000);
    expect(s.queue.confirmPull(ref)).toBe("next"); // item 101 fetched; item 102's turn
    expect([...s.queue.doneItems(ref)]).toEqual(["101"]);
    s.advance(300);
    s.edit("3"); // same second, after item 101's fetch
    s.advance(1000);
    // The second item is fetched after the edit, but the first holds the older version: both again.
    const [again] = s.queue.claim(1);
    s.queue.awaitPull(again!, { ratingKey: "102", itemsLeft: 0, written: [] }, stamp, s.now() + 60_000);
    expect(s.queue.confirmPull(ref)).toBe("delivered");
    s.advance(2000);
    expect(await s.poller.poll()).toBe(1);
    expect(s.queue.doneItems(ref).size).toBe(0);
  });

  test("the server's TZ moves from +01:00 to −05:00: edits sort 6 h below the watermark and the sweep finds them", async () => {
    const s = setUp(60);
    await s.poller.poll();
    s.advance(5000);
    s.edit("1");
    s.advance(5000);
    expect(await s.poller.poll()).toBe(1);
    s.sim.library.clock.setOffset(-300);
    for (const id of ["2", "3", "4"]) s.edit(id);
    let found = 0;
    for (let t = 0; t < SWEEP_EVERY_MS; t += 30_000) {
      s.advance(30_000);
      found += (await s.poller.poll()) ?? 0;
    }
    expect(found).toBe(3);
    expect(s.queuedIds()).toEqual(["1", "2", "3", "4"]);
    expect(s.poller.recentPolls.at(-1)!.swept).toBeGreaterThanOrEqual(3);
  });

  test("upgrade from an older version's UTC watermark: changes since it are queued, older ones are not", async () => {
    const s = setUp(-300);
    s.edit("9"); // well before the last poll of the old version
    s.advance(20 * 60_000);
    // What older versions stored: a UTC instant, which sorts 5 h above every −05:00 stamp
    // (under the default instance's key since store migration 6).
    s.store.meta.set(
      "pollWatermark:default",
      new Date(Date.UTC(2026, 10, 24, 12, 20, 0)).toISOString().replace(".000Z", "Z"),
    );
    s.advance(10_000);
    s.edit("10");
    s.edit("11");
    s.advance(10_000);
    await s.poller.poll();
    expect(s.queuedIds()).toEqual(["10", "11"]);
    expect(s.poller.watermark).toMatch(/-05:00$/);
  });

  test("each Stash instance has its own bookmarks and queues its own references", async () => {
    const s = setUp(-300);
    const second = createPoller({
      store: s.store,
      stash: s.client,
      queue: s.queue,
      log: silentLogger,
      now: s.now,
      instance: "second",
    });
    await s.poller.poll();
    s.advance(5000);
    s.edit("7");
    s.advance(3000);
    expect(await s.poller.poll()).toBe(1);
    // The second instance's poller starts at its own first poll; the default's bookmarks do not move it.
    expect(await second.poll()).toBe(0);
    expect(s.store.meta.get("pollWatermark:second")).toBe(second.watermark);
    s.advance(5000);
    s.edit("8");
    s.advance(3000);
    expect(await second.poll()).toBe(1);
    expect(
      s.queue
        .jobs(10)
        .map((j) => j.ref)
        .sort(),
    ).toEqual(["default:scene:7", "second:scene:8"]);
    expect(await s.poller.poll()).toBe(1);
    expect(
      s.queue
        .jobs(10)
        .map((j) => j.ref)
        .sort(),
    ).toEqual(["default:scene:7", "default:scene:8", "second:scene:8"]);
  });

  test("the sweep re-reads a change that became a dead letter: it is not queued again", async () => {
    const s = setUp(-300);
    await s.poller.poll();
    s.advance(5000);
    s.edit("8");
    s.advance(3000);
    await s.poller.poll();
    const [job] = s.queue.claim(1);
    s.queue.bury(job!, "the Plex item is gone", s.sim.library.scenes.get("8")!.updated_at);
    s.advance(SWEEP_EVERY_MS);
    expect(await s.poller.poll()).toBe(0);
    expect(s.poller.recentPolls.at(-1)!.swept).toBeGreaterThanOrEqual(1);
    expect(s.queue.pending()).toBe(0);
    expect(s.queue.deadLetters()).toHaveLength(1);
  });

  test("a stamp far in the future (a Stash clock once wrong) does not freeze the watermark", async () => {
    const s = setUp(0);
    await s.poller.poll();
    s.advance(1000);
    const future = s.sim.library.update("5", { title: "from the future" });
    future.updated_at = s.sim.library.clock.stamp(Date.UTC(2031, 0, 1));
    s.advance(2000);
    await s.poller.poll();
    expect(s.poller.watermark! < "2030").toBe(true);
    s.advance(2000);
    s.edit("6");
    s.advance(2000);
    await s.poller.poll();
    expect(s.queuedIds()).toEqual(["5", "6"]);
  });

  test("steady edits for an hour of server time: each poll reads about what changed, never a time window", async () => {
    const s = setUp(-300);
    await s.poller.poll();
    let n = 0;
    for (let poll = 0; poll < 120; poll++) {
      for (let k = 0; k < 5; k++) {
        s.advance(6000);
        s.edit(String(1 + (n++ % 50)));
      }
      await s.poller.poll();
    }
    const regular = s.poller.recentPolls.slice(1);
    expect(Math.max(...regular.map((p) => p.read))).toBeLessThanOrEqual(2 * 5 + 2);
    expect(s.queue.pending()).toBe(50);
  });
});
