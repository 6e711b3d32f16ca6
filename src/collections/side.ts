/**
 * The collections side: per Stash instance whose collections are on (collections.kinds), its
 * keeper and its scheduled pass, over the Plex libraries its scenes are in.
 */
import type { CollectionsConfig } from "../config/schema.ts";
import type { Job } from "../jobs.ts";
import type { Logger } from "../log.ts";
import type { PathMapper } from "../paths/mapper.ts";
import type { PlexClient } from "../plex/client.ts";
import type { PlexCollections } from "../plex/collections.ts";
import type { MetadataContext } from "../provider/metadata.ts";
import type { StashClient } from "../stash/client.ts";
import type { Store } from "../store/db.ts";
import type { ArtworkKeeper } from "../sync/artwork.ts";
import type { PlexIndex } from "../sync/plex-index.ts";
import { DEFAULT_INSTANCE_ID, episodeRef, guidOf, SHOW_SCHEMES, sceneRef, tvIdentifierOf } from "../domain/ref.ts";
import { createCollectionKeeper, type CollectionKeeper, type SceneItem } from "./keeper.ts";
import { createCollectionState } from "./state.ts";

export interface CollectionInstance {
  id: string;
  stash: StashClient;
  mapper: PathMapper;
  ctx: MetadataContext;
  collections: CollectionsConfig;
}

export interface CollectionsSideDeps {
  store: Store;
  log: Logger;
  plex: Pick<PlexClient, "items" | "identity">;
  collections: PlexCollections;
  plexIndex: Pick<PlexIndex, "withGuids" | "forget">;
  instances: CollectionInstance[];
  /** Each instance's artwork keeper (collection posters are uploaded as items' are). */
  artworkOf?: (instance: string) => ArtworkKeeper | undefined;
  /** Off without Plex. */
  on: boolean;
}

/** How often the watch asks Stash whether a studio, group, performer or tag was edited (one request). */
const WATCH_SECONDS = 60;

export function collectionsSide(deps: CollectionsSideDeps) {
  const state = createCollectionState(deps.store);
  let machine: string | undefined;
  const machineId = async () => (machine ??= (await deps.plex.identity()).machineIdentifier);
  const keepers = new Map<string, CollectionKeeper>();
  for (const part of deps.instances) {
    if (!deps.on || part.collections.kinds.length === 0) continue;
    const movieGuid = (sceneId: string) => guidOf(part.ctx.identifier, sceneRef(part.id, sceneId));
    const tvIdentifier = tvIdentifierOf(part.ctx.identifier);
    // Each scene's items: its movie items, then its episodes in TV libraries of each layout, all
    // read in one query (a pass asks for a page of 1,000 scenes: four queries a scene were ~15 s at 200,000).
    const itemsOf = (sceneIds: readonly string[]): Map<string, SceneItem[]> => {
      const wanted = new Map<string, { sceneId: string; rank: number; type: 1 | 4 }>();
      for (const sceneId of sceneIds) {
        wanted.set(movieGuid(sceneId), { sceneId, rank: 0, type: 1 });
        SHOW_SCHEMES.forEach((scheme, i) =>
          wanted.set(guidOf(tvIdentifier, episodeRef(part.id, scheme, sceneId)), { sceneId, rank: i + 1, type: 4 }),
        );
      }
      const found = deps.plexIndex
        .withGuids([...wanted.keys()])
        .map((item) => ({ item, of: wanted.get(item.guid)! }))
        .sort((a, b) => a.of.rank - b.of.rank);
      const out = new Map<string, SceneItem[]>();
      for (const { item, of } of found) {
        let list = out.get(of.sceneId);
        if (!list) out.set(of.sceneId, (list = []));
        list.push({ ...item, type: of.type });
      }
      return out;
    };
    keepers.set(
      part.id,
      createCollectionKeeper({
        instance: part.id,
        config: part.collections,
        identifier: part.ctx.identifier,
        stash: part.stash,
        itemsOf,
        forgetItem: (ratingKey) => deps.plexIndex.forget(ratingKey),
        plex: { ...deps.collections, items: (keys) => deps.plex.items(keys) },
        machineId,
        artwork: {
          keep: async (targets) => deps.artworkOf?.(part.id)?.keep(targets),
          posterOf: (ratingKey) => deps.artworkOf?.(part.id)?.recorded(ratingKey).posters?.source,
        },
        state,
      }),
    );
  }
  const jobs: Job[] = [...keepers].flatMap(([id, keeper]) => {
    const every = (deps.instances.find((p) => p.id === id)?.collections.everyMinutes ?? 0) * 60;
    const suffix = id === DEFAULT_INSTANCE_ID ? "" : `-${id}`;
    return [
      {
        id: `collections-watch${suffix}`,
        name:
          id === DEFAULT_INSTANCE_ID
            ? "Watch Stash for renamed studios, groups, performers and tags"
            : `Watch Stash "${id}" for renamed studios, groups, performers and tags`,
        // As often as a change is expected to reach Plex (off with the schedule: run-now only).
        everySeconds: every ? WATCH_SECONDS : 0,
        firstAfterSeconds: WATCH_SECONDS,
        run: () => keeper.watch(),
      },
      {
        id: `collections${suffix}`,
        name: id === DEFAULT_INSTANCE_ID ? "Keep Plex collections exact" : `Keep Plex collections of "${id}" exact`,
        everySeconds: every,
        // After start-up's own work (the Plex index must know the items first).
        firstAfterSeconds: Math.min(every, 120),
        run: async () => {
          const result = await keeper.pass();
          const done = result.sections.reduce((n, s) => n + s.actions.length, 0);
          if (done) deps.log.info("collections kept", { instance: id, changes: done });
        },
      },
    ];
  });
  return {
    jobs,
    state,
    /** Whether any instance keeps collections. */
    on: keepers.size > 0,
    /** An instance's keeper, if its collections are on. */
    keeperOf: (instance: string) => keepers.get(instance),
  };
}
export type CollectionsSide = ReturnType<typeof collectionsSide>;
