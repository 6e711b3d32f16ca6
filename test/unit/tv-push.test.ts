/**
 * The TV half of a push after a crash (found by the chaos soak, bench/chaos.ts): a scene's link
 * was moved to another season and the process was killed before Plex was asked to scan the
 * season it left. After the restart the link is already right (nothing is "touched"), yet Plex
 * still has the old episode there: its folder must be scanned, or the scene shows twice.
 */
import { expect, test } from "bun:test";
import { createTvPusher, type TvLibraryPort } from "../../src/sync/tv-push.ts";
import type { SyncSection } from "../../src/sync/push.ts";
import type { IndexedItem } from "../../src/sync/plex-index.ts";
import type { PathMapper } from "../../src/paths/mapper.ts";
import type { StashScene } from "../../src/schema/stash.ts";

const TV = "tv.plex.agents.custom.stash2plex.tv";
const GUID = `${TV}://episode/st-42`;
const FOLDER = "/tv";
const NEW = "Studio A {s2p-st1}/Season 2015/Studio A - S2015E10270 - T {s2p-st-42}.mp4";
const OLD_FILE = `${FOLDER}/Studio A {s2p-st1}/Season 2023/Studio A - S2023E09170 - T {s2p-st-42}.mp4`;
const section: SyncSection = {
  key: "3",
  title: "Sites",
  type: "show",
  agent: TV,
  locations: [FOLDER],
  strategy: "refresh",
  instance: "default",
};

function pusher(items: IndexedItem[], files: Record<string, string>) {
  const scans: string[] = [];
  const library: TvLibraryPort = {
    id: "sites",
    folder: FOLDER,
    plexFolder: FOLDER,
    scheme: "st",
    catalog: { show: () => undefined, placementOf: () => undefined } as unknown as TvLibraryPort["catalog"],
    // After the restart: the link is where it belongs already, so nothing changes now.
    sync: async () => ({
      placement: { sceneId: "42", scheme: "st", showId: "st1", season: 2015, episode: 10270, link: NEW },
      touched: [],
    }),
  };
  const tv = createTvPusher({
    instance: "default",
    tvIdentifier: TV,
    libraries: [library],
    plex: {
      scanPath: async (_section, path) => void scans.push(path),
      refresh: async () => {},
      items: async (keys) =>
        keys.flatMap((k) => (files[k] ? [{ ratingKey: k, Media: [{ Part: [{ file: files[k] }] }] }] : [])),
    },
    index: {
      atPath: (path) => items.filter((i) => files[i.rating_key] === path),
      byGuid: (guid) => items.filter((i) => i.guid === guid),
      byToken: (token) =>
        Object.entries(files)
          .filter(([, path]) => path.includes(`${token}.`))
          .map(([rating_key, path]) => ({ rating_key, path })),
    },
    mapper: {} as PathMapper,
    scanWindowMs: 60_000,
  });
  return { tv, scans };
}

const item = (key: string): IndexedItem => ({ rating_key: key, section_id: "3", guid: GUID, title: "T" });
const scene = { id: "42" } as StashScene;

test("after a kill between moving a link and asking for the scan: the season left behind is scanned, the new episode refreshed", async () => {
  const { tv, scans } = pusher([item("7"), item("9")], { "7": OLD_FILE, "9": `${FOLDER}/${NEW}` });
  const upkeep = await tv.upkeep(scene, [section], async () => {});
  expect(upkeep.items.map((i) => i.rating_key)).toEqual(["9"]);
  expect(scans).toEqual([`${FOLDER}/Studio A {s2p-st1}/Season 2023`]);
  // Asked once per window, not at every push of the scene.
  await tv.upkeep(scene, [section], async () => {});
  expect(scans).toHaveLength(1);
});

test("no old episode (or one Plex no longer has): no scan beyond the scene's own", async () => {
  const { tv, scans } = pusher([item("9"), item("11")], { "9": `${FOLDER}/${NEW}` });
  const upkeep = await tv.upkeep(scene, [section], async () => {});
  expect(upkeep.items.map((i) => i.rating_key)).toEqual(["9"]);
  expect(scans).toEqual([]);
});
