/**
 * A reconcile's TV part (the I/O around tv-detect.ts): pages the episodes (`type=4`) and shows
 * (`type=2`) of an instance's TV sections, then compares each scene streamed past it with its
 * episodes. A listing row shows only the first tags and no locks: an episode whose row differs,
 * or whose tags are as long as a row shows, is read whole (batched) before its scene is compared.
 * The episodes wait in the run's scratch file (item-spill.ts), found by their episode id and by
 * the scene their GUID names (the artwork gap).
 */
import type { PlexClient } from "../plex/client.ts";
import type { StashScene } from "../schema/stash.ts";
import type { SyncSection } from "../sync/push.ts";
import { tvPlexFolder, tvPlexPath, tvSectionOf, type TvLibraryPort } from "../sync/tv-push.ts";
import type { PathMapper } from "../paths/mapper.ts";
import type { MetadataContext } from "../provider/metadata.ts";
import type { Database } from "bun:sqlite";
import { refFromGuid, sceneIdOf, tvIdentifierOf } from "../domain/ref.ts";
import { createItemSpill, type SpillCodec } from "./item-spill.ts";
import type { Placement } from "../tv/types.ts";
import { oneAhead } from "./ahead.ts";
import type { Gap, KeptItem } from "../domain/gaps.ts";
import { pages } from "../paging.ts";
import { stashIsEmpty } from "../domain/scene.ts";
import { differingFields, listingMayHide, lockedFields, shownFields, type Shown } from "./compare.ts";
import {
  TV_COMPARED,
  createTvDetector,
  episodeKeyOf,
  type EpisodeView,
  type ShowView,
  type TvLibraryView,
} from "./tv-detect.ts";

const PAGE = 500;
const ITEM_BATCH = 500;

/** An episode of ours as listed, with the artwork Plex shows for it (the artwork gap). */
export interface ListedEpisode {
  ratingKey: string;
  sectionId: string;
  guid: string;
  files: string[];
  thumb?: unknown;
  art?: unknown;
}

export interface TvFound {
  /** Episodes and shows listed. */
  items: number;
  /** The episodes bound to a scene (our episode GUIDs), as listed. */
  episodesOf(sceneId: string): ListedEpisode[];
  /** Before a page of scenes: their placements and episodes read in a few queries, not a few each. */
  startOfPage(scenes: readonly StashScene[]): void;
  scene(scene: StashScene, expected: (s: StashScene) => Shown): Promise<void>;
  /** After each page of scenes: the episodes looked up meanwhile are let go (those waiting to be read whole are kept). */
  endOfPage(): void;
  finish(expected: (s: StashScene) => Shown): Promise<{ gaps: Gap[]; kept: KeptItem[] }>;
}

type SpilledEpisode = EpisodeView & { thumb?: unknown; art?: unknown };
/** An episode as JSON (its locked fields, a set, as a list). */
const codec: SpillCodec<SpilledEpisode> = {
  encode: (e) => JSON.stringify({ ...e, locked: e.locked ? [...e.locked] : undefined }),
  decode: (json) => {
    const e = JSON.parse(json);
    if (e.locked) e.locked = new Set(e.locked);
    return e;
  },
};
/** The key of an episode by the scene it is bound to (the artwork gap). */
const sceneKey = (sceneId: string) => `scene\u0000${sceneId}`;

const num = (v: unknown) => (typeof v === "number" ? v : typeof v === "string" && v !== "" ? Number(v) : undefined);

export async function gatherTv(
  plex: Pick<PlexClient, "sectionListing" | "items">,
  part: { id: string; mapper: PathMapper; ctx: MetadataContext; tv?: readonly TvLibraryPort[] },
  sections: SyncSection[],
  progress: { done: number; total: number },
  scratch: Database,
): Promise<TvFound> {
  const ratingAs = part.ctx.ratingAs ?? "critic";
  const shows: ShowView[] = [];
  const episodes = createItemSpill<SpilledEpisode>(scratch, "episodes", codec);
  const tvIdentifier = tvIdentifierOf(part.ctx.identifier);
  const keysOf = episodeKeyOf({ instance: part.id, tvIdentifier });
  const names = [{ id: part.id, identifier: part.ctx.identifier, tvIdentifier }];
  const sceneOf = (guid: string) => {
    const ref = refFromGuid(guid, names);
    return ref?.kind === "episode" ? sceneIdOf(ref) : null;
  };
  for (const section of sections) {
    for (const type of [2, 4] as const) {
      for await (const page of oneAhead(pages(PAGE, (i) => plex.sectionListing(section.key, i * PAGE, PAGE, type)))) {
        if (page.index === 0) progress.total += page.total ?? 0;
        const rows: { item: SpilledEpisode; keys: string[] }[] = [];
        for (const item of page.items) {
          if (type === 2)
            shows.push({ ratingKey: item.ratingKey, sectionId: section.key, guid: item.guid, title: item.title });
          else {
            const locked = lockedFields(item.fields);
            const { thumb, art } = item.fields;
            const episode: SpilledEpisode = {
              ratingKey: item.ratingKey,
              sectionId: section.key,
              guid: item.guid,
              files: item.files,
              show: String(item.fields.grandparentTitle ?? ""),
              season: num(item.fields.parentIndex),
              episode: num(item.fields.index),
              shown: shownFields(item.fields, ratingAs),
              ...(locked.size ? { locked } : {}),
              thumb,
              art,
            };
            const sceneId = sceneOf(item.guid);
            rows.push({ item: episode, keys: [...keysOf(episode), ...(sceneId ? [sceneKey(sceneId)] : [])] });
          }
        }
        episodes.addAll(rows);
        progress.done += page.items.length;
      }
    }
  }
  // A placement without its link (a Windows path, something in its place) cannot be in Plex:
  // the TV page says why; it is no gap.
  const linkedOf = (lib: TvLibraryPort, placement: Placement | undefined) =>
    placement && !lib.unlinked?.(placement.link) ? placement : undefined;
  /** Each scene's placement as this page of scenes first read it (the detector asks for it more than once a scene). */
  let placements = new Map<string, ReturnType<TvLibraryView["placementOf"]>>();
  const libraries: TvLibraryView[] = (part.tv ?? []).map((lib) => {
    const folder = tvPlexFolder(lib, part.mapper);
    return {
      id: lib.id,
      scheme: lib.scheme,
      sectionId: folder ? tvSectionOf(sections, part.id, folder)?.key : undefined,
      placementOf: (sceneId) => {
        const key = `${lib.id}\u0000${sceneId}`;
        if (placements.has(key)) return placements.get(key);
        const linked = linkedOf(lib, lib.catalog.placementOf(lib.scheme, sceneId));
        placements.set(key, linked);
        return linked;
      },
      showTitle: (showId) => lib.catalog.show(showId)?.title,
      plexPathOf: (link) => tvPlexPath(lib, part.mapper, link),
    };
  });
  let expectedOf: (s: StashScene) => Shown = () => ({ genres: [], performers: [], collections: [] });
  const detector = createTvDetector(episodes, shows, {
    instance: part.id,
    tvIdentifier,
    libraries,
    expected: (s) => expectedOf(s),
  });

  let waiting: StashScene[] = [];
  let toRead = new Map<string, EpisodeView>();
  async function compareWaiting() {
    const keys = [...toRead.keys()];
    for (let i = 0; i < keys.length; i += ITEM_BATCH) {
      for (const body of await plex.items(keys.slice(i, i + ITEM_BATCH))) {
        const item = toRead.get(String(body.ratingKey));
        if (!item) continue;
        item.shown = shownFields(body, ratingAs);
        item.full = true;
        const locked = lockedFields(body);
        if (locked.size) item.locked = locked;
      }
    }
    for (const scene of waiting) detector.scene(scene);
    waiting = [];
    toRead = new Map();
  }

  return {
    items: episodes.size + shows.length,
    episodesOf: (sceneId) => episodes.holding(sceneKey(sceneId)),
    startOfPage(scenes) {
      const ids = scenes.map((s) => s.id);
      for (const lib of part.tv ?? []) {
        const found = lib.catalog.placementsOf(lib.scheme, ids);
        for (const id of ids) placements.set(`${lib.id}\u0000${id}`, linkedOf(lib, found.get(id)));
      }
      detector.prefetch(scenes);
      episodes.prefetch(ids.map(sceneKey));
    },
    endOfPage: () => {
      episodes.release(toRead.values());
      placements = new Map();
    },
    async scene(scene, expected) {
      expectedOf = expected;
      const unsure = stashIsEmpty(scene)
        ? []
        : detector
            .holders(scene)
            .filter(
              (e) =>
                !e.full &&
                (listingMayHide(e.shown) || differingFields(expected(scene), e.shown, true, TV_COMPARED).length > 0),
            );
      if (!unsure.length) detector.scene(scene);
      else {
        waiting.push(scene);
        for (const e of unsure) toRead.set(e.ratingKey, e);
      }
      if (toRead.size >= ITEM_BATCH) await compareWaiting();
    },
    async finish(expected) {
      expectedOf = expected;
      await compareWaiting();
      return { gaps: detector.finish(), kept: [...detector.kept()] };
    },
  };
}
