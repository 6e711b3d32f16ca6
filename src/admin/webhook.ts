/**
 * `POST /hooks/stash`: near-instant pushes. Accepts Stash's plugin hook payload
 * (`{"hookContext": {"type": "Scene.Update.Post", "id": 12}}`) or `{"sceneIds": [12, 13]}`,
 * either with an optional `"instance": "<id>"` naming the Stash (absent: the default one; the
 * ids are checked against that instance's own Stash), authenticated by the webhook token.
 * Unknown scene ids are refused as a whole (nothing is queued); when Stash cannot be asked, the
 * ids are queued anyway: losing a change is worse than one push that finds nothing. When the
 * database cannot store them (a full disk, a damaged file), they are held in memory and queued
 * once it works again, and the answer says so (507/503): never acknowledged as stored.
 */
import { Elysia, t } from "elysia";
import { HttpError } from "../http.ts";
import { guardedJson } from "../json-body.ts";
import { requireToken } from "./token.ts";
import type { StashClient } from "../stash/client.ts";
import { isStashError } from "../stash/errors.ts";
import type { Queue } from "../sync/queue.ts";
import { DEFAULT_INSTANCE_ID, INSTANCE_ID, sceneRef } from "../domain/ref.ts";
import { type DatabaseHealth, problemKindOf } from "../store/health.ts";
import { databaseTrouble } from "../store/trouble.ts";

export interface WebhookDeps {
  token: string;
  /** The Stash client of a configured instance, by id (undefined: no such instance). */
  stashOf: (instance: string) => Pick<StashClient, "scenesByIds"> | undefined;
  queue: Queue;
  /** Wakes the worker of the instance whose scenes were queued. */
  onQueued: (instance: string) => void;
  /** The database's health: ids it could not store are queued when it works again. */
  health?: Pick<DatabaseHealth, "onHealed">;
}

const Id = t.Union([t.Integer({ minimum: 1 }), t.String({ pattern: "^[0-9]{1,18}$" })]);
const Body = t.Union([
  t.Object(
    {
      hookContext: t.Object({ type: t.String({ minLength: 1 }), id: Id }, { additionalProperties: true }),
      // The Stash plugin adds its "Stash instance id" setting (absent: the default instance).
      instance: t.Optional(t.String({ maxLength: 64 })),
    },
    { additionalProperties: true },
  ),
  t.Object({
    sceneIds: t.Array(Id, { minItems: 1, maxItems: 10000 }),
    // Which Stash the ids are of (absent: the default one); its own client checks them. The Stash
    // plugin sends its "instance id" setting. Checked in the handler, so a bad one is named (a
    // union's schema error cannot say which field).
    instance: t.Optional(t.String({ maxLength: 64 })),
  }),
]);

/** Hook types that change what Plex should show; Destroy has nothing left to push. */
const PUSHED_HOOKS = /^Scene\.(Create|Update|Merge)\.Post$/;

/** Up to 10,000 ids fit well within this; nesting beyond the hook payload's is refused unread. */
const LIMITS = { maxBytes: 512 * 1024, maxDepth: 8 };

export function webhookRoutes(deps: WebhookDeps) {
  /** Scene ids per instance the database could not store, queued once it can. */
  const held = new Map<string, Set<string>>();
  deps.health?.onHealed(() => {
    for (const [instance, ids] of held) {
      deps.queue.enqueue(
        [...ids].map((id) => ({ ref: sceneRef(instance, id) })),
        "webhook (held in memory while the database could not store it)",
      );
      held.delete(instance);
      deps.onQueued(instance);
    }
  });
  /** Queues the ids, or holds them and says why they are not stored. */
  function queue(instance: string, ids: string[]): number {
    try {
      return deps.queue.enqueue(
        ids.map((id) => ({ ref: sceneRef(instance, id) })),
        "webhook",
      );
    } catch (err) {
      const trouble = problemKindOf(err) && databaseTrouble(err);
      if (!trouble) throw err;
      const own = held.get(instance) ?? new Set<string>();
      for (const id of ids) own.add(id);
      held.set(instance, own);
      throw new HttpError(
        trouble.status,
        "database",
        `${trouble.message}; the scene ids are held in memory and queued once the database works again`,
        60,
      );
    }
  }
  return new Elysia({ name: "webhook" }).post(
    "/hooks/stash",
    async ({ body }) => {
      let ids: string[];
      const instance = body.instance ?? DEFAULT_INSTANCE_ID;
      if (!INSTANCE_ID.test(instance))
        throw new HttpError(
          400,
          "bad_instance",
          "instance: a Stash instance id (a lower-case letter, then letters and digits)",
        );
      const stash = deps.stashOf(instance);
      // Queued for a Stash we do not know, the ids could never be pushed: say so instead.
      if (!stash)
        throw new HttpError(
          400,
          "unknown_instance",
          `instance: no Stash instance has the id "${instance}" (check the plugin's "instance id" setting)`,
        );
      if ("hookContext" in body) {
        if (!PUSHED_HOOKS.test(body.hookContext.type))
          return { queued: 0, ignored: `hook ${body.hookContext.type} needs no push` };
        ids = [String(body.hookContext.id)];
      } else ids = [...new Set(body.sceneIds.map(String))];

      try {
        const found = new Set((await stash.scenesByIds(ids)).map((s) => s.id));
        const unknown = ids.filter((id) => !found.has(id));
        if (unknown.length) {
          const which = instance === DEFAULT_INSTANCE_ID ? "Stash" : `Stash "${instance}"`;
          throw new HttpError(
            422,
            "unknown_scene",
            `${which} has no scene with id ${unknown.slice(0, 20).join(", ")}; nothing was queued`,
          );
        }
      } catch (err) {
        if (!isStashError(err)) throw err;
      }
      const queued = queue(instance, ids);
      deps.onQueued(instance);
      return { queued };
    },
    {
      body: Body,
      // The token is checked before the body is read.
      parse: guardedJson({
        ...LIMITS,
        authorise(headers) {
          if (!deps.token) {
            throw new HttpError(
              404,
              "webhook_off",
              "the webhook is off: it needs PLEX_URL, PLEX_TOKEN and SYNC_WEBHOOK_TOKEN to be set",
            );
          }
          requireToken(deps.token, headers.get("authorization"), "the webhook");
        },
      }),
    },
  );
}
