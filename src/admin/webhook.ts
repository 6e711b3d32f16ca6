/**
 * `POST /hooks/stash`: near-instant pushes. Accepts Stash's plugin hook payload
 * (`{"hookContext": {"type": "Scene.Update.Post", "id": 12}}`) or `{"sceneIds": [12, 13]}`,
 * authenticated by the webhook token. Unknown scene ids are refused as a whole (nothing is
 * queued); when Stash cannot be asked, the ids are queued anyway: losing a change is worse
 * than one push that finds nothing.
 */
import { Elysia, t } from "elysia";
import { timingSafeEqual } from "node:crypto";
import { HttpError } from "../http.ts";
import type { StashClient } from "../stash/client.ts";
import { isStashError } from "../stash/errors.ts";
import type { Queue } from "../sync/queue.ts";

export interface WebhookDeps {
  token: string;
  stash: Pick<StashClient, "scenesByIds">;
  queue: Queue;
  onQueued: () => void;
}

const Id = t.Union([t.Integer({ minimum: 1 }), t.String({ pattern: "^[0-9]{1,18}$" })]);
const Body = t.Union([
  t.Object({ hookContext: t.Object({ type: t.String({ minLength: 1 }), id: Id }, { additionalProperties: true }) }, { additionalProperties: true }),
  t.Object({ sceneIds: t.Array(Id, { minItems: 1, maxItems: 10000 }) }),
]);

/** Hook types that change what Plex should show; Destroy has nothing left to push. */
const PUSHED_HOOKS = /^Scene\.(Create|Update|Merge)\.Post$/;

export function tokenMatches(expected: string, given: string | undefined | null): boolean {
  if (!expected || !given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export const bearer = (headers: Record<string, string | undefined>) =>
  headers.authorization?.replace(/^Bearer\s+/i, "") ?? headers["x-stash2plex-token"];

export const webhookRoutes = (deps: WebhookDeps) =>
  new Elysia({ name: "webhook" }).post("/hooks/stash", async ({ body, headers }) => {
    if (!deps.token) {
      throw new HttpError(404, "webhook_off", "the webhook is off: it needs PLEX_URL, PLEX_TOKEN and SYNC_WEBHOOK_TOKEN to be set");
    }
    if (!tokenMatches(deps.token, bearer(headers))) {
      throw new HttpError(401, "bad_token", "missing or wrong token: send it as 'Authorization: Bearer <token>'");
    }
    let ids: string[];
    if ("hookContext" in body) {
      if (!PUSHED_HOOKS.test(body.hookContext.type)) return { queued: 0, ignored: `hook ${body.hookContext.type} needs no push` };
      ids = [String(body.hookContext.id)];
    } else ids = [...new Set(body.sceneIds.map(String))];

    try {
      const found = new Set((await deps.stash.scenesByIds(ids)).map((s) => s.id));
      const unknown = ids.filter((id) => !found.has(id));
      if (unknown.length) {
        throw new HttpError(422, "unknown_scene", `Stash has no scene with id ${unknown.slice(0, 20).join(", ")}; nothing was queued`);
      }
    } catch (err) {
      if (!isStashError(err)) throw err;
    }
    const queued = deps.queue.enqueue(ids.map((sceneId) => ({ sceneId })), "webhook");
    deps.onQueued();
    return { queued };
  }, { body: Body });
