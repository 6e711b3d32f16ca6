/** What the dashboard reads and does: the service's parts, gathered by the composition root. */
import type { Backups } from "../store/backups.ts";
import type { DatabaseHealth } from "../store/health.ts";
import type { IdentityRow } from "../sync/identity-state.ts";
import type { Config } from "../config/schema.ts";
import type { Access } from "../admin/access.ts";
import type { Queue } from "../sync/queue.ts";
import type { Breaker } from "../sync/breaker.ts";
import type { FileIndex } from "../stash/file-index.ts";
import type { Reconciler } from "../gaps/reconcile.ts";
import type { GapKind } from "../domain/gaps.ts";
import type { JobState } from "../jobs.ts";
import type { PathMapper } from "../paths/mapper.ts";
import type { MatchDeps } from "../provider/match.ts";
import type { Suggestion } from "../paths/suggest.ts";
import type { Check } from "../admin/health.ts";
import type { SyncScope } from "../sync/select.ts";
import type { Outage } from "../sync/breaker.ts";
import type { StashInstance } from "../config/instances.ts";
import type { TvLibraryState } from "../sync/tv-libraries.ts";
import type { KeptCollection } from "../collections/state.ts";
import type { Placement } from "../tv/types.ts";
import type { ShowScheme } from "../domain/ref.ts";
import type { EventQueue } from "../writeback/events.ts";
import type { WritebackState } from "../writeback/types.ts";

/**
 * One Stash instance as the operator sees it: its settings (secrets as set or not), the URL to
 * paste in Plex, its index of scenes, and the breaker guarding its pushes.
 */
export interface InstanceView {
  instance: StashInstance;
  /** The URL to paste in Plex's Add Provider for this instance. */
  providerUrl: string;
  /** Its Stash's URL, without any credentials in it. */
  stashUrl: string;
  index: Pick<FileIndex, "size" | "scene" | "scenesWithTitleWords">;
  /** Its breaker's state now (closed, open, half-open). */
  breakerState(): string;
  /** Its outages (Plex not taking its pushes), newest first. */
  outages(limit?: number): Outage[];
}

export interface SyncProgress {
  what: string;
  total: number;
  done: number;
  startedAt: number;
}

export interface DashboardSource {
  config: Config;
  access: Access;
  queue: Queue;
  breaker: Breaker;
  stashIndex: Pick<FileIndex, "size" | "scene" | "scenesWithTitleWords">;
  plexItems: () => number;
  /** Undefined when push is off. */
  reconciler?: Reconciler;
  healable: readonly GapKind[];
  jobs: () => JobState[];
  runJob: (id: string) => boolean;
  /** How a Plex file whose name tells nothing was found (size and duration, fingerprint) or why not (sync/identity.ts). */
  identityAt?: (plexPath: string) => IdentityRow | undefined;
  /** The database's trouble while running (store/health.ts): a page it breaks says it instead. */
  database: Pick<DatabaseHealth, "problem">;
  /** The database's backups: listed on the jobs page, taken by its button. */
  backups: Pick<Backups, "take" | "list">;
  mapper: PathMapper;
  match: MatchDeps;
  suggest?: () => Promise<Suggestion>;
  /** Stash, Plex and the database, checked at most every few seconds. */
  checks: () => Promise<Record<string, Check>>;
  sync?: (scope: SyncScope) => Promise<number>;
  syncProgress: () => SyncProgress | null;
  /** Every Stash instance, the default first (one entry for an install with one Stash). */
  instances: InstanceView[];
  /** The TV-style libraries (tv.libraries); empty or undefined: none. */
  tv?: TvLibraryView[];
  /** The collections kept in Plex (collections/state.ts); undefined when collections are off. */
  collections?: () => KeptCollection[];
  /** Write-back (Plex → Stash); undefined when it is off. */
  writeback?: WritebackView;
}

/** What the dashboard shows of write-back: its events, and the webhook URL to paste into Plex. */
export interface WritebackView {
  events: Pick<EventQueue, "counts" | "recent" | "forRef" | "nextAttemptAt" | "retryFailed" | "discardFailed">;
  /** The notification stream, each Stash's write-back breaker, the catch-up (absent: not shown). */
  state?: () => WritebackState;
  /** The Plex webhook URL with `<token>` in place of the token (undefined: the webhook is off). */
  webhookUrl?: string;
}

/** A TV-style library as the dashboard shows it: its folder, its counts, its last full pass. */
export interface TvLibraryView {
  id: string;
  instance: string;
  layout: string;
  /** The scheme of its shows (st, sn, gr): which episodes are its. */
  scheme: ShowScheme;
  folder: string;
  /** The folder as Plex sees it (plexFolder, else mapped by the rules); null when nothing maps it. */
  plexFolder: string | null;
  /** Shows and episodes in its catalog now. */
  counts(): { shows: number; episodes: number };
  /** When its last full pass ended, what it changed and what it left alone. */
  state(): TvLibraryState;
  /** Where a scene of its instance sits: show, season, episode and link; undefined: not placed. */
  placementOf(sceneId: string): (Placement & { showTitle?: string }) | undefined;
  /** A link (inside the episode folder) as Plex sees it. */
  plexPathOf(link: string): string | null;
}
