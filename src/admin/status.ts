/**
 * The status API: what the queue, the breaker, the scheduled jobs and the indexes are doing,
 * the outage history and the dead letters, and the two actions an operator needs (requeue
 * dead letters, run a job now). Reads and actions need the admin token (reads not with
 * ADMIN_OPEN_READS); nothing here shows a secret.
 */
import { Elysia, t } from "elysia";
import { HttpError } from "../http.ts";
import type { Access } from "./access.ts";
import { guardedJson } from "../json-body.ts";
import { VERSION } from "../version.ts";

export interface StatusSource {
  access: Access;
  snapshot(): Record<string, unknown>;
  /** What happened to one scene's pushes: the job, its history, a dead letter. */
  scene(sceneId: string): Record<string, unknown>;
  requeue(sceneIds?: string[]): number;
  trigger(jobId: string): boolean;
}

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
    .post("/api/dead-letters/requeue", ({ body }) => ({ requeued: src.requeue(body?.sceneIds) }), {
      body: t.Optional(t.Object({ sceneIds: t.Optional(t.Array(t.String({ pattern: "^[0-9]{1,18}$" }), { maxItems: 10_000 })) })),
      parse: guardedJson({ maxBytes: 512 * 1024, maxDepth: 4, authorise: (h) => src.access.requireAdmin(h) }),
    })
    .post("/api/jobs/:id/run", ({ params, request }) => {
      src.access.requireAdmin(request.headers);
      if (!src.trigger(params.id)) throw new HttpError(404, "not_found", `no job "${params.id}"`);
      return { started: params.id };
    });
};
