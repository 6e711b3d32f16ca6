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
import { DEFAULT_INSTANCE_ID, INSTANCE_ID, sceneRef, type Ref } from "../domain/ref.ts";
import { refOf, type Queue } from "../sync/queue.ts";

/** A dead letter as the API shows it (the Stash plugin's tasks read exactly this). */
export interface DeadLetterView {
  sceneId: string;
  /** The Stash instance, when not the default one (an install with one Stash sees today's shape). */
  instance?: string;
  /** From the in-memory index of Stash scenes; null when the scene is not (or no longer) in it. */
  title: string | null;
  error: string;
  attempts: number;
  /** When the push gave up, ms since the epoch. */
  deadAt: number;
}

/** `instance` for a reference outside the default instance; nothing for the default (today's shapes unchanged). */
const instanceOf = (ref: Ref) => (ref.instance === DEFAULT_INSTANCE_ID ? {} : { instance: ref.instance });

/**
 * A queue row (job, dead letter) as the API shows it: `scene_id` as before (the Stash plugin's
 * tasks read it), plus `instance` outside the default one, instead of the stored key.
 */
export function rowView<R extends { ref: string }>(row: R): Omit<R, "ref"> & { scene_id: string; instance?: string } {
  const { ref: _key, ...rest } = row;
  const ref = refOf(row);
  return { scene_id: ref.id, ...instanceOf(ref), ...rest };
}

/** One page of dead letters, newest first, with their titles: never a Stash call per row. */
export function deadLetterPage(
  queue: Pick<Queue, "deadLetterPage" | "deadLetterCount">,
  title: (ref: Ref) => string | null,
  offset: number,
  limit: number,
) {
  return {
    total: queue.deadLetterCount(),
    items: queue.deadLetterPage(offset, limit).map((d): DeadLetterView => {
      const ref = refOf(d);
      return {
        sceneId: ref.id,
        ...instanceOf(ref),
        title: title(ref),
        error: d.last_error,
        attempts: d.attempts,
        deadAt: d.died_at,
      };
    }),
  };
}

const instanceField = t.String({
  pattern: INSTANCE_ID.source,
  description: "The Stash instance's id (absent: the default one).",
});
const sceneIdsBody = t.Optional(
  t.Object({
    sceneIds: t.Optional(t.Array(t.String({ pattern: "^[0-9]{1,18}$" }), { maxItems: 10_000 })),
    instance: t.Optional(instanceField),
  }),
);

/** The dead letters a body names: its scenes in its instance; no scenes: all of that instance, or all. */
export function deadLettersNamed(
  body: { sceneIds?: string[]; instance?: string } | null | undefined,
): Ref[] | string | undefined {
  if (body?.sceneIds) return body.sceneIds.map((id) => sceneRef(body.instance ?? DEFAULT_INSTANCE_ID, id));
  return body?.instance;
}

export interface StatusSource {
  access: Access;
  snapshot(): Record<string, unknown> | Promise<Record<string, unknown>>;
  /** What happened to one scene's pushes: the job, its history, a dead letter. */
  scene(ref: Ref): Record<string, unknown>;
  /** Retries dead letters (refs; an instance id: all of its; absent: all) and wakes the worker; returns how many. */
  requeue(which?: Ref[] | string): number;
  queue: Pick<Queue, "deadLetterPage" | "deadLetterCount" | "discardDead">;
  /** A scene's title, cheaply (an index, not a Stash call). */
  title(ref: Ref): string | null;
  trigger(jobId: string): boolean;
}

/** A paging parameter: absent → the default; else a whole number in range, or a 400 naming it. */
export function wholeNumber(
  query: Record<string, string | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const text = query[name];
  if (text === undefined || text === "") return fallback;
  const n = Number(text);
  if (!/^\d{1,10}$/.test(text) || n < min || n > max)
    throw new HttpError(400, "bad_request", `${name}: a whole number from ${min} to ${max}`);
  return n;
}

/** A small JSON body, read only once the admin token is checked. */
const adminJson = (src: StatusSource) =>
  guardedJson({ maxBytes: 512 * 1024, maxDepth: 4, authorise: (h) => src.access.requireAdmin(h) });

export const statusRoutes = (src: StatusSource) => {
  return (
    new Elysia({ name: "status" })
      .get("/api/status", async ({ request }) => {
        src.access.requireRead(request.headers);
        return { version: VERSION, ...(await src.snapshot()) };
      })
      .get("/api/scenes/:id", ({ params, query, request }) => {
        src.access.requireRead(request.headers);
        if (!/^\d{1,18}$/.test(params.id)) throw new HttpError(400, "bad_id", "a scene id is a number");
        const instance = query.instance ?? DEFAULT_INSTANCE_ID;
        if (!INSTANCE_ID.test(instance))
          throw new HttpError(400, "bad_instance", "instance: a Stash instance id (lower-case letters and digits)");
        return src.scene(sceneRef(instance, params.id));
      })
      .get("/api/dead-letters", ({ request, query }) => {
        src.access.requireRead(request.headers);
        return deadLetterPage(
          src.queue,
          src.title,
          wholeNumber(query, "offset", 0, 0, 1e9),
          wholeNumber(query, "limit", 50, 1, 500),
        );
      })
      // requeue is the older name of retry (kept: scripts and the plugin's first tasks call it).
      .post("/api/dead-letters/requeue", ({ body }) => ({ requeued: src.requeue(deadLettersNamed(body)) }), {
        body: sceneIdsBody,
        parse: adminJson(src),
      })
      .post("/api/dead-letters/retry", ({ body }) => ({ retried: src.requeue(deadLettersNamed(body)) }), {
        body: sceneIdsBody,
        parse: adminJson(src),
      })
      .post("/api/dead-letters/discard", ({ body }) => ({ discarded: src.queue.discardDead(deadLettersNamed(body)) }), {
        body: sceneIdsBody,
        parse: adminJson(src),
      })
      .post("/api/jobs/:id/run", ({ params, request }) => {
        src.access.requireAdmin(request.headers);
        if (!src.trigger(params.id)) throw new HttpError(404, "not_found", `no job "${params.id}"`);
        return { started: params.id };
      })
  );
};
