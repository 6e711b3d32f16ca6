/**
 * The write-back queue: what Plex told about watching (plays, resume points, ratings), each
 * recorded ONCE in SQLite before anyone is told "received" (the webhook answers 200 only after
 * `record` returned: synchronous = FULL, so it survives a kill -9 or a power cut).
 *
 * One row per event key (types.ts, `PlexEvent.key`, made by `eventKeys` below): a replayed
 * webhook, a re-poll, a restart or a second source seeing the same viewing stores nothing new,
 * it only adds its source to the row (`sources`). Plays coalesce a little further (see
 * PLAY_TOLERANCE_MS): two sources may date one viewing a second or two apart.
 *
 * States: pending (waits for the worker; `next_attempt_at` says when), done (written to Stash, or
 * nothing needed writing: `outcome` says which), failed (gave up after `maxAttempts`; a retry puts
 * it back), ignored (nothing to do by rule: a user not on the allow-list, say; `last_error` says
 * why). A claimed row keeps state pending with `claimed_at` set: if the process dies then, the
 * claim lapses after the lease and the row is claimed again (the applier checks Stash's play
 * history before adding a play twice).
 *
 * Watermarks (how far the watch-history catch-up has read) live in `meta` under
 * `writeback:watermark:<source>`; a watermark is advanced by the caller only after the events up
 * to it are recorded.
 *
 * This module is the one owner of the table `writeback_events` (test/unit/table-owners.test.ts).
 */
import { type InstanceName, refFromGuid, refKey, type Ref, sceneIdOf } from "../domain/ref.ts";
import type { Store } from "../store/db.ts";
import { backoffMs } from "../sync/backoff.ts";
import type { EventSource, PlexEvent } from "./types.ts";

export type EventState = "pending" | "done" | "failed" | "ignored";

/**
 * Two play events of one item, one account and one instance dated at most this far apart are
 * one viewing: the webhook dates a play by the item's lastViewedAt, the history by its
 * viewedAt, the notification path by the history it reads back, and PMS stamps these in
 * separate writes (seconds apart at most). A scene watched to its end twice within two minutes
 * is not a real case; a double count is.
 */
export const PLAY_TOLERANCE_MS = 120_000;

/**
 * A pause or stop told by two sources (the webhook and the notification stream) is one event
 * when their positions are this close and their times PROGRESS_TOLERANCE_MS: each carries the
 * time played its source measured, and only one may be added to Stash's. Their keys are equal
 * when both name the same second of the position; this catches the two sides of a second.
 */
export const PROGRESS_OFFSET_TOLERANCE_MS = 2_000;
export const PROGRESS_TOLERANCE_MS = 60_000;

/** A stored event: the PlexEvent as recorded, and where it stands. */
export interface StoredEvent {
  key: string;
  event: PlexEvent;
  state: EventState;
  /** Every source that told of it, first one first. */
  sources: EventSource[];
  attempts: number;
  nextAttemptAt: number;
  claimedAt: number | null;
  lastError: string | null;
  /** What writing it did (the applier's words: "play added", "rating already 80"…). */
  outcome: string | null;
  receivedAt: number;
  doneAt: number | null;
  /** When its time played was handed to Stash (null: not yet, or it carries none). */
  playedSentAt: number | null;
}

export interface EventCounts {
  pending: number;
  /** Pending and due now (not waiting out a backoff). */
  due: number;
  done: number;
  failed: number;
  ignored: number;
}

export interface EventQueueOptions {
  /** Attempts before an event is given up on (failed). */
  maxAttempts?: number;
  retryBaseMs?: number;
  retryCapMs?: number;
  /** A claim older than this lapses (its worker died): the event is claimed again. */
  leaseMs?: number;
  /** Called when a person's Retry made events due, so they are written now, not at the next pass. */
  onRetried?: () => void;
}

interface Row {
  key: string;
  kind: string;
  ref: string;
  rating_key: string;
  account_id: string;
  at: number;
  event: string;
  sources: string;
  state: EventState;
  attempts: number;
  next_attempt_at: number;
  claimed_at: number | null;
  last_error: string | null;
  outcome: string | null;
  received_at: number;
  done_at: number | null;
  played_sent_at: number | null;
}

const toStored = (r: Row): StoredEvent => ({
  key: r.key,
  event: JSON.parse(r.event) as PlexEvent,
  state: r.state,
  sources: r.sources.split(",") as EventSource[],
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  claimedAt: r.claimed_at,
  lastError: r.last_error,
  outcome: r.outcome,
  receivedAt: r.received_at,
  doneAt: r.done_at,
  playedSentAt: r.played_sent_at,
});

/** The key range of one instance's refs (refKey starts with `<instance>:`). */
const rangeOf = (instance: string): [string, string] => [`${instance}:`, `${instance};`];

/** The meta key of a source's watermark. */
const watermarkKey = (source: string) => `writeback:watermark:${source}`;

export function createEventQueue(store: Store, now: () => number = Date.now, options: EventQueueOptions = {}) {
  const { db } = store;
  const maxAttempts = options.maxAttempts ?? 20;
  const retryBaseMs = options.retryBaseMs ?? 5_000;
  const retryCapMs = options.retryCapMs ?? 15 * 60_000;
  const leaseMs = options.leaseMs ?? 120_000;

  const insert = db.query<
    { key: string },
    [string, string, string, string, string, number, string, string, number, number]
  >(
    `INSERT OR IGNORE INTO writeback_events
       (key, kind, ref, rating_key, account_id, at, event, sources, state, attempts, next_attempt_at, received_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) RETURNING key`,
  );
  const samePlay = db.query<{ key: string; sources: string }, [string, string, string, number, number]>(
    `SELECT key, sources FROM writeback_events
      WHERE kind = 'play' AND ref = ? AND rating_key = ? AND account_id = ? AND at BETWEEN ? AND ? LIMIT 1`,
  );
  const sameProgress = db.query<{ key: string }, [string, string, string, number, number, number, string]>(
    `SELECT key FROM writeback_events
      WHERE kind = 'progress' AND ref = ? AND rating_key = ? AND account_id = ? AND at BETWEEN ? AND ?
        AND abs(json_extract(event, '$.viewOffsetMs') - ?) <= ${PROGRESS_OFFSET_TOLERANCE_MS}
        AND instr(sources, ?) = 0 LIMIT 1`,
  );
  const sourcesOf = db.query<{ sources: string }, [string]>("SELECT sources FROM writeback_events WHERE key = ?");
  const setSources = db.query("UPDATE writeback_events SET sources = ? WHERE key = ?");
  const get = db.query<Row, [string]>("SELECT * FROM writeback_events WHERE key = ?");

  /** Adds a source to an existing row (a second source saw the same event). */
  const noteSource = (key: string, source: EventSource) => {
    const sources = sourcesOf.get(key)?.sources.split(",") ?? [];
    if (!sources.includes(source)) setSources.run([...sources, source].join(","), key);
  };

  /** The row another source stored for this same viewing, pause or stop (its key), if any. */
  const twinOf = (event: PlexEvent, ref: string): string | undefined => {
    const { ratingKey, account, at } = event;
    if (event.kind === "play")
      return samePlay.get(ref, ratingKey, account.id, at - PLAY_TOLERANCE_MS, at + PLAY_TOLERANCE_MS)?.key;
    if (event.kind !== "progress") return undefined;
    // Another source's report of the same pause or stop (a source's own later pause is not one).
    const twin = sameProgress.get(
      ref,
      ratingKey,
      account.id,
      at - PROGRESS_TOLERANCE_MS,
      at + PROGRESS_TOLERANCE_MS,
      event.viewOffsetMs,
      event.source,
    )?.key;
    return twin === event.key ? undefined : twin;
  };

  /** One event; true when it is new (stored), false when it was known already. */
  const recordOne = (event: PlexEvent): boolean => {
    const ref = refKey(event.ref);
    const twin = twinOf(event, ref);
    if (twin) {
      noteSource(twin, event.source);
      return false;
    }
    const t = now();
    const stored = insert.get(
      event.key,
      event.kind,
      ref,
      event.ratingKey,
      event.account.id,
      event.at,
      JSON.stringify(event),
      event.source,
      t,
      t,
    );
    if (!stored) noteSource(event.key, event.source);
    return Boolean(stored);
  };

  const claimRows = db.query<Row, [number, number, string, string, number]>(
    `UPDATE writeback_events SET claimed_at = ?1
      WHERE key IN (
        SELECT key FROM writeback_events
         WHERE state = 'pending' AND next_attempt_at <= ?1 AND (claimed_at IS NULL OR claimed_at < ?2)
           AND ref >= ?3 AND ref < ?4
         ORDER BY at, key LIMIT ?5)
      RETURNING *`,
  );

  return {
    /** Records one event (durably, before returning); true when it is new. */
    record: (event: PlexEvent): boolean => db.transaction(() => recordOne(event))(),
    /** Records several in one transaction (one disk sync); answers the ones that were new. */
    recordAll: (events: readonly PlexEvent[]): PlexEvent[] => db.transaction(() => events.filter(recordOne))(),

    /**
     * Up to `limit` due events of one instance (oldest viewing first), claimed for `leaseMs`.
     * Complete, fail or ignore each; an unanswered claim lapses and is claimed again.
     */
    claim(instance: string, limit = 20): StoredEvent[] {
      const t = now();
      const [lo, hi] = rangeOf(instance);
      return claimRows
        .all(t, t - leaseMs, lo, hi, limit)
        .sort((a, b) => a.at - b.at || a.key.localeCompare(b.key))
        .map(toStored);
    },
    /** Written to Stash (or nothing needed writing): `outcome` says what was done. */
    complete(key: string, outcome: string) {
      db.query(
        "UPDATE writeback_events SET state = 'done', done_at = ?, outcome = ?, claimed_at = NULL, last_error = NULL WHERE key = ?",
      ).run(now(), outcome, key);
    },
    /**
     * Writing failed. Transient (Stash down, a timeout): tried again after a backoff, until
     * `maxAttempts`, then failed. Permanent (the scene is gone): failed at once.
     */
    fail(key: string, error: string, permanent = false): EventState {
      const row = get.get(key);
      if (!row) return "failed";
      const attempts = row.attempts + 1;
      const gaveUp = permanent || attempts >= maxAttempts;
      const t = now();
      db.query(
        `UPDATE writeback_events SET attempts = ?, last_error = ?, claimed_at = NULL, next_attempt_at = ?,
           state = ?, done_at = ? WHERE key = ?`,
      ).run(
        attempts,
        error.slice(0, 500),
        t + backoffMs(attempts, retryBaseMs, retryCapMs),
        gaveUp ? "failed" : "pending",
        gaveUp ? t : null,
        key,
      );
      return gaveUp ? "failed" : "pending";
    },
    /**
     * Puts a claimed event back untouched (the instance's Stash is down: the attempt did not
     * count), due again after `delayMs`.
     */
    release(key: string, delayMs = 0) {
      db.query("UPDATE writeback_events SET claimed_at = NULL, next_attempt_at = ? WHERE key = ?").run(
        now() + delayMs,
        key,
      );
    },
    /**
     * Its time played is being handed to Stash: recorded (durably) BEFORE Stash is called, and
     * never undone. Stash ADDS a playDuration to play_duration, so a retry must not send it
     * again: a crash or a failed call after this loses the time rather than counting it twice.
     */
    markPlayedSent(key: string) {
      db.query("UPDATE writeback_events SET played_sent_at = ? WHERE key = ?").run(now(), key);
    },
    /** Nothing to do by rule (a user not allowed, an item type we do not write); `why` is shown. */
    ignore(key: string, why: string) {
      db.query(
        "UPDATE writeback_events SET state = 'ignored', done_at = ?, last_error = ?, claimed_at = NULL WHERE key = ?",
      ).run(now(), why.slice(0, 500), key);
    },
    /** A failed event back to pending, due now (the operator's retry); false when it was not failed. */
    retry(key: string): boolean {
      return (
        db
          .query(
            "UPDATE writeback_events SET state = 'pending', attempts = 0, next_attempt_at = ?, done_at = NULL WHERE key = ? AND state = 'failed'",
          )
          .run(now(), key).changes > 0
      );
    },
    /**
     * Failed events back to pending, due now (the dashboard's and the API's Retry): the ones
     * named by key, or every failed one. Answers how many went back.
     */
    retryFailed(keys?: readonly string[]): number {
      const t = now();
      const one = db.query(
        "UPDATE writeback_events SET state = 'pending', attempts = 0, next_attempt_at = ?, done_at = NULL WHERE key = ? AND state = 'failed'",
      );
      const retried = keys
        ? db.transaction(() => keys.reduce((n, key) => n + one.run(t, key).changes, 0))()
        : db
            .query(
              "UPDATE writeback_events SET state = 'pending', attempts = 0, next_attempt_at = ?, done_at = NULL WHERE state = 'failed'",
            )
            .run(t).changes;
      if (retried) options.onRetried?.();
      return retried;
    },
    /**
     * Failed events given up for good (Discard): ignored, saying so. The row stays, so a replay
     * of the same event (a webhook sent again, the history re-read) is still known and not redone.
     */
    discardFailed(keys?: readonly string[]): number {
      const why = "discarded on the dashboard (it had failed: nothing was written)";
      const sql = `UPDATE writeback_events SET state = 'ignored', done_at = ?, last_error = ?, claimed_at = NULL
        WHERE state = 'failed'`;
      if (!keys) return db.query(`${sql}`).run(now(), why).changes;
      const one = db.query(`${sql} AND key = ?`);
      return db.transaction(() => keys.reduce((n, key) => n + one.run(now(), why, key).changes, 0))();
    },
    /** When the next pending event not due yet is due (null: none waits out a backoff). */
    nextAttemptAt(): number | null {
      return (
        db
          .query<{ t: number | null }, [number]>(
            "SELECT MIN(next_attempt_at) AS t FROM writeback_events WHERE state = 'pending' AND next_attempt_at > ?",
          )
          .get(now())?.t ?? null
      );
    },
    /** Every claim lapses now (at start: nothing of a previous process is running). */
    recover(): number {
      return db.query("UPDATE writeback_events SET claimed_at = NULL WHERE claimed_at IS NOT NULL").run().changes;
    },

    get: (key: string): StoredEvent | undefined => {
      const row = get.get(key);
      return row ? toStored(row) : undefined;
    },
    /** Counts per state (one instance's, or every instance's), for the dashboard and /metrics. */
    counts(instance?: string): EventCounts {
      const [lo, hi] = instance ? rangeOf(instance) : ["", "\uffff"];
      const rows = db
        .query<{ state: EventState; n: number; due: number }, [number, string, string]>(
          `SELECT state, COUNT(*) AS n, SUM(state = 'pending' AND next_attempt_at <= ?) AS due
             FROM writeback_events WHERE ref >= ? AND ref < ? GROUP BY state`,
        )
        .all(now(), lo, hi);
      const counts: EventCounts = { pending: 0, due: 0, done: 0, failed: 0, ignored: 0 };
      for (const r of rows) {
        counts[r.state] = r.n;
        counts.due += r.due ?? 0;
      }
      return counts;
    },
    /** The events of one scene's reference, newest first (the scene's history view). */
    forRef(ref: Ref, limit = 50): StoredEvent[] {
      return db
        .query<Row, [string, number]>("SELECT * FROM writeback_events WHERE ref = ? ORDER BY at DESC, key LIMIT ?")
        .all(refKey(ref), limit)
        .map(toStored);
    },
    /** The latest events (all states, or one), newest received first (the dashboard's list). */
    recent(limit = 50, state?: EventState): StoredEvent[] {
      return db
        .query<Row, [string | null, number]>(
          "SELECT * FROM writeback_events WHERE (?1 IS NULL OR state = ?1) ORDER BY received_at DESC, at DESC LIMIT ?2",
        )
        .all(state ?? null, limit)
        .map(toStored);
    },
    /** How many rows the table holds (tests count them: hostile input stores nothing). */
    size: (): number => db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM writeback_events").get()!.n,

    /** How far a source's catch-up has read (its own units: the history's viewedAt in seconds). */
    watermark: (source: string): number | undefined => {
      const v = store.meta.get(watermarkKey(source));
      return v === undefined ? undefined : Number(v);
    },
    /** Moves a source's watermark; call only after the events up to it are recorded. */
    setWatermark: (source: string, value: number) => store.meta.set(watermarkKey(source), String(value)),
  };
}
export type EventQueue = ReturnType<typeof createEventQueue>;

/**
 * The keys, from Plex's own identifiers, equal whichever source saw the event:
 * - a play: `play:<instance>:<ratingKey>:<accountId>:<viewedAt s>`. viewedAt is the history
 *   entry's viewedAt (catch-up, and the notification path, which reads the entry back), or the
 *   item's lastViewedAt in the scrobble webhook (PMS stamps both in the same scrobble). When
 *   they differ by a second or two, PLAY_TOLERANCE_MS coalesces them in `record`.
 * - progress: `progress:<instance>:<ratingKey>:<accountId>:<viewOffset s>`: a replayed pause or
 *   stop of the same moment carries the same offset; a later pause has another. Finished (offset
 *   0, the resume point cleared): `…:0:<viewedAt s>`, one per viewing.
 * - a rating: `rate:<instance>:<ratingKey>:<accountId>:<rating|none>:<lastRatedAt s|->`: a
 *   replayed rate webhook and the library listing's userRating/lastRatedAt name the same one.
 * `accountId` is PMS's own account number (1: the server owner), as webhooks and the history
 * give it; the notification path maps /status/sessions' plex.tv user id to it (/accounts).
 */
export const eventKeys = {
  play: (ref: Ref, ratingKey: string, accountId: string, viewedAtS: number) =>
    `play:${ref.instance}:${ratingKey}:${accountId}:${Math.floor(viewedAtS)}`,
  /** A finished viewing's progress (offset 0) names the viewing too, else the next one's would be taken as a replay. */
  progress: (ref: Ref, ratingKey: string, accountId: string, viewOffsetMs: number, viewedAtS?: number) =>
    `progress:${ref.instance}:${ratingKey}:${accountId}:${Math.floor(viewOffsetMs / 1000)}${viewedAtS === undefined ? "" : `:${Math.floor(viewedAtS)}`}`,
  rate: (ref: Ref, ratingKey: string, accountId: string, rating: number | null, ratedAtS?: number) =>
    `rate:${ref.instance}:${ratingKey}:${accountId}:${rating ?? "none"}:${ratedAtS === undefined ? "-" : Math.floor(ratedAtS)}`,
};

/**
 * The scene reference behind a Plex item's GUID, when the item is one we write back to: a movie
 * (a scene) or an episode (a scene in a TV-style library) of one of our instances. Null for
 * anyone else's GUID, and for shows and seasons (nothing in Stash to write a play to).
 */
export function sceneRefOfGuid(guid: string | undefined, instances: readonly InstanceName[]): Ref | null {
  const ref = refFromGuid(guid, instances);
  return ref && sceneIdOf(ref) ? ref : null;
}
