/**
 * The status API: what the queue, the breaker, the scheduled jobs and the indexes are doing,
 * the outage history and the dead letters (paged, with titles), and the actions an operator
 * needs (retry or discard dead letters, run a job now). Reads and actions need the admin
 * token (reads not with ADMIN_OPEN_READS); nothing here shows a secret.
 */
import { Elysia, t } from "elysia";
import { HttpError } from "../http.ts";
import type { Access } from "./access.ts";
import { guardedJson } from "../json-body.ts";
import { VERSION } from "../version.ts";
import type { Queue } from "../sync/queue.ts";

/** A dead letter as the API shows it (the Stash plugin's tasks read exactly this). */
export interface DeadLetterView {
  sceneId: string;
  /** From the in-memory index of Stash scenes; null when the scene is not (or no longer) in it. */
  title: string | null;
  error: string;
  attempts: number;
  /** When the push gave up, ms since the epoch. */
  deadAt: number;
}

/** One page of dead letters, newest first, with their titles: never a Stash call per row. */
export function deadLetterPage(queue: Pick<Queue, "deadLetterPage" | "deadLetterCount">, title: (sceneId: string) => string | null, offset: number, limit: number) {
  return {
    total: queue.deadLetterCount(),
    items: queue.deadLetterPage(offset, limit).map((d): DeadLetterView => ({
      sceneId: d.scene_id, title: title(d.scene_id), error: d.last_error, attempts: d.attempts, deadAt: d.died_at,
    })),
  };
}

const sceneIdsBody = t.Optional(t.Object({ sceneIds: t.Optional(t.Array(t.String({ pattern: "^[0-9]{1,18}$" }), { maxItems: 10_000 })) }));

export interface StatusSource {
  access: Access;
  snapshot(): Record<string, unknown>;
  /** What happened to one scene's pushes: the job, its history, a dead letter. */
  scene(sceneId: string): Record<string, unknown>;
  /** Retries dead letters (absent: all) and wakes the worker; returns how many. */
  requeue(sceneIds?: string[]): number;
  queue: Pick<Queue, "deadLetterPage" | "deadLetterCount" | "discardDead">;
  /** A scene's title, cheaply (an index, not a Stash call). */
  title(sceneId: string): string | null;
  trigger(jobId: string): boolean;
}

/** A paging parameter: absent → the default; else a whole number in range, or a 400 naming it. */
export function wholeNumber(query: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const text = query[name];
  if (text === undefined || text === "") return fallback;
  const n = Number(text);
  if (!/^\d{1,10}$/.test(text) || n < min || n > max) throw new HttpError(400, "bad_request", `${name}: a whole number from ${min} to ${max}`);
  return n;
}

/** A small JSON body, read only once the admin token is checked. */
const adminJson = (src: StatusSource) => guardedJson({ maxBytes: 512 * 1024, maxDepth: 4, authorise: (h) => src.access.requireAdmin(h) });

export const statusRoutes = (src: StatusSource) => {
  return new Elysia({ name: "status" })
    .get("/api/status", ({ request }) => {
      src.access.requireRead(request.headers);
      return { version: VERSION, ...src.snapshot() };
    })
    .get("/api/scenes/:id", ({ params, request }) => {
      src.access.requireRead(request.headers);
      if (!/^\d{1,18}$/.test(params.id)) throw new HttpError(400, "bad_id", "a scene id is a number");
      return src.scene(params.id);
    })
    .get("/api/dead-letters", ({ request, query }) => {
      src.access.requireRead(request.headers);
      return deadLetterPage(src.queue, src.title, wholeNumber(query, "offset", 0, 0, 1e9), wholeNumber(query, "limit", 50, 1, 500));
    })
    // requeue is the older name of retry (kept: scripts and the plugin's first tasks call it).
    .post("/api/dead-letters/requeue", ({ body }) => ({ requeued: src.requeue(body?.sceneIds) }), { body: sceneIdsBody, parse: adminJson(src) })
    .post("/api/dead-letters/retry", ({ body }) => ({ retried: src.requeue(body?.sceneIds) }), { body: sceneIdsBody, parse: adminJson(src) })
    .post("/api/dead-letters/discard", ({ body }) => ({ discarded: src.queue.discardDead(body?.sceneIds) }), { body: sceneIdsBody, parse: adminJson(src) })
    .post("/api/jobs/:id/run", ({ params, request }) => {
      src.access.requireAdmin(request.headers);
      if (!src.trigger(params.id)) throw new HttpError(404, "not_found", `no job "${params.id}"`);
      return { started: params.id };
    });
};
