/**
 * Artwork that arrives, and pushes confirmed without PMS's headers (issue 25), end to end:
 * Stash simulator → real service → PMS simulator, whose provider images go through a stand-in
 * for Plex's cloud image service that refuses LAN and loopback addresses (every address here),
 * as the PMS 1.43 log shows. An item shows artwork only if stash2plex put it into PMS.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { post, startWorld, waitFor, WEBHOOK_TOKEN, type World, scene as sceneRef } from "../helpers.ts";
import { hashOf } from "../../sim/plex/artwork.ts";

const auth = { authorization: `Bearer ${WEBHOOK_TOKEN}` };
const FAST = {
  SYNC_RETRY_BASE_SECONDS: "0.05",
  SYNC_RETRY_CAP_SECONDS: "0.4",
  SYNC_SWEEP_SECONDS: "1",
  SYNC_DRAIN_PER_SECOND: "2000",
};
let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const ours = (world: World) => [...world.pms.items.values()].filter((i) => /\/movie\/\d+$/.test(i.guid));
const itemOf = (world: World, sceneId: string) => ours(world).find((i) => i.guid.endsWith(`/movie/${sceneId}`))!;
const uploads = (world: World) => ours(world).reduce((n, i) => n + i.uploads.posters + i.uploads.arts, 0);
/** What PMS shows for an item, as a client reads it. */
async function shown(world: World, ratingKey: string) {
  const res = await fetch(`${world.pms.url}/library/metadata/${ratingKey}`, {
    headers: { "x-plex-token": world.pms.token, accept: "application/json" },
  });
  return ((await res.json()) as any).MediaContainer.Metadata[0] as Record<string, any>;
}
/** The bytes Stash serves for a scene's screenshot, as a hash (what PMS should hold). */
async function stashImageHash(world: World, sceneId: string) {
  const res = await fetch(`${world.stash.url}/scene/${sceneId}/screenshot`, { headers: { apikey: "test-key" } });
  return hashOf(new Uint8Array(await res.arrayBuffer()));
}

describe("artwork that arrives", () => {
  test("a scan of 2,000 scenes: every matched item holds an uploaded poster and background; a re-run uploads nothing; a new image arrives; lost artwork is found and healed", async () => {
    w = await startWorld({ seed: { scenes: 2000 }, env: FAST });
    await w.pms.scan("1", { concurrency: 16 });
    const items = ours(w);
    expect(items.length).toBeGreaterThan(1900);
    // The provider's image URLs go to the cloud stand-in, which cannot reach us: no artwork yet.
    expect((await shown(w, items[0]!.ratingKey)).thumb).toBeUndefined();
    expect(w.pms.artwork.cloudRequests.length).toBeGreaterThan(0);
    expect(w.pms.artwork.cloudRequests.every((r) => r.status === 400)).toBe(true);

    await w.app.refreshPlexIndex();
    const withShot = items.filter((i) => w!.stash.library.scenes.get(i.guid.split("/").at(-1)!)!.hasScreenshot);
    for (const item of withShot) expect([item.uploads.posters, item.uploads.arts]).toEqual([1, 1]);
    const first = uploads(w);
    expect(first).toBe(withShot.length * 2);
    const view = await shown(w, withShot[0]!.ratingKey);
    expect(view.thumb).toMatch(new RegExp(`^/library/metadata/${withShot[0]!.ratingKey}/thumb/\\d+$`));
    expect(view.art).toMatch(new RegExp(`^/library/metadata/${withShot[0]!.ratingKey}/art/\\d+$`));
    // Without a screenshot in Stash, nothing is uploaded (Stash's placeholder is not the scene's image).
    const noShot = items.filter((i) => !withShot.includes(i));
    expect(noShot.every((i) => i.uploads.posters + i.uploads.arts === 0)).toBe(true);

    // A re-run with nothing changed: no upload.
    await w.app.refreshPlexIndex();
    expect(uploads(w)).toBe(first);

    // An edit that leaves the image as it was (a new `t=` in Stash's link, the same bytes): no upload.
    const edited = withShot[1]!.guid.split("/").at(-1)!;
    w.stash.library.update(edited, { title: "Only the title changed" });
    await post(`${w.app.url}/hooks/stash`, { sceneIds: [edited] }, auth);
    expect(
      await waitFor(() => itemOf(w!, edited).title === "Only the title changed" && w!.app.queue.pending() === 0),
    ).toBe(true);
    expect(uploads(w)).toBe(first);

    // The scene's image replaced in Stash: its item holds the new bytes after the push, two uploads more.
    const changed = withShot[2]!.guid.split("/").at(-1)!;
    const before = w.pms.artwork.heldBy(itemOf(w, changed), "posters")!.hash;
    w.stash.library.replaceScreenshot(changed);
    await post(`${w.app.url}/hooks/stash`, { sceneIds: [changed] }, auth);
    const want = await stashImageHash(w, changed);
    expect(want).not.toBe(before);
    expect(
      await waitFor(
        () => w!.pms.artwork.heldBy(itemOf(w!, changed), "posters")?.hash === want && w!.app.queue.pending() === 0,
      ),
    ).toBe(true);
    expect(w.pms.artwork.heldBy(itemOf(w, changed), "arts")!.hash).toBe(want);
    expect(uploads(w)).toBe(first + 2);

    // Plex loses the artwork of 5 items (a database restored from before): the reconcile finds them and heals them.
    const lost = withShot.slice(10, 15);
    for (const item of lost) w.pms.artwork.forget(item);
    const { gaps } = await w.app.reconciler.run({ heal: ["artwork"], kinds: ["artwork"], trigger: "test" });
    expect(
      gaps
        .filter((g) => g.kind === "artwork")
        .map((g) => g.ratingKey)
        .sort(),
    ).toEqual(lost.map((i) => i.ratingKey).sort());
    for (const item of lost) expect((await shown(w, item.ratingKey)).thumb).toBeDefined();
    expect(uploads(w)).toBe(first + 2 + lost.length * 2);
    const again = await w.app.reconciler.run({ heal: [], kinds: ["artwork"], trigger: "test" });
    expect(again.gaps).toEqual([]);
  }, 120_000);

  test("a poster the user chose in Plex is theirs: a new image in Stash does not replace it; PMS locking our own upload does not stop the next", async () => {
    w = await startWorld({ env: FAST });
    w.pms.artwork.uploadLocks = true; // unknown on a real PMS: an upload may lock the field, as a pick in Plex Web does
    await w.pms.scan("1");
    await w.app.refreshPlexIndex();
    const [mine, theirs] = ours(w).filter((i) => w!.stash.library.scenes.get(i.guid.split("/").at(-1)!)!.hasScreenshot);
    w.pms.artwork.userPicks(theirs!);
    const picked = w.pms.artwork.heldBy(theirs!, "posters")!.hash;
    const ids = [mine!, theirs!].map((i) => i.guid.split("/").at(-1)!);
    for (const id of ids) w.stash.library.replaceScreenshot(id);
    await post(`${w.app.url}/hooks/stash`, { sceneIds: ids }, auth);
    const want = await stashImageHash(w, ids[0]!);
    expect(
      await waitFor(() => w!.pms.artwork.heldBy(mine!, "posters")?.hash === want && w!.app.queue.pending() === 0),
    ).toBe(true);
    expect(w.pms.artwork.heldBy(theirs!, "posters")!.hash).toBe(picked);
    // Its background (not picked by the user) follows Stash.
    expect(w.pms.artwork.heldBy(theirs!, "arts")!.hash).toBe(await stashImageHash(w, ids[1]!));
    // Nor does the reconcile report or heal the user's poster.
    const { gaps } = await w.app.reconciler.run({ heal: ["artwork"], kinds: ["artwork"], trigger: "test" });
    expect(gaps).toEqual([]);
    expect(w.pms.artwork.heldBy(theirs!, "posters")!.hash).toBe(picked);
  }, 60_000);
});

describe("a push is confirmed even when PMS names itself by no header", () => {
  test("1,000 edits, PMS sending no client identifier and no PlexMediaServer User-Agent: all delivered by read-back, none dead-lettered; curl confirms nothing", async () => {
    w = await startWorld({ seed: { scenes: 1000 }, env: { ...FAST, SYNC_CONFIRM_SECONDS: "30" } });
    w.pms.sendsClientIdentifier = false;
    w.pms.sendsUserAgent = false;
    await w.pms.scan("1", { concurrency: 16 });
    await w.app.refreshPlexIndex();
    const ids = [...w.stash.library.scenes.keys()];
    for (const id of ids) w.stash.library.update(id, { title: `Read back ${id}` });
    await post(`${w.app.url}/hooks/stash`, { sceneIds: ids }, auth);
    const all = await waitFor(
      async () => {
        await w!.pms.idle();
        return w!.app.queue.pending() === 0;
      },
      60_000,
      100,
    );
    expect(all).toBe(true);
    expect(w.app.queue.deadLetters()).toEqual([]);
    for (const id of ids) expect(itemOf(w, id).title).toBe(`Read back ${id}`);
    const history = w.app.queue.history(sceneRef(ids[0]!)).map((h) => `${h.event}: ${h.detail ?? ""}`);
    expect(history.some((h) => h.startsWith("delivered:") && h.includes("confirmed by reading it back"))).toBe(true);
    expect(history.some((h) => h.startsWith("read back:"))).toBe(true);

    // Refreshes PMS accepts but never acts on: Plex still shows the old title, so curl's fetch confirms nothing.
    w.pms.pullsEnabled = false;
    w.stash.library.update(ids[0]!, { title: "Never reached Plex" });
    await post(`${w.app.url}/hooks/stash`, { sceneIds: [ids[0]!] }, auth);
    expect(await waitFor(() => w!.app.queue.confirming() === 1)).toBe(true);
    expect((await fetch(`${w.app.url}/library/metadata/${ids[0]}`)).status).toBe(200);
    await w.app.worker.sweep();
    await Bun.sleep(1500);
    await w.app.worker.sweep();
    expect(w.app.queue.confirming()).toBe(1);
    expect(itemOf(w, ids[0]!).title).toBe(`Read back ${ids[0]}`);
  }, 120_000);
});
