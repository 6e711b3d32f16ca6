/**
 * The durable push queue. One pending job per scene: a newer change to a queued scene bumps
 * the job's version instead of adding a second job (coalescing), and each event is kept in
 * job_history. A job is claimed (running) while it is pushed; if the process dies then, it
 * is pending again at the next start. Completing a job whose scene changed meanwhile puts it
 * back to pending, so the newer change is pushed too.
 *
 * PMS accepts a refresh at once and fetches the metadata later. A refreshed job therefore
 * waits (confirming) until PMS has fetched the scene from our provider; if that does not
 * happen by its deadline (PMS restarted, our process died in between), it is pushed again.
 *
 * Delivery is confirmed per Plex item. PMS fetches a scene by OUR key, the same for every
 * Plex item of the scene, so a fetch cannot say which item asked. The items of one scene are
 * therefore refreshed one at a time: while exactly one is awaiting, a fetch is its proof.
 * job_items records each item's state for the job's current version; a newer change to
 * the scene clears it (every item needs the newer version).
 *
 * Rows are keyed by a reference's key (domain/ref.ts: "default:scene:42", the `ref` column;
 * store/db.ts migration 6 says why one column): the API takes a Ref and the rows carry its key.
 */
import { parseRefKey, refKey, type Ref } from "../domain/ref.ts";
import type { Store } from "../store/db.ts";

/** How a refreshed item's delivery was confirmed: PMS fetched it from us, or it was read back from PMS. */
export type Confirmation = "fetch" | "read back";
const CONFIRMED_BY: Record<Confirmation, string> = { fetch: "PMS's fetch", "read back": "reading it back" };

export interface Job {
  /** The key of the reference queued (refKey). */
  ref: string;
  state: "pending" | "running" | "confirming";
  reason: string;
  stash_updated_at: string | null;
  version: number;
  attempts: number;
  first_queued_at: number;
  queued_at: number;
  next_attempt_at: number;
  claimed_at: number | null;
  last_error: string | null;
  pushed_version: number | null;
  pulled_at: number | null;
  /** The Plex item whose fetch the job awaits (confirming). */
  pushed_rating_keys: string | null;
  /** Items still to refresh after the awaited one. */
  items_left: number;
}

export interface DeadLetter {
  /** The key of the reference given up on (refKey). */
  ref: string;
  reason: string;
  attempts: number;
  first_queued_at: number;
  died_at: number;
  last_error: string;
  stash_updated_at: string | null;
}

/** What the queue holds for one instance, as /metrics shows it (pending counts every job, as `pending()` does). */
export interface QueueCounts {
  pending: number;
  due: number;
  confirming: number;
  dead: number;
}

export interface JobItem {
  rating_key: string;
  state: "awaiting" | "done";
  at: number;
}

/** The reference behind a row's key (rows are only ever written with refKey). */
export const refOf = (row: { ref: string }): Ref => parseRefKey(row.ref)!;

export interface Change {
  ref: Ref;
  stashUpdatedAt?: string;
}

export interface QueueEvents {
  /** A scene's change reached Plex; `firstQueuedAt` is when it was first queued (push latency). */
  delivered?(ref: Ref, firstQueuedAt: number): void;
}

/**
 * Which jobs a worker drains: one instance's, or those of every instance but the ones named (the
 * default instance's worker also takes jobs of an instance no longer configured, and buries them
 * saying so); absent: all.
 */
export type JobScope = { instance: string } | { except: readonly string[] } | undefined;

/** An instance's keys share the prefix "<id>:" and ';' follows ':' in text order: they are this range of `ref`. */
const INSTANCE_RANGE_SQL = "ref >= ? AND ref < ?";
const instanceRange = (instance: string): [string, string] => [`${instance}:`, `${instance};`];

/** A scope as SQL on the `ref` column. */
function scopeSql(scope: JobScope): [string, string[]] {
  if (scope === undefined) return ["1", []];
  if ("instance" in scope) return [INSTANCE_RANGE_SQL, instanceRange(scope.instance)];
  return [
    "substr(ref, 1, instr(ref, ':') - 1) NOT IN (SELECT value FROM json_each(?))",
    [JSON.stringify(scope.except)],
  ];
}

/**
 * Stash stamps updated_at to the second: an outcome recorded at a scene's stamp covers a later
 * change with the same stamp only when the scene was read this long after that second began
 * (the second itself and a second of clock difference between us and Stash).
 */
const SAME_SECOND_MS = 2000;

export function createQueue(store: Store, now: () => number = Date.now, events: QueueEvents = {}) {
  const { db } = store;
  const history = db.query("INSERT INTO job_history (ref, at, event, detail) VALUES (?, ?, ?, ?)");
  const upsert = db.query<{ version: number }, [string, string, string | null, number]>(`
    INSERT INTO jobs (ref, state, reason, stash_updated_at, first_queued_at, queued_at, next_attempt_at)
    VALUES (?1, 'pending', ?2, ?3, ?4, ?4, ?4)
    ON CONFLICT (ref) DO UPDATE SET
      version = version + 1, reason = excluded.reason, queued_at = excluded.queued_at,
      state = CASE WHEN state = 'confirming' THEN 'pending' ELSE state END,
      stash_updated_at = COALESCE(excluded.stash_updated_at, stash_updated_at),
      next_attempt_at = MIN(next_attempt_at, excluded.next_attempt_at)
    RETURNING version`);
  const delivered = db.query<{ stash_updated_at: string | null; at: number }, [string]>(
    "SELECT stash_updated_at, at FROM delivered WHERE ref = ?",
  );
  const buried = db.query<{ stash_updated_at: string | null; died_at: number }, [string]>(
    "SELECT stash_updated_at, died_at FROM dead_letters WHERE ref = ?",
  );
  const queued = db.query<{ stash_updated_at: string | null; state: string; claimed_at: number | null }, [string]>(
    "SELECT stash_updated_at, state, claimed_at FROM jobs WHERE ref = ?",
  );
  const clearItems = db.query("DELETE FROM job_items WHERE ref = ?");
  const firstDone = db.query<{ at: number | null }, [string]>(
    "SELECT MIN(at) AS at FROM job_items WHERE ref = ? AND state = 'done'",
  );
  /** When the job's first item to be delivered was (its fetch: what it shows was read from Stash then). */
  const firstDoneAt = (key: string) => firstDone.get(key)?.at ?? undefined;

  /**
   * Whether an outcome recorded for version `stamp` at time `at` covers a change at `changedAt`.
   * Stash stamps updated_at to the second, so an equal stamp only counts when we fetched the
   * scene safely after that second ended; otherwise it is pushed again (pushes are idempotent).
   */
  const covers = (stamp: string | null | undefined, at: number, changedAt: number) => {
    if (stamp == null) return false;
    const version = Date.parse(stamp); // Stash writes local time with an offset: compare instants
    return version > changedAt || (version === changedAt && at > changedAt + SAME_SECOND_MS);
  };

  /** Already delivered, waiting, or given up on at this Stash version: nothing new to push. */
  const known = (c: Change, key: string) => {
    if (!c.stashUpdatedAt) return false;
    const changedAt = Date.parse(c.stashUpdatedAt);
    const d = delivered.get(key);
    if (d && covers(d.stash_updated_at, d.at, changedAt)) return true;
    // A dead letter is not brought back by a re-read of the same change (poll overlap, sweep).
    const dead = buried.get(key);
    if (dead && covers(dead.stash_updated_at, dead.died_at, changedAt)) return true;
    const q = queued.get(key);
    if (!q || q.stash_updated_at == null || Date.parse(q.stash_updated_at) < changedAt) return false;
    // Items this job already delivered hold what PMS fetched then: the change only if after its second.
    const first = firstDoneAt(key);
    if (first !== undefined && !(first > changedAt + SAME_SECOND_MS)) return false;
    // Waiting: the push will fetch the scene fresh. Running: only if it fetched after that second.
    return q.state === "pending" || (q.claimed_at != null && q.claimed_at > changedAt + SAME_SECOND_MS);
  };

  const enqueueAll = db.transaction((changes: Change[], reason: string) => {
    let added = 0;
    const t = now();
    for (const c of changes) {
      const key = refKey(c.ref);
      if (known(c, key)) continue;
      const { version } = upsert.get(key, reason, c.stashUpdatedAt ?? null, t)!;
      if (version > 1) clearItems.run(key);
      history.run(
        key,
        t,
        version === 1 ? "queued" : "coalesced",
        `${reason}${c.stashUpdatedAt ? ` @${c.stashUpdatedAt}` : ""}`,
      );
      added++;
    }
    return added;
  });

  // Each Stash instance drains its own jobs (its own worker and breaker).
  const claimDue = (t: number, limit: number, scope: JobScope) => {
    const [where, params] = scopeSql(scope);
    return db
      .query<Job, (string | number)[]>(`
      UPDATE jobs SET state = 'running', attempts = attempts + 1, claimed_at = ?
      WHERE ref IN (
        SELECT ref FROM jobs WHERE state = 'pending' AND next_attempt_at <= ? AND ${where} ORDER BY next_attempt_at, ref LIMIT ?
      ) RETURNING *`)
      .all(t, t, ...params, limit);
  };
  const finish = db.query("DELETE FROM jobs WHERE ref = ? AND version = ?");
  const backToPending = db.query(
    "UPDATE jobs SET state = 'pending', next_attempt_at = ?, last_error = ? WHERE ref = ?",
  );
  const markDelivered = db.query(`
    INSERT INTO delivered (ref, stash_updated_at, at, rating_key) VALUES (?, ?, ?, ?)
    ON CONFLICT (ref) DO UPDATE SET stash_updated_at = excluded.stash_updated_at, at = excluded.at, rating_key = excluded.rating_key`);
  const toDead = db.query(`
    INSERT INTO dead_letters (ref, reason, attempts, first_queued_at, died_at, last_error, stash_updated_at)
    SELECT ref, reason, attempts, first_queued_at, ?2, ?3, COALESCE(?4, stash_updated_at) FROM jobs WHERE ref = ?1
    ON CONFLICT (ref) DO UPDATE SET attempts = excluded.attempts, died_at = excluded.died_at, last_error = excluded.last_error,
      stash_updated_at = excluded.stash_updated_at`);
  const setItem = db.query(`
    INSERT INTO job_items (ref, rating_key, state, at) VALUES (?, ?, ?, ?)
    ON CONFLICT (ref, rating_key) DO UPDATE SET state = excluded.state, at = excluded.at`);
  const itemsOf = db.query<JobItem, [string]>(
    "SELECT rating_key, state, at FROM job_items WHERE ref = ? ORDER BY at, rating_key",
  );
  const doneKeys = (key: string) =>
    itemsOf
      .all(key)
      .filter((i) => i.state === "done")
      .map((i) => i.rating_key);
  const jobOf = db.query<Job, [string]>("SELECT * FROM jobs WHERE ref = ?");
  const unbury = db.query("DELETE FROM dead_letters WHERE ref = ?");
  const deadOf = db.query<DeadLetter, [string]>("SELECT * FROM dead_letters WHERE ref = ?");
  /** The dead letters named (those that are dead letters), all of one instance (its id), or all of them. */
  const deadRows = (which?: Ref[] | string) => {
    if (Array.isArray(which)) return [...new Set(which.map(refKey))].flatMap((key) => deadOf.all(key));
    if (which === undefined) return db.query<DeadLetter, []>("SELECT * FROM dead_letters").all();
    return db
      .query<DeadLetter, [string, string]>(`SELECT * FROM dead_letters WHERE ${INSTANCE_RANGE_SQL}`)
      .all(...instanceRange(which));
  };

  const completeJob = db.transaction((job: Job, ratingKeys: string[], stashUpdatedAt: string | null, note?: string) => {
    const t = now();
    for (const key of ratingKeys) setItem.run(job.ref, key, "done", t);
    const all = doneKeys(job.ref);
    markDelivered.run(
      job.ref,
      stashUpdatedAt ?? job.stash_updated_at,
      firstDoneAt(job.ref) ?? t,
      all.join(",") || null,
    );
    unbury.run(job.ref); // a later change reached Plex: the old failure is no longer news
    history.run(job.ref, t, "delivered", all.length ? `plex item ${all.join(", ")}` : note || "nothing to push");
    events.delivered?.(refOf(job), job.first_queued_at);
    // A change that arrived while this job ran bumped the version: push again.
    if (finish.run(job.ref, job.version).changes === 0) backToPending.run(t, null, job.ref);
    else clearItems.run(job.ref);
  });

  /**
   * The awaited item was fetched: the next item's turn, or the whole scene is delivered. If the
   * scene changed since this push (its version moved on), the newer change is pushed instead.
   */
  const itemFetched = (job: Job, how: Confirmation = "fetch"): "delivered" | "next" | "changed" => {
    const t = now();
    if (job.version !== job.pushed_version) {
      backToPending.run(t, null, job.ref);
      return "changed";
    }
    const key = job.pushed_rating_keys!;
    setItem.run(job.ref, key, "done", t);
    if (how === "fetch") history.run(job.ref, t, "fetched", `plex item ${key} fetched the metadata`);
    else
      history.run(
        job.ref,
        t,
        "read back",
        `plex item ${key} shows what we serve (confirmed by reading the item back: no fetch by PMS that could only be its was seen)`,
      );
    if (job.items_left > 0) {
      db.query(
        "UPDATE jobs SET state = 'pending', next_attempt_at = ?, pushed_rating_keys = NULL, last_error = NULL WHERE ref = ?",
      ).run(t, job.ref);
      return "next";
    }
    const all = doneKeys(job.ref);
    markDelivered.run(job.ref, job.stash_updated_at, firstDoneAt(job.ref) ?? t, all.join(","));
    unbury.run(job.ref);
    history.run(job.ref, t, "delivered", `plex item ${all.join(", ")} (confirmed by ${CONFIRMED_BY[how]})`);
    events.delivered?.(refOf(job), job.first_queued_at);
    finish.run(job.ref, job.version);
    clearItems.run(job.ref);
    return "delivered";
  };

  return {
    /** Queues changes in one transaction; returns how many were new. */
    enqueue: (changes: Change[], reason: string): number => enqueueAll(changes, reason),
    /**
     * Several queueings, each with its own reason, and notes for scenes' histories, in one
     * transaction (a reconcile's heal: one commit for thousands of gaps, not one each); returns
     * how many were new.
     */
    enqueueEach: db.transaction(
      (
        queued: readonly { changes: Change[]; reason: string }[],
        notes: readonly { ref: Ref; event: string; detail: string }[] = [],
      ): number => {
        let added = 0;
        for (const q of queued) added += enqueueAll(q.changes, q.reason);
        const t = now();
        for (const n of notes) history.run(refKey(n.ref), t, n.event, n.detail);
        return added;
      },
    ),

    /**
     * At start-up: jobs left running by a process that died are pending again, and so are
     * refreshes still waiting for PMS to fetch — PMS fetches from us, so any fetch it tried
     * while we were down failed, and it will not try again by itself.
     */
    recover(): number {
      return db
        .query("UPDATE jobs SET state = 'pending', next_attempt_at = ? WHERE state IN ('running', 'confirming')")
        .run(now()).changes;
    },

    /** Due jobs, now running: in the worker's scope (absent: any). */
    claim: (limit: number, scope?: JobScope): Job[] => claimDue(now(), limit, scope),

    /** Delivered without waiting (edited, or nothing to push); `ratingKeys` are the items written now. */
    /** Done: items written (edit strategy), or nothing to push (`note` says why, in the history). */
    complete: (job: Job, ratingKeys: string[], stashUpdatedAt: string | null, note?: string) =>
      completeJob(job, ratingKeys, stashUpdatedAt, note),

    /**
     * Item `ratingKey` was refreshed: it is delivered once PMS fetches the scene (confirmPull),
     * else pushed again after `deadline`. `written` are items delivered by direct edits meanwhile;
     * `itemsLeft` are refresh items still to push, one at a time, after this one.
     */
    awaitPull: db.transaction(
      (
        job: Job,
        push: { ratingKey: string; itemsLeft: number; written: string[] },
        stashUpdatedAt: string | null,
        deadline: number,
        /** Whether PMS fetched this item's kind (movie or episode) since the claim; absent: any fetch of the scene counts. */
        fetchedMeanwhile?: boolean,
      ) => {
        const t = now();
        for (const key of push.written) setItem.run(job.ref, key, "done", t);
        setItem.run(job.ref, push.ratingKey, "awaiting", t);
        db.query(`UPDATE jobs SET state = 'confirming', pushed_version = ?, pushed_rating_keys = ?, items_left = ?, next_attempt_at = ?,
        stash_updated_at = COALESCE(?, stash_updated_at), last_error = NULL WHERE ref = ?`).run(
          job.version,
          push.ratingKey,
          push.itemsLeft,
          deadline,
          stashUpdatedAt,
          job.ref,
        );
        history.run(job.ref, t, "refreshed", `plex item ${push.ratingKey}; waiting for Plex to fetch it`);
        // PMS may have fetched before we got here: any fetch after the claim served data at least this new
        // (in the claim's own millisecond it may be the previous item's: the read-back confirms then).
        const current = jobOf.get(job.ref)!;
        const fetched =
          fetchedMeanwhile ??
          (current.pulled_at != null && job.claimed_at != null && current.pulled_at > job.claimed_at);
        if (fetched) itemFetched(current);
      },
    ),

    /** PMS fetched the scene's metadata: the awaited item is delivered (or pushed again if the scene changed since). */
    confirmPull: db.transaction((ref: Ref): "delivered" | "next" | "changed" | null => {
      const job = jobOf.get(refKey(ref));
      if (!job) return null;
      if (job.state !== "confirming") {
        db.query("UPDATE jobs SET pulled_at = ? WHERE ref = ?").run(now(), job.ref);
        return null;
      }
      return itemFetched(job);
    }),

    /**
     * The awaited item, read back from PMS, shows what we serve: delivered as if fetched (PMS may
     * send no header we can tell its fetches by). Null when the job moved on meanwhile.
     */
    confirmReadBack: db.transaction((job: Job): "delivered" | "next" | "changed" | null => {
      const current = jobOf.get(job.ref);
      if (current?.state !== "confirming" || current.pushed_rating_keys !== job.pushed_rating_keys) return null;
      return itemFetched(current, "read back");
    }),

    /** The job's items at its current version (awaiting a fetch, or done). */
    items: (ref: Ref): JobItem[] => itemsOf.all(refKey(ref)),
    /** Items already delivered at the job's current version: not to be pushed again. */
    doneItems: (ref: Ref): Set<string> => new Set(doneKeys(refKey(ref))),

    /** Refreshed jobs whose fetch did not come in time (by `at`: those whose deadline is before it). */
    overdue: (scope?: JobScope, at: number = now()) => {
      const [where, params] = scopeSql(scope);
      return db
        .query<Job, (string | number)[]>(
          `SELECT * FROM jobs WHERE state = 'confirming' AND next_attempt_at <= ? AND ${where}`,
        )
        .all(at, ...params);
    },

    /** A transient failure: try again at `retryAt`. */
    retry: db.transaction((job: Job, error: string, retryAt: number) => {
      backToPending.run(retryAt, error, job.ref);
      history.run(job.ref, now(), "retry", error);
    }),

    /** Claimed but not tried (the breaker opened meanwhile): back to pending, the attempt not counted. */
    release: (job: Job) =>
      void db
        .query("UPDATE jobs SET state = 'pending', attempts = MAX(0, attempts - 1), next_attempt_at = ? WHERE ref = ?")
        .run(now(), job.ref),

    /** A permanent failure, or one retried too long: a dead letter (unless the scene changed meanwhile). */
    bury: db.transaction((job: Job, error: string, stashUpdatedAt?: string | null) => {
      const t = now();
      const current = db.query<{ version: number }, [string]>("SELECT version FROM jobs WHERE ref = ?").get(job.ref);
      if (current && current.version !== job.version) {
        backToPending.run(t, error, job.ref);
        history.run(job.ref, t, "retry", `changed again after: ${error}`);
        return false;
      }
      toDead.run(job.ref, t, error, stashUpdatedAt ?? null);
      db.query("DELETE FROM jobs WHERE ref = ?").run(job.ref);
      clearItems.run(job.ref);
      history.run(job.ref, t, "dead", error);
      return true;
    }),

    /** Retry: the named dead letters (an instance id: all of its; absent: all) are queued again; returns how many. */
    requeueDead: db.transaction((which?: Ref[] | string) => {
      const rows = deadRows(which);
      for (const r of rows) unbury.run(r.ref);
      return enqueueAll(
        rows.map((r) => ({ ref: refOf(r) })),
        "requeue",
      );
    }),

    /** A person gave up on these dead letters (an instance id: all of its; absent: all): they leave the list, the history says so. */
    discardDead: db.transaction((which?: Ref[] | string) => {
      const rows = deadRows(which);
      const t = now();
      for (const r of rows) {
        unbury.run(r.ref);
        history.run(r.ref, t, "discarded", `dead letter discarded (was: ${r.last_error})`);
      }
      return rows.length;
    }),

    /** Plex (or one instance's Stash) is back: what waited for it is due now (in the worker's scope). */
    wakeAll: (scope?: JobScope) => {
      const [where, params] = scopeSql(scope);
      const t = now();
      return db
        .query(`UPDATE jobs SET next_attempt_at = ? WHERE state = 'pending' AND next_attempt_at > ? AND ${where}`)
        .run(t, t, ...params).changes;
    },

    /** Refreshed and waiting for PMS to fetch the metadata. */
    confirming: () => (db.query("SELECT COUNT(*) AS n FROM jobs WHERE state = 'confirming'").get() as { n: number }).n,
    /** Jobs waiting or under way (in a worker's scope; absent: all). */
    pending: (scope?: JobScope) => {
      const [where, params] = scopeSql(scope);
      return (db.query(`SELECT COUNT(*) AS n FROM jobs WHERE ${where}`).get(...params) as { n: number }).n;
    },
    /** Jobs by state and dead letters, per Stash instance (the metrics); an instance with none is absent. */
    countsByInstance(): Record<string, QueueCounts> {
      const out: Record<string, QueueCounts> = {};
      const of = (instance: string) => (out[instance] ??= { pending: 0, due: 0, confirming: 0, dead: 0 });
      // A key's instance is the text before its first ':' (refKey).
      const rows = db
        .query<{ instance: string; pending: number; due: number; confirming: number }, [number]>(`
        SELECT substr(ref, 1, instr(ref, ':') - 1) AS instance, COUNT(*) AS pending,
          SUM(state = 'pending' AND next_attempt_at <= ?) AS due, SUM(state = 'confirming') AS confirming
        FROM jobs GROUP BY 1`)
        .all(now());
      for (const r of rows) Object.assign(of(r.instance), { pending: r.pending, due: r.due, confirming: r.confirming });
      const dead = db
        .query<{ instance: string; n: number }, []>(
          "SELECT substr(ref, 1, instr(ref, ':') - 1) AS instance, COUNT(*) AS n FROM dead_letters GROUP BY 1",
        )
        .all();
      for (const r of dead) of(r.instance).dead = r.n;
      return out;
    },
    due: () =>
      (
        db.query("SELECT COUNT(*) AS n FROM jobs WHERE state = 'pending' AND next_attempt_at <= ?").get(now()) as {
          n: number;
        }
      ).n,
    job: (ref: Ref) => jobOf.get(refKey(ref)) ?? undefined,
    /** The jobs waiting or awaiting a fetch, oldest first (the dashboard). */
    jobs: (limit = 100, offset = 0) =>
      db
        .query<Job, [number, number]>("SELECT * FROM jobs ORDER BY first_queued_at, ref LIMIT ? OFFSET ?")
        .all(limit, offset),
    /** Scenes delivered since a time (drain rate). */
    deliveredSince: (at: number) =>
      (db.query("SELECT COUNT(*) AS n FROM delivered WHERE at >= ?").get(at) as { n: number }).n,
    lastDeliveryAt: () => (db.query("SELECT MAX(at) AS at FROM delivered").get() as { at: number | null }).at,
    deadLetterCount: () => (db.query("SELECT COUNT(*) AS n FROM dead_letters").get() as { n: number }).n,
    deadLetters: () => db.query<DeadLetter, []>("SELECT * FROM dead_letters ORDER BY died_at DESC").all(),
    /** One page of dead letters, newest first (the dashboard and the API page through thousands). */
    deadLetterPage: (offset: number, limit: number) =>
      db
        .query<DeadLetter, [number, number]>("SELECT * FROM dead_letters ORDER BY died_at DESC, ref LIMIT ? OFFSET ?")
        .all(limit, offset),
    deadLetter: (ref: Ref) => deadOf.get(refKey(ref)) ?? undefined,
    /** Something done for a scene outside a push (a reconcile asking Plex to scan its folder), for its history. */
    note: (ref: Ref, event: string, detail: string) => void history.run(refKey(ref), now(), event, detail),
    history: (ref: Ref) =>
      db
        .query<{ at: number; event: string; detail: string | null }, [string]>(
          "SELECT at, event, detail FROM job_history WHERE ref = ? ORDER BY id",
        )
        .all(refKey(ref)),
    delivery: (ref: Ref) =>
      db
        .query<{ stash_updated_at: string | null; at: number; rating_key: string | null }, [string]>(
          "SELECT stash_updated_at, at, rating_key FROM delivered WHERE ref = ?",
        )
        .get(refKey(ref)) ?? undefined,
    deliveredCount: () => (db.query("SELECT COUNT(*) AS n FROM delivered").get() as { n: number }).n,
  };
}
export type Queue = ReturnType<typeof createQueue>;
