/**
 * sync/tv-shows.ts: when a TV show's Plex item is refreshed. What the TV provider serves is a
 * fake here (a map the test edits, as Stash's studio would change); Plex's index and refresh
 * are recorded. The end-to-end cases (a studio's new image through the simulators) are in
 * test/e2e/tv.test.ts.
 */
import { expect, test } from "bun:test";
import type { PlexMetadata } from "../../src/schema/plex.ts";
import { PlexError } from "../../src/plex/client.ts";
import { createShowUpkeep } from "../../src/sync/tv-shows.ts";

const TV = "tv.plex.agents.custom.stash2plex.tv";

function world() {
  const served = new Map<string, PlexMetadata>();
  const show = (id: string, fields: Record<string, unknown>) =>
    served.set(id, { ratingKey: id, type: "show", title: `Studio ${id}`, ...fields } as PlexMetadata);
  const items = new Map<string, { rating_key: string; section_id: string; guid: string; title: string }[]>();
  const inPlex = (showId: string, ratingKey: string, title = `Studio ${showId}`) =>
    items.set(`${TV}://show/${showId}`, [
      { rating_key: ratingKey, section_id: "2", guid: `${TV}://show/${showId}`, title },
    ]);
  const refreshed: string[] = [];
  /** Items Plex dropped (a refresh of one answers 404). */
  const dropped = new Set<string>();
  let plexDown = false;
  let reindexes = 0;
  const kv = new Map<string, string>();
  let clock = 1_000_000;
  const make = () =>
    createShowUpkeep({
      instance: "default",
      tvIdentifier: TV,
      served: async (id) => served.get(id),
      index: {
        byGuid: (guid) => items.get(guid) ?? [],
        forget: (key) => {
          for (const [guid, list] of items)
            items.set(
              guid,
              list.filter((i) => i.rating_key !== key),
            );
        },
      },
      reindex: async () => void reindexes++,
      plex: {
        refresh: async (key) => {
          if (plexDown) throw new PlexError("transient", undefined, "Plex PUT refresh: cannot connect");
          if (dropped.has(key))
            throw new PlexError("permanent", 404, `Plex PUT /library/metadata/${key}/refresh: HTTP 404`);
          refreshed.push(key);
        },
      },
      meta: { get: (k) => kv.get(k), set: (k, v) => void kv.set(k, v) },
      now: () => clock,
    });
  return {
    served,
    show,
    inPlex,
    refreshed,
    dropped,
    items,
    make,
    setPlexDown: (down: boolean) => void (plexDown = down),
    reindexes: () => reindexes,
    tick: (ms: number) => void (clock += ms),
  };
}

test("the first pass learns every show and refreshes none whose title Plex already shows", async () => {
  const w = world();
  w.show("st1", { thumb: "http://s2p/images/studio/1?t=100", summary: "About." });
  w.show("st2", {});
  w.inPlex("st1", "11");
  const shows = w.make();
  expect(await shows.checkAll(["st1", "st2"])).toEqual([]);
  expect(w.refreshed).toEqual([]);
  expect(w.reindexes()).toBe(1); // once for the pass, not once per show
  expect(await shows.checkAll(["st1", "st2"])).toEqual([]);
  expect(w.refreshed).toEqual([]);
});

test("a new image, description or title is one refresh of the show's Plex item; the same again is none", async () => {
  const w = world();
  w.show("st1", { thumb: "http://s2p/images/studio/1?t=100", summary: "About." });
  w.show("st2", { summary: "Other." });
  w.inPlex("st1", "11");
  w.inPlex("st2", "22");
  const shows = w.make();
  await shows.checkAll(["st1", "st2"]);
  w.show("st1", { thumb: "http://s2p/images/studio/1?t=200", summary: "About." });
  expect(await shows.checkAll(["st1", "st2"])).toEqual(['show st1 refreshed ("Studio st1": changed in Stash)']);
  expect(w.refreshed).toEqual(["11"]);
  await shows.checkAll(["st1", "st2"]);
  expect(w.refreshed).toEqual(["11"]);
  w.show("st2", { summary: "Told anew." });
  await shows.checkAll(["st1", "st2"]);
  expect(w.refreshed).toEqual(["11", "22"]);
});

test("a title Plex shows differently (renamed before signatures were kept) is refreshed once, not again while nothing changes", async () => {
  const w = world();
  w.show("st1", {});
  w.inPlex("st1", "11", "My own name");
  const shows = w.make();
  await shows.checkAll(["st1"]);
  expect(w.refreshed).toEqual(["11"]);
  await shows.checkAll(["st1"]);
  await shows.checkForPush("st1");
  expect(w.refreshed).toEqual(["11"]);
});

test("Plex down: the change is not taken as given, the next check refreshes it", async () => {
  const w = world();
  w.show("st1", { summary: "About." });
  w.inPlex("st1", "11");
  const shows = w.make();
  await shows.checkAll(["st1"]);
  w.show("st1", { summary: "Changed." });
  w.setPlexDown(true);
  await expect(shows.checkAll(["st1"])).rejects.toBeInstanceOf(PlexError);
  w.setPlexDown(false);
  await shows.checkAll(["st1"]);
  expect(w.refreshed).toEqual(["11"]);
});

test("signatures survive a restart: a change made while stopped is refreshed by the first pass after", async () => {
  const w = world();
  w.show("st1", { thumb: "http://s2p/images/studio/1?t=100" });
  w.inPlex("st1", "11");
  await w.make().checkAll(["st1"]);
  w.show("st1", { thumb: "http://s2p/images/studio/1?t=300" });
  await w.make().checkAll(["st1"]);
  expect(w.refreshed).toEqual(["11"]);
});

test("a push looks at its show at most once per 5 s; a show Plex's index lacks makes it ask the index first", async () => {
  const w = world();
  w.show("st1", { summary: "About." });
  const shows = w.make();
  expect(await shows.checkForPush("st1")).toBeNull();
  expect(w.reindexes()).toBe(1); // not in the index: asked for news before giving up
  w.inPlex("st1", "11");
  w.show("st1", { summary: "Changed." });
  w.tick(1000);
  expect(await shows.checkForPush("st1")).toBeNull(); // too soon after the last look (one is left for later)
  expect(w.refreshed).toEqual([]);
  w.tick(5000);
  expect(await shows.checkForPush("st1")).toBe('show st1 refreshed ("Studio st1": changed in Stash)');
  expect(w.refreshed).toEqual(["11"]);
});

// Found by the chaos soak: a scene moved to a studio whose show Plex had just dropped (its last
// episode had moved away) while our index still had it. The show's 404 made the scene's push a
// dead letter, so its edit never reached its new episode.
test("a show item Plex has dropped (404) is forgotten and the check goes on; other errors still stop it", async () => {
  const w = world();
  w.show("st1", { summary: "About." });
  w.inPlex("st1", "11");
  const shows = w.make();
  await shows.checkAll(["st1"]);
  w.show("st1", { summary: "About, again." });
  w.dropped.add("11");
  expect(await shows.checkForPush("st1")).toBeNull();
  expect(w.items.get(`${TV}://show/st1`)).toEqual([]);
  w.tick(10_000);
  w.show("st1", { summary: "And again." });
  w.inPlex("st1", "12");
  w.setPlexDown(true);
  await expect(shows.checkForPush("st1")).rejects.toThrow("cannot connect");
});
