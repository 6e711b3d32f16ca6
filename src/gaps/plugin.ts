/**
 * The gaps side: the reconciler (what Stash and Plex disagree on, and healing it through the
 * push side's queue), its API routes and its scheduled run. Only with a Plex to compare.
 */
import { Elysia } from "elysia";
import type { Access } from "../admin/access.ts";
import { reconcileRoutes } from "../admin/reconcile.ts";
import type { Config } from "../config/schema.ts";
import { HEALABLE_KINDS, type GapKind } from "../domain/gaps.ts";
import type { Job } from "../jobs.ts";
import type { Logger } from "../log.ts";
import type { PathMapper } from "../paths/mapper.ts";
import type { PlexClient } from "../plex/client.ts";
import type { MetadataContext } from "../provider/metadata.ts";
import type { StashClient } from "../stash/client.ts";
import type { Store } from "../store/db.ts";
import type { EditState } from "../sync/edit-state.ts";
import type { PlexIndex } from "../sync/plex-index.ts";
import type { SyncSection } from "../sync/push.ts";
import type { Queue } from "../sync/queue.ts";
import type { SyncScope } from "../sync/select.ts";
import { createReconciler, type ReconcileDeps, type ReconcileInstance } from "./reconcile.ts";
import type { ArtworkKeeper } from "../sync/artwork.ts";
import type { TvLibraryPort } from "../sync/tv-push.ts";
import { createRewindWatch } from "./plex-rewind.ts";

export interface GapsSideDeps {
  config: Config;
  store: Store;
  log: Logger;
  access: Access;
  /** Plex's side, shared. */
  plex: PlexClient;
  plexIndex: PlexIndex;
  sections: () => Promise<SyncSection[]>;
  /** The default instance's own parts. */
  stash: StashClient;
  mapper: PathMapper;
  ctx: MetadataContext;
  /** The default instance's index of Stash's files (copies whose names tell nothing are found by size in it). */
  index?: ReconcileDeps["index"];
  /** Every further Stash instance's parts: each compared with its own sections and healed through its own. */
  others?: ReconcileInstance[];
  /** The default instance's TV libraries (their episodes and shows are compared too). */
  tv?: TvLibraryPort[];
  /** The default instance's artwork keeper (the others carry their own). */
  artwork?: ArtworkKeeper;
  /** The default instance's collection keeper, if on (the others carry their own). */
  collections?: ReconcileDeps["collections"];
  /** The push side: its queue and what it last wrote, its manual sync, and a wake-up after queuing. */
  queue: Queue;
  editState: EditState;
  sync: (scope: SyncScope, instance?: string) => Promise<number>;
  onQueued: () => void;
  /** false when push is off: nothing to compare with; the routes say so. */
  pushOn: boolean;
}

export function gapsSide(deps: GapsSideDeps) {
  const { config, pushOn } = deps;
  const reconciler = createReconciler({
    config,
    store: deps.store,
    editState: deps.editState,
    stash: deps.stash,
    plex: deps.plex,
    sections: deps.sections,
    mapper: deps.mapper,
    ctx: deps.ctx,
    index: deps.index,
    others: deps.others,
    tv: deps.tv,
    artwork: deps.artwork,
    collections: deps.collections,
    queue: deps.queue,
    plexIndex: deps.plexIndex,
    log: deps.log,
    onQueued: deps.onQueued,
  });
  /** A manual run with heal heals every kind that has an action; asking Stash to scan is opt-in. */
  const manualHeal = HEALABLE_KINDS.filter((k) => k !== "unknown-to-stash" || config.reconcile.scanStash);
  const scheduledHeal = (config.reconcile.heal as GapKind[]).filter(
    (k) => k !== "unknown-to-stash" || config.reconcile.scanStash,
  );
  const every = Math.round(config.reconcile.everyHours * 3600);
  // A Plex restored from an older backup: found by reading back what it changed last, healed whole.
  const rewind = createRewindWatch({
    plex: deps.plex,
    plexIndex: deps.plexIndex,
    sections: deps.sections,
    log: deps.log,
    healAll: async () => {
      // A reconcile already running compares Plex as it is now; one more after it heals what it found.
      while (reconciler.running) await Bun.sleep(1000);
      return reconciler.run({ heal: scheduledHeal, trigger: "plex restored" });
    },
  });
  const jobs: Job[] = pushOn
    ? [
        {
          id: "plex-rewind",
          name: "Watch for a Plex restored from an older backup",
          everySeconds: 300,
          firstAfterSeconds: 60,
          run: () => rewind.look(),
        },
        {
          id: "reconcile",
          name: "Reconcile Stash and Plex (find and heal gaps)",
          everySeconds: every,
          // A first run shortly after start-up: whatever changed while the service was not running.
          firstAfterSeconds: config.reconcile.afterStartMinutes > 0 ? config.reconcile.afterStartMinutes * 60 : every,
          run: () => reconciler.run({ heal: scheduledHeal, trigger: "schedule" }),
        },
      ]
    : [];
  const plugin = new Elysia({ name: "gaps" }).use(
    reconcileRoutes({
      access: deps.access,
      reconciler: pushOn ? reconciler : undefined,
      healable: manualHeal,
      sync: pushOn ? deps.sync : undefined,
    }),
  );
  return { reconciler, manualHeal, plugin, jobs };
}
export type GapsSide = ReturnType<typeof gapsSide>;
