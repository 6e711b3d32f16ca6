/**
 * The status API: what the queue, the breaker, the scheduled jobs and the indexes are doing,
 * the outage history and the dead letters, and the two actions an operator needs (requeue
 * dead letters, run a job now). Actions need the webhook token; nothing here shows a secret.
 */
import { Elysia, t } from "elysia";
import { HttpError } from "../http.ts";
import { requireToken } from "./token.ts";
import { guardedJson } from "../json-body.ts";
import { VERSION } from "../version.ts";

export interface StatusSource {
  token: string;
  snapshot(): Record<string, unknown>;
  /** What happened to one scene's pushes: the job, its history, a dead letter. */
  scene(sceneId: string): Record<string, unknown>;
  requeue(sceneIds?: string[]): number;
  trigger(jobId: string): boolean;
}

export const statusRoutes = (src: StatusSource) => {
  return new Elysia({ name: "status" })
    .get("/api/status", () => ({ version: VERSION, ...src.snapshot() }))
    .get("/api/scenes/:id", ({ params }) => {
      if (!/^\d{1,18}$/.test(params.id)) throw new HttpError(400, "bad_id", "a scene id is a number");
      return src.scene(params.id);
    })
    .post("/api/dead-letters/requeue", ({ body }) => ({ requeued: src.requeue(body?.sceneIds) }), {
      body: t.Optional(t.Object({ sceneIds: t.Optional(t.Array(t.String({ pattern: "^[0-9]{1,18}$" }), { maxItems: 10_000 })) })),
      parse: guardedJson({ maxBytes: 512 * 1024, maxDepth: 4, authorise: (h) => requireToken(src.token, h.get("authorization"), "this action") }),
    })
    .post("/api/jobs/:id/run", ({ params, headers }) => {
      requireToken(src.token, headers.authorization, "this action");
      if (!src.trigger(params.id)) throw new HttpError(404, "not_found", `no job "${params.id}"`);
      return { started: params.id };
    });
};
