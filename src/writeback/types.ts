/**
 * Plex → Stash write-back (issue 21): the contract between its parts. Intake (Plex webhooks,
 * PMS's notification stream with /status/sessions, the watch-history catch-up) turns what Plex
 * tells into PlexEvents and records each ONCE in a durable queue (events.ts, keyed by `key`);
 * the applier writes them to the scene's Stash (sceneAddPlay, sceneSaveActivity, sceneUpdate
 * rating100) and marks them done. Everything that could be told twice (a replayed webhook, a
 * re-poll, a restart, two sources seeing one viewing) carries the same key.
 */
import type { Ref } from "../domain/ref.ts";

export type EventSource = "webhook" | "notification" | "history";

export type PlexEvent =
  | (EventBase & {
      /** A viewing finished (scrobbled / in the history): one play in Stash at `at`. */
      kind: "play";
    })
  | (EventBase & {
      /** Stopped or paused part-way: Stash's resume point becomes `viewOffsetMs` (0: finished, clear it). */
      kind: "progress";
      viewOffsetMs: number;
      durationMs?: number;
    })
  | (EventBase & {
      /** The user's star rating in Plex, 0–10 (half stars ×2); null when cleared. */
      kind: "rate";
      rating: number | null;
    });

interface EventBase {
  /**
   * The idempotency key, from Plex's own identifiers, equal whichever source saw it:
   * a play `play:<instance>:<ratingKey>:<accountId>:<viewedAt s>`, progress and rate keyed so a
   * replay of the same moment coalesces (see intake).
   */
  key: string;
  source: EventSource;
  /** The Stash scene (a movie item's scene, or an episode's scene) the Plex item's GUID names. */
  ref: Ref;
  /** Plex's item, for the log and the dashboard. */
  ratingKey: string;
  /** The Plex account (1 is the server owner on PMS's own numbering) and its name when known. */
  account: { id: string; name?: string };
  /** When it happened, by Plex's clock (ms since the epoch). */
  at: number;
}
