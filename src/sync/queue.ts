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
 */
import type { Store } from "../store/db.ts";

export interface Job {
  scene_id: string;
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
  pushed_rating_keys: string | null;
}

export interface DeadLetter {
  scene_id: string;
  reason: string;
  attempts: number;
  first_queued_at: number;
  died_at: number;
  last_error: string;
}

export interface Change {
  sceneId: string;
  stashUpdatedAt?: string;
}

export function createQueue(store: Store, now: () => number = Date.now) {
  const { db } = store;
  const history = db.query("INSERT INTO job_history (scene_id, at, event, detail) VALUES (?, ?, ?, ?)");
  const upsert = db.query<{ version: number }, [string, string, string | null, number]>(`
    INSERT INTO jobs (scene_id, state, reason, stash_updated_at, first_queued_at, queued_at, next_attempt_at)
    VALUES (?1, 'pending', ?2, ?3, ?4, ?4, ?4)
    ON CONFLICT (scene_id) DO UPDATE SET
      version = version + 1, reason = excluded.reason, queued_at = excluded.queued_at,
      state = CASE WHEN state = 'confirming' THEN 'pending' ELSE state END,
      stash_updated_at = COALESCE(excluded.stash_updated_at, stash_updated_at),
      next_attempt_at = MIN(next_attempt_at, excluded.next_attempt_at)
    RETURNING version`);
  const delivered = db.query<{ stash_updated_at: string | null; at: number }, [string]>(
    "SELECT stash_updated_at, at FROM delivered WHERE scene_id = ?");
  const queued = db.query<{ stash_updated_at: string | null; state: string; claimed_at: number | null }, [string]>(
    "SELECT stash_updated_at, state, claimed_at FROM jobs WHERE scene_id = ?");

  /**
   * Already delivered, or waiting, at this Stash version: nothing new to push. Stash stamps
   * updated_at to the second, so an equal stamp only counts as delivered when we fetched the
   * scene safely after that second ended; otherwise it is pushed again (pushes are idempotent).
   */
  const known = (c: Change) => {
    if (!c.stashUpdatedAt) return false;
    // Stash writes local time with an offset: compare instants, not strings.
    const changedAt = Date.parse(c.stashUpdatedAt);
    const d = delivered.get(c.sceneId);
    if (d?.stash_updated_at != null) {
      const deliveredVersion = Date.parse(d.stash_updated_at);
      if (deliveredVersion > changedAt) return true;
      if (deliveredVersion === changedAt && d.at > changedAt + 2000) return true;
    }
    const q = queued.get(c.sceneId);
    if (!q || q.stash_updated_at == null || Date.parse(q.stash_updated_at) < changedAt) return false;
    // Waiting: the push will fetch the scene fresh. Running: only if it fetched after that second.
    return q.state === "pending" || (q.claimed_at != null && q.claimed_at > changedAt + 2000);
  };

  const enqueueAll = db.transaction((changes: Change[], reason: string) => {
    let added = 0;
    const t = now();
    for (const c of changes) {
      if (known(c)) continue;
      const { version } = upsert.get(c.sceneId, reason, c.stashUpdatedAt ?? null, t)!;
      history.run(c.sceneId, t, version === 1 ? "queued" : "coalesced", `${reason}${c.stashUpdatedAt ? ` @${c.stashUpdatedAt}` : ""}`);
      added++;
    }
    return added;
  });

  const claimDue = db.query<Job, [number, number]>(`
    UPDATE jobs SET state = 'running', attempts = attempts + 1, claimed_at = ?1
    WHERE scene_id IN (
      SELECT scene_id FROM jobs WHERE state = 'pending' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, scene_id LIMIT ?2
    ) RETURNING *`);
  const finish = db.query("DELETE FROM jobs WHERE scene_id = ? AND version = ?");
  const backToPending = db.query("UPDATE jobs SET state = 'pending', next_attempt_at = ?, last_error = ? WHERE scene_id = ?");
  const markDelivered = db.query(`
    INSERT INTO delivered (scene_id, stash_updated_at, at, rating_key) VALUES (?, ?, ?, ?)
    ON CONFLICT (scene_id) DO UPDATE SET stash_updated_at = excluded.stash_updated_at, at = excluded.at, rating_key = excluded.rating_key`);
  const toDead = db.query(`
    INSERT INTO dead_letters (scene_id, reason, attempts, first_queued_at, died_at, last_error)
    SELECT scene_id, reason, attempts, first_queued_at, ?2, ?3 FROM jobs WHERE scene_id = ?1
    ON CONFLICT (scene_id) DO UPDATE SET attempts = excluded.attempts, died_at = excluded.died_at, last_error = excluded.last_error`);

  const completeJob = db.transaction((job: Job, ratingKey: string | null, stashUpdatedAt: string | null) => {
    const t = now();
    markDelivered.run(job.scene_id, stashUpdatedAt ?? job.stash_updated_at, t, ratingKey);
    history.run(job.scene_id, t, "delivered", ratingKey ? `plex item ${ratingKey}` : "nothing to push");
    // A change that arrived while this job ran bumped the version: push again.
    if (finish.run(job.scene_id, job.version).changes === 0) backToPending.run(t, null, job.scene_id);
  });

  return {
    /** Queues changes in one transaction; returns how many were new. */
    enqueue: (changes: Change[], reason: string): number => enqueueAll(changes, reason),

    /**
     * At start-up: jobs left running by a process that died are pending again, and so are
     * refreshes still waiting for PMS to fetch — PMS fetches from us, so any fetch it tried
     * while we were down failed, and it will not try again by itself.
     */
    recover(): number {
      return db.query("UPDATE jobs SET state = 'pending', next_attempt_at = ? WHERE state IN ('running', 'confirming')").run(now()).changes;
    },

    claim: (limit: number): Job[] => claimDue.all(now(), limit),

    complete: (job: Job, ratingKey: string | null, stashUpdatedAt: string | null) => completeJob(job, ratingKey, stashUpdatedAt),

    /** Refreshed: delivered once PMS fetches the scene (confirmPull), else pushed again after `deadline`. */
    awaitPull: db.transaction((job: Job, ratingKeys: string, stashUpdatedAt: string | null, deadline: number) => {
      // PMS may fetch before we get here: any fetch since the claim served data at least this new.
      const pulledAt = db.query<{ pulled_at: number | null }, [string]>("SELECT pulled_at FROM jobs WHERE scene_id = ?").get(job.scene_id)?.pulled_at;
      if (pulledAt != null && job.claimed_at != null && pulledAt >= job.claimed_at) {
        completeJob(job, ratingKeys, stashUpdatedAt);
        return;
      }
      db.query(`UPDATE jobs SET state = 'confirming', pushed_version = ?, pushed_rating_keys = ?, next_attempt_at = ?,
        stash_updated_at = COALESCE(?, stash_updated_at), last_error = NULL WHERE scene_id = ?`)
        .run(job.version, ratingKeys, deadline, stashUpdatedAt, job.scene_id);
      history.run(job.scene_id, now(), "refreshed", `plex item ${ratingKeys}; waiting for Plex to fetch it`);
    }),

    /** PMS fetched the scene's metadata: a confirming job is delivered (or pushed again if it changed since). */
    confirmPull: db.transaction((sceneId: string): "delivered" | "changed" | null => {
      const job = db.query<Job, [string]>("SELECT * FROM jobs WHERE scene_id = ?").get(sceneId);
      if (!job) return null;
      if (job.state !== "confirming") {
        db.query("UPDATE jobs SET pulled_at = ? WHERE scene_id = ?").run(now(), sceneId);
        return null;
      }
      if (job.version !== job.pushed_version) {
        backToPending.run(now(), null, sceneId);
        return "changed";
      }
      markDelivered.run(sceneId, job.stash_updated_at, now(), job.pushed_rating_keys);
      history.run(sceneId, now(), "delivered", `plex item ${job.pushed_rating_keys} fetched the metadata`);
      db.query("DELETE FROM jobs WHERE scene_id = ?").run(sceneId);
      return "delivered";
    }),

    /** Refreshed jobs whose fetch did not come in time. */
    overdue: () => db.query<Job, [number]>("SELECT * FROM jobs WHERE state = 'confirming' AND next_attempt_at <= ?").all(now()),

    /** A transient failure: try again at `retryAt`. */
    retry: db.transaction((job: Job, error: string, retryAt: number) => {
      backToPending.run(retryAt, error, job.scene_id);
      history.run(job.scene_id, now(), "retry", error);
    }),

    /** Claimed but not tried (the breaker opened meanwhile): back to pending, the attempt not counted. */
    release: (job: Job) =>
      void db.query("UPDATE jobs SET state = 'pending', attempts = MAX(0, attempts - 1), next_attempt_at = ? WHERE scene_id = ?").run(now(), job.scene_id),

    /** A permanent failure, or one retried too long: a dead letter (unless the scene changed meanwhile). */
    bury: db.transaction((job: Job, error: string) => {
      const t = now();
      const current = db.query<{ version: number }, [string]>("SELECT version FROM jobs WHERE scene_id = ?").get(job.scene_id);
      if (current && current.version !== job.version) {
        backToPending.run(t, error, job.scene_id);
        history.run(job.scene_id, t, "retry", `changed again after: ${error}`);
        return false;
      }
      toDead.run(job.scene_id, t, error);
      db.query("DELETE FROM jobs WHERE scene_id = ?").run(job.scene_id);
      history.run(job.scene_id, t, "dead", error);
      return true;
    }),

    requeueDead: db.transaction((sceneIds?: string[]) => {
      const rows = sceneIds
        ? sceneIds.flatMap((id) => db.query<DeadLetter, [string]>("SELECT * FROM dead_letters WHERE scene_id = ?").all(id))
        : db.query<DeadLetter, []>("SELECT * FROM dead_letters").all();
      for (const r of rows) db.query("DELETE FROM dead_letters WHERE scene_id = ?").run(r.scene_id);
      return enqueueAll(rows.map((r) => ({ sceneId: r.scene_id })), "requeue");
    }),

    /** Plex is back: everything that waited for it is due now (the worker paces the drain). */
    wakeAll: () => db.query("UPDATE jobs SET next_attempt_at = ? WHERE state = 'pending' AND next_attempt_at > ?").run(now(), now()).changes,

    /** Refreshed and waiting for PMS to fetch the metadata. */
    confirming: () => (db.query("SELECT COUNT(*) AS n FROM jobs WHERE state = 'confirming'").get() as { n: number }).n,
    pending: () => (db.query("SELECT COUNT(*) AS n FROM jobs").get() as { n: number }).n,
    due: () => (db.query("SELECT COUNT(*) AS n FROM jobs WHERE state = 'pending' AND next_attempt_at <= ?").get(now()) as { n: number }).n,
    job: (sceneId: string) => db.query<Job, [string]>("SELECT * FROM jobs WHERE scene_id = ?").get(sceneId) ?? undefined,
    deadLetters: () => db.query<DeadLetter, []>("SELECT * FROM dead_letters ORDER BY died_at DESC").all(),
    history: (sceneId: string) =>
      db.query<{ at: number; event: string; detail: string | null }, [string]>(
        "SELECT at, event, detail FROM job_history WHERE scene_id = ? ORDER BY id").all(sceneId),
    delivery: (sceneId: string) =>
      db.query<{ stash_updated_at: string | null; at: number; rating_key: string | null }, [string]>(
        "SELECT stash_updated_at, at, rating_key FROM delivered WHERE scene_id = ?").get(sceneId) ?? undefined,
    deliveredCount: () => (db.query("SELECT COUNT(*) AS n FROM delivered").get() as { n: number }).n,
  };
}
export type Queue = ReturnType<typeof createQueue>;
