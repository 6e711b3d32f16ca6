/**
 * `POST /hooks/stash`: near-instant pushes. Accepts Stash's plugin hook payload
 * (`{"hookContext": {"type": "Scene.Update.Post", "id": 12}}`) or `{"sceneIds": [12, 13]}`,
 * authenticated by the webhook token. Unknown scene ids are refused as a whole (nothing is
 * queued); when Stash cannot be asked, the ids are queued anyway: losing a change is worse
 * than one push that finds nothing.
 */
import { Elysia, t } from "elysia";
import { HttpError } from "../http.ts";
import { guardedJson } from "../json-body.ts";
import { requireToken } from "./token.ts";
import type { StashClient } from "../stash/client.ts";
import { isStashError } from "../stash/errors.ts";
import type { Queue } from "../sync/queue.ts";
import { DEFAULT_INSTANCE_ID, INSTANCE_ID, sceneRef } from "../domain/ref.ts";

export interface WebhookDeps {
  token: string;
  stash: Pick<StashClient, "scenesByIds">;
  queue: Queue;
  onQueued: () => void;
}

const Id = t.Union([t.Integer({ minimum: 1 }), t.String({ pattern: "^[0-9]{1,18}$" })]);
const Body = t.Union([
  t.Object({ hookContext: t.Object({ type: t.String({ minLength: 1 }), id: Id }, { additionalProperties: true }) }, { additionalProperties: true }),
  t.Object({
    sceneIds: t.Array(Id, { minItems: 1, maxItems: 10000 }),
    // Which Stash the ids are of (absent: the default one). Only the default's client is wired here so far:
    // another instance's ids are queued unchecked rather than checked against the wrong Stash.
    // Checked in the handler, so a bad one is named (a union's schema error cannot say which field).
    instance: t.Optional(t.String({ maxLength: 64 })),
  }),
]);

/** Hook types that change what Plex should show; Destroy has nothing left to push. */
const PUSHED_HOOKS = /^Scene\.(Create|Update|Merge)\.Post$/;

/** Up to 10,000 ids fit well within this; nesting beyond the hook payload's is refused unread. */
const LIMITS = { maxBytes: 512 * 1024, maxDepth: 8 };

export const webhookRoutes = (deps: WebhookDeps) =>
  new Elysia({ name: "webhook" }).post("/hooks/stash", async ({ body }) => {
    let ids: string[];
    const instance = ("sceneIds" in body && body.instance) || DEFAULT_INSTANCE_ID;
    if (!INSTANCE_ID.test(instance)) throw new HttpError(400, "bad_instance", "instance: a Stash instance id (a lower-case letter, then letters and digits)");
    if ("hookContext" in body) {
      if (!PUSHED_HOOKS.test(body.hookContext.type)) return { queued: 0, ignored: `hook ${body.hookContext.type} needs no push` };
      ids = [String(body.hookContext.id)];
    } else ids = [...new Set(body.sceneIds.map(String))];

    if (instance === DEFAULT_INSTANCE_ID) try {
      const found = new Set((await deps.stash.scenesByIds(ids)).map((s) => s.id));
      const unknown = ids.filter((id) => !found.has(id));
      if (unknown.length) {
        throw new HttpError(422, "unknown_scene", `Stash has no scene with id ${unknown.slice(0, 20).join(", ")}; nothing was queued`);
      }
    } catch (err) {
      if (!isStashError(err)) throw err;
    }
    const queued = deps.queue.enqueue(ids.map((id) => ({ ref: sceneRef(instance, id) })), "webhook");
    deps.onQueued();
    return { queued };
  }, {
    body: Body,
    // The token is checked before the body is read.
    parse: guardedJson({
      ...LIMITS,
      authorise(headers) {
        if (!deps.token) {
          throw new HttpError(404, "webhook_off", "the webhook is off: it needs PLEX_URL, PLEX_TOKEN and SYNC_WEBHOOK_TOKEN to be set");
        }
        requireToken(deps.token, headers.get("authorization"), "the webhook");
      },
    }),
  });
