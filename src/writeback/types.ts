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
      /**
       * How long the viewing played since the source's previous event of it (paused time left
       * out), as the source that saw it play measured it (the notification stream, webhooks);
       * absent when the source cannot tell (the history catch-up). Added to Stash's
       * play_duration at most once (events.ts `markPlayedSent`).
       */
      playedMs?: number;
    })
  | (EventBase & {
      /** Stopped or paused part-way: Stash's resume point becomes `viewOffsetMs` (0: finished, clear it). */
      kind: "progress";
      viewOffsetMs: number;
      durationMs?: number;
      /** As a play's: time played since the source's previous event of this viewing. */
      playedMs?: number;
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

/** PMS's notification stream: not followed, opening, open, or lost and being tried again. */
export type StreamState = "off" | "connecting" | "connected" | "reconnecting";

/** What the dashboard, /api/status and /metrics show of write-back's moving parts. */
export interface WritebackState {
  /** PMS's notification stream: off (WRITEBACK_NOTIFICATIONS=false, or no Plex), connecting, connected or reconnecting. */
  stream: {
    state: StreamState;
    /** Connected: since when; reconnecting: since when it was lost (ms); else null. */
    since: number | null;
    failures: number;
    lastError: string | null;
  };
  /** Each Stash instance's write-back breaker: open while its Stash does not answer. */
  breakers: { instance: string; state: "closed" | "open"; since: number | null; lastError: string | null }[];
  /** The watch-history catch-up: how far it has read (s since the epoch; null before its first pass) and its last pass. */
  catchUp: {
    on: boolean;
    watermark: number | null;
    ratingsWatermark: number | null;
    lastRun: { at: number; read: number; recorded: number } | null;
    lastError: { at: number; error: string } | null;
  };
}
