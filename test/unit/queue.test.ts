import { describe, expect, test } from "bun:test";
import { openStore } from "../../src/store/db.ts";
import { createQueue, refOf } from "../../src/sync/queue.ts";
import { createBreaker } from "../../src/sync/breaker.ts";
import { backoffMs } from "../../src/sync/backoff.ts";
import { tempDir } from "../helpers.ts";
import { DEFAULT_INSTANCE_ID, sceneRef } from "../../src/domain/ref.ts";

/** Scene `id` of the default instance. */
const s = (id: string) => sceneRef(DEFAULT_INSTANCE_ID, id);

/** The push of a scene with one Plex item, awaiting its fetch. */
const oneItem = (ratingKey: string) => ({ ratingKey, itemsLeft: 0, written: [] });

const clock = (start = 1_000_000) => {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
};

/** A queue whose clock reads `at`, having delivered scene 1 at Stash version `stamp`. */
function deliveredAt(at: string, stamp: string) {
  const q = createQueue(openStore(tempDir()), clock(Date.parse(at)).now);
  q.enqueue([{ ref: s("1"), stashUpdatedAt: stamp }], "poll");
  q.complete(q.claim(1)[0]!, ["7"], stamp);
  return q;
}

describe("durable queue (real SQLite on disk)", () => {
  test("one pending job per scene; a newer change coalesces and keeps its history", () => {
    const c = clock();
    const q = createQueue(openStore(tempDir()), c.now);
    expect(q.enqueue([{ ref: s("1") }, { ref: s("2") }], "webhook")).toBe(2);
    c.advance(10);
    q.enqueue([{ ref: s("1") }], "poll");
    expect(q.pending()).toBe(2);
    expect(q.job(s("1"))).toMatchObject({ version: 2, reason: "poll" });
    expect(q.history(s("1")).map((h) => h.event)).toEqual(["queued", "coalesced"]);
  });

  test("survives reopening the database; running jobs are pending again after a crash", () => {
    const dir = tempDir();
    const store = openStore(dir);
    const q = createQueue(store);
    q.enqueue([{ ref: s("1") }, { ref: s("2") }], "webhook");
    expect(
      q
        .claim(10)
        .map((j) => refOf(j).id)
        .sort(),
    ).toEqual(["1", "2"]);
    store.close(); // the process dies with both jobs running
    const q2 = createQueue(openStore(dir));
    expect(q2.claim(10)).toEqual([]);
    expect(q2.recover()).toBe(2);
    expect(q2.claim(10)).toHaveLength(2);
  });

  test("a change arriving while a job runs is pushed again, not lost", () => {
    const q = createQueue(openStore(tempDir()));
    q.enqueue([{ ref: s("1") }], "webhook");
    const [job] = q.claim(1);
    q.enqueue([{ ref: s("1") }], "webhook"); // edited again during the push
    q.complete(job!, ["100"], null);
    expect(q.job(s("1"))).toMatchObject({ state: "pending", version: 2 });
    const [again] = q.claim(1);
    q.complete(again!, ["100"], null);
    expect(q.pending()).toBe(0);
    expect(q.deliveredCount()).toBe(1);
  });

  test("retries wait until due; dead letters keep the reason and can be requeued", () => {
    const c = clock();
    const q = createQueue(openStore(tempDir()), c.now);
    q.enqueue([{ ref: s("1") }], "poll");
    const [job] = q.claim(1);
    q.retry(job!, "Plex down", c.now() + 5000);
    expect(q.claim(1)).toEqual([]);
    c.advance(5000);
    const [second] = q.claim(1);
    expect(second!.attempts).toBe(2);
    expect(q.bury(second!, "Plex item 9 is gone")).toBe(true);
    expect(q.deadLetters()).toEqual([
      expect.objectContaining({ ref: "default:scene:1", last_error: "Plex item 9 is gone", attempts: 2 }),
    ]);
    expect(q.requeueDead()).toBe(1);
    expect(q.deadLetters()).toEqual([]);
    expect(q.pending()).toBe(1);
  });

  test("a poll seeing an already delivered Stash version queues nothing", () => {
    const q = deliveredAt("2025-01-01T00:00:10Z", "2025-01-01T00:00:05Z");
    expect(q.enqueue([{ ref: s("1"), stashUpdatedAt: "2025-01-01T00:00:05Z" }], "poll")).toBe(0);
    expect(q.enqueue([{ ref: s("1"), stashUpdatedAt: "2025-01-01T00:00:06Z" }], "poll")).toBe(1);
  });

  test("stamps are compared as instants: Stash writes local time with an offset", () => {
    const q = deliveredAt("2025-01-01T00:00:10Z", "2025-01-01T01:00:05+01:00");
    expect(q.enqueue([{ ref: s("1"), stashUpdatedAt: "2024-12-31T23:00:05-01:00" }], "poll")).toBe(0);
    expect(q.enqueue([{ ref: s("1"), stashUpdatedAt: "2025-01-01T00:30:06-00:30" }], "poll")).toBe(1);
  });

  test("an equal second-precision stamp delivered within that second is pushed again", () => {
    const q = deliveredAt("2025-01-01T00:00:05.500Z", "2025-01-01T00:00:05Z");
    expect(q.enqueue([{ ref: s("1"), stashUpdatedAt: "2025-01-01T00:00:05Z" }], "poll")).toBe(1);
  });
});

describe("delivery confirmation: a refresh counts once PMS fetched the scene", () => {
  test("confirming until fetched; a fetch before the confirmation wait began counts too", () => {
    const c = clock();
    const q = createQueue(openStore(tempDir()), c.now);
    q.enqueue([{ ref: s("1") }, { ref: s("2") }], "webhook");
    const [one, two] = q.claim(2);
    q.awaitPull(one!, oneItem("10"), null, c.now() + 1000);
    expect(q.job(s("1"))!.state).toBe("confirming");
    expect(q.confirmPull(s("1"))).toBe("delivered");
    expect(q.job(s("1"))).toBeUndefined();
    c.advance(1);
    expect(q.confirmPull(s("2"))).toBeNull(); // PMS fetched while the push was still running
    q.awaitPull(two!, oneItem("20"), null, c.now() + 1000);
    expect(q.job(s("2"))).toBeUndefined();
    expect(q.deliveredCount()).toBe(2);
  });

  test("a fetch in the claim's own millisecond does not count: it may be the previous item's, whose confirmation claimed this one", () => {
    const c = clock();
    const q = createQueue(openStore(tempDir()), c.now);
    q.enqueue([{ ref: s("3") }], "webhook");
    const [job] = q.claim(1);
    expect(q.confirmPull(s("3"))).toBeNull(); // recorded in the claim's millisecond
    q.awaitPull(job!, oneItem("30"), null, c.now() + 1000);
    expect(q.job(s("3"))!.state).toBe("confirming");
    c.advance(1);
    expect(q.confirmPull(s("3"))).toBe("delivered");
  });

  test("a change while confirming is pushed again; a fetch that never comes is overdue", () => {
    const c = clock();
    const q = createQueue(openStore(tempDir()), c.now);
    q.enqueue([{ ref: s("1") }, { ref: s("2") }], "webhook");
    const [one, two] = q.claim(2);
    q.awaitPull(one!, oneItem("10"), null, c.now() + 1000);
    q.awaitPull(two!, oneItem("20"), null, c.now() + 1000);
    q.enqueue([{ ref: s("1") }], "webhook");
    expect(q.job(s("1"))!.state).toBe("pending");
    expect(q.overdue()).toEqual([]);
    c.advance(1000);
    expect(q.overdue().map((j) => refOf(j).id)).toEqual(["2"]);
    expect(q.claim(5).map((j) => refOf(j).id)).toEqual(["1"]);
  });

  test("after a restart, refreshes still waiting for a fetch are pushed again", () => {
    const dir = tempDir();
    const q = createQueue(openStore(dir));
    q.enqueue([{ ref: s("1") }], "webhook");
    q.awaitPull(q.claim(1)[0]!, oneItem("10"), null, Date.now() + 300_000);
    const restarted = createQueue(openStore(dir));
    expect(restarted.recover()).toBe(1);
    expect(restarted.claim(1).map((j) => refOf(j).id)).toEqual(["1"]);
  });
});

describe("per-item delivery: a scene is delivered when every Plex item fetched it", () => {
  test("two items: the second is due only after the first is fetched; history names each item", () => {
    const c = clock();
    const q = createQueue(openStore(tempDir()), c.now);
    q.enqueue([{ ref: s("1"), stashUpdatedAt: "2025-01-01T00:00:05Z" }], "poll");
    q.awaitPull(q.claim(1)[0]!, { ratingKey: "10", itemsLeft: 1, written: [] }, null, c.now() + 1000);
    expect(q.claim(1)).toEqual([]); // nothing due while item 10 awaits its fetch
    expect(q.confirmPull(s("1"))).toBe("next");
    expect(q.doneItems(s("1"))).toEqual(new Set(["10"]));
    const [next] = q.claim(1);
    expect(refOf(next!).id).toBe("1");
    q.awaitPull(next!, { ratingKey: "11", itemsLeft: 0, written: [] }, null, c.now() + 1000);
    expect(q.confirmPull(s("1"))).toBe("delivered");
    expect(q.delivery(s("1"))).toMatchObject({ rating_key: "10,11", stash_updated_at: "2025-01-01T00:00:05Z" });
    expect(q.history(s("1")).map((h) => `${h.event} ${h.detail}`)).toEqual([
      "queued poll @2025-01-01T00:00:05Z",
      "refreshed plex item 10; waiting for Plex to fetch it",
      "fetched plex item 10 fetched the metadata",
      "refreshed plex item 11; waiting for Plex to fetch it",
      "fetched plex item 11 fetched the metadata",
      "delivered plex item 10, 11 (confirmed by PMS's fetch)",
    ]);
  });

  test("the second item's fetch never comes: only it is due again; a newer change resets both", () => {
    const c = clock();
    const dir = tempDir();
    const q = createQueue(openStore(dir), c.now);
    q.enqueue([{ ref: s("1") }], "webhook");
    q.awaitPull(q.claim(1)[0]!, { ratingKey: "10", itemsLeft: 1, written: [] }, null, c.now() + 1000);
    q.confirmPull(s("1"));
    q.awaitPull(q.claim(1)[0]!, { ratingKey: "11", itemsLeft: 0, written: [] }, null, c.now() + 1000);
    // Our process dies before PMS fetches for item 11.
    const restarted = createQueue(openStore(dir), c.now);
    expect(restarted.recover()).toBe(1);
    expect(restarted.doneItems(s("1"))).toEqual(new Set(["10"]));
    expect(restarted.items(s("1")).map((i) => `${i.rating_key}:${i.state}`)).toEqual(["10:done", "11:awaiting"]);
    restarted.enqueue([{ ref: s("1") }], "webhook"); // a newer change: every item needs it
    expect(restarted.doneItems(s("1"))).toEqual(new Set());
  });

  test("PMS fetched before the wait began, but the scene changed during the push: the newer change is pushed, not lost", () => {
    const c = clock();
    const q = createQueue(openStore(tempDir()), c.now);
    q.enqueue([{ ref: s("1") }], "webhook");
    const [job] = q.claim(1);
    c.advance(1);
    expect(q.confirmPull(s("1"))).toBeNull(); // PMS fetched while the push ran …
    q.enqueue([{ ref: s("1") }], "webhook"); // … and the scene changed again
    q.awaitPull(job!, { ratingKey: "10", itemsLeft: 0, written: [] }, null, c.now() + 1000);
    expect(q.job(s("1"))).toMatchObject({ state: "pending", version: 2 });
    expect(q.deliveredCount()).toBe(0);
  });

  test("items written directly (edit strategy) count as delivered with the refreshed one", () => {
    const c = clock();
    const q = createQueue(openStore(tempDir()), c.now);
    q.enqueue([{ ref: s("1") }], "webhook");
    q.awaitPull(q.claim(1)[0]!, { ratingKey: "10", itemsLeft: 0, written: ["20"] }, null, c.now() + 1000);
    expect(q.confirmPull(s("1"))).toBe("delivered");
    expect(q.delivery(s("1"))!.rating_key).toBe("10,20");
  });
});

describe("references: the same scene id in two Stash instances is two things", () => {
  test("no coalescing across instances; each has its own job, history, delivery and dead letter", () => {
    const q = createQueue(openStore(tempDir()));
    const other = sceneRef("second", "1");
    expect(q.enqueue([{ ref: s("1") }, { ref: other }], "webhook")).toBe(2);
    expect(q.pending()).toBe(2);
    const jobs = q.claim(2);
    expect(jobs.map((j) => j.ref).sort()).toEqual(["default:scene:1", "second:scene:1"]);
    q.complete(jobs.find((j) => j.ref === "default:scene:1")!, ["7"], null);
    q.bury(jobs.find((j) => j.ref === "second:scene:1")!, "gone");
    expect(q.delivery(s("1"))).toBeDefined();
    expect(q.delivery(other)).toBeUndefined();
    expect(q.deadLetter(other)).toMatchObject({ ref: "second:scene:1", last_error: "gone" });
    expect(q.deadLetter(s("1"))).toBeUndefined();
    expect(q.history(other).map((h) => h.event)).toEqual(["queued", "dead"]);
  });

  test("dead letters retried or discarded by instance leave the other instance's alone", () => {
    const q = createQueue(openStore(tempDir()));
    const refs = [s("1"), s("2"), sceneRef("second", "1"), sceneRef("secondb", "1")];
    q.enqueue(
      refs.map((ref) => ({ ref })),
      "webhook",
    );
    for (const job of q.claim(10)) q.bury(job, "gone");
    expect(q.requeueDead("second")).toBe(1);
    expect(q.job(sceneRef("second", "1"))).toMatchObject({ reason: "requeue" });
    expect(q.discardDead(DEFAULT_INSTANCE_ID)).toBe(2);
    expect(q.deadLetters().map((d) => d.ref)).toEqual(["secondb:scene:1"]);
  });

  test("counts per instance (the metrics' stash_instance label)", () => {
    const c = clock();
    const q = createQueue(openStore(tempDir()), c.now);
    q.enqueue([{ ref: s("1") }, { ref: s("2") }, { ref: sceneRef("second", "1") }], "webhook");
    for (const job of q.claim(10)) {
      if (job.ref === "default:scene:2") q.bury(job, "gone");
      else if (job.ref === "default:scene:1") q.release(job); // due again; the second instance's stays running
    }
    expect(q.countsByInstance()).toEqual({
      default: { pending: 1, due: 1, confirming: 0, dead: 1 },
      second: { pending: 1, due: 0, confirming: 0, dead: 0 },
    });
  });
});

describe("dead letters are not brought back by a re-read of the same change", () => {
  test("the same Stash stamp is not queued again; a newer one is; requeue still works", () => {
    const c = clock(Date.parse("2025-01-01T00:00:20Z"));
    const q = createQueue(openStore(tempDir()), c.now);
    q.enqueue([{ ref: s("1"), stashUpdatedAt: "2025-01-01T00:00:05Z" }], "poll");
    q.bury(q.claim(1)[0]!, "Plex item 9 is gone", "2025-01-01T00:00:05Z");
    expect(q.enqueue([{ ref: s("1"), stashUpdatedAt: "2025-01-01T00:00:05Z" }], "poll")).toBe(0);
    expect(q.enqueue([{ ref: s("1"), stashUpdatedAt: "2024-12-31T19:00:05-05:00" }], "sweep")).toBe(0);
    expect(q.pending()).toBe(0);
    expect(q.enqueue([{ ref: s("1"), stashUpdatedAt: "2025-01-01T00:00:09Z" }], "poll")).toBe(1);
  });
});

describe("circuit breaker", () => {
  test("one per Stash instance: its own state (kept across a restart) and its own outages", () => {
    const c = clock();
    const dir = tempDir();
    const store = openStore(dir);
    const options = { threshold: 1, probeBaseMs: 1000, probeCapMs: 8000, now: c.now };
    const main = createBreaker(store, options);
    const vault = createBreaker(store, { ...options, instance: "vault" });
    vault.failed("Plex down", 3);
    expect([main.state, vault.state]).toEqual(["closed", "open"]);
    expect(main.outages()).toEqual([]);
    expect(vault.outages()).toEqual([expect.objectContaining({ instance: "vault", jobs_waiting: 3, ended_at: null })]);
    store.close();
    const again = openStore(dir);
    expect(createBreaker(again, { ...options, instance: "vault" }).state).toBe("open");
    expect(createBreaker(again, options).state).toBe("closed");
    expect(again.meta.get("breaker:vault")).toContain('"open"');
  });

  test("opens after repeated failures, probes, half-opens, closes, and records the outage", () => {
    const c = clock();
    const store = openStore(tempDir());
    const b = createBreaker(store, { threshold: 3, probeBaseMs: 1000, probeCapMs: 8000, now: c.now });
    b.failed("x", 5);
    b.failed("x", 5);
    expect(b.state).toBe("closed");
    b.failed("connect refused", 7);
    expect(b.state).toBe("open");
    expect(b.allows()).toBe(false);
    expect(b.probeDue()).toBe(false);
    c.advance(1000);
    expect(b.probeDue()).toBe(true);
    b.probed(false, 9, "still down");
    expect(b.probeDue()).toBe(false);
    c.advance(10_000);
    b.probed(true, 9);
    expect(b.state).toBe("half-open");
    expect(b.allows()).toBe(true);
    c.advance(500);
    b.succeeded();
    expect(b.state).toBe("closed");
    const [outage] = b.outages();
    expect(outage).toMatchObject({ jobs_waiting: 9, last_error: "still down" });
    expect(outage!.ended_at! - outage!.started_at).toBe(11_500);
  });

  test("a failed trial while half-open opens it again; state survives a restart", () => {
    const dir = tempDir();
    const b = createBreaker(openStore(dir), { threshold: 1, probeBaseMs: 10, probeCapMs: 10 });
    b.failed("down", 1);
    b.probed(true, 1);
    b.failed("down again", 1);
    expect(b.state).toBe("open");
    const reopened = createBreaker(openStore(dir), { threshold: 1, probeBaseMs: 10, probeCapMs: 10 });
    expect(reopened.state).toBe("open");
    expect(reopened.outages()).toHaveLength(1);
  });
});

describe("backoff", () => {
  test("full jitter between 0 and min(cap, base·2^(n-1))", () => {
    expect(backoffMs(1, 5000, 900_000, () => 1)).toBe(5000);
    expect(backoffMs(4, 5000, 900_000, () => 1)).toBe(40_000);
    expect(backoffMs(30, 5000, 900_000, () => 1)).toBe(900_000);
    expect(backoffMs(3, 5000, 900_000, () => 0)).toBe(0);
    expect(backoffMs(3, 5000, 900_000, () => 0.5)).toBe(10_000);
  });
});
