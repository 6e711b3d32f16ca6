/**
 * The reconcile and manual-sync API. `POST /api/reconcile` starts a run in the background
 * (202; 409 while one runs), `GET /api/reconcile` shows its live progress and the last
 * report with its gaps, paged by kind. `POST /api/sync` queues pushes for all scenes, those
 * changed within a span, or chosen ids. Actions need the admin token; nothing here shows a secret.
 */
import { Elysia, t } from "elysia";
import { HttpError } from "../http.ts";
import { guardedJson } from "../json-body.ts";
import type { Access } from "./access.ts";
import { GAP_KINDS, isGapKind, type GapKind } from "../domain/gaps.ts";
import type { Reconciler } from "../gaps/reconcile.ts";
import { syncScope, type SyncScope } from "../sync/select.ts";
import { DEFAULT_INSTANCE_ID, INSTANCE_ID } from "../domain/ref.ts";

export interface ReconcileSource {
  access: Access;
  /** Undefined when push is off (there is no Plex side to compare). */
  reconciler?: Reconciler;
  /** Kinds a manual run with heal: true heals. */
  healable: readonly GapKind[];
  /** Queues the pushes of a sync; resolves to how many scenes were queued. */
  sync?: (scope: SyncScope, instance?: string) => Promise<number>;
}

const Kinds = t.Array(t.String({ maxLength: 32 }), { maxItems: GAP_KINDS.length });
const PUSH_OFF = "reconcile and sync need Plex: set PLEX_URL and PLEX_TOKEN";

function kindsOf(list: string[] | undefined, what: string): GapKind[] | undefined {
  if (!list) return undefined;
  const bad = list.filter((k) => !isGapKind(k));
  if (bad.length)
    throw new HttpError(
      400,
      "bad_kind",
      `${what}: unknown gap kind ${bad.map((k) => JSON.stringify(k)).join(", ")} (known: ${GAP_KINDS.join(", ")})`,
    );
  return list as GapKind[];
}

export const reconcileRoutes = (src: ReconcileSource) => {
  const authorise = (h: Headers) => src.access.requireAdmin(h);
  return new Elysia({ name: "reconcile" })
    .post(
      "/api/reconcile",
      ({ body, set }) => {
        const reconciler = src.reconciler;
        if (!reconciler) throw new HttpError(409, "push_off", PUSH_OFF);
        if (reconciler.running)
          throw new HttpError(409, "busy", "a reconcile is running already; GET /api/reconcile shows its progress");
        const kinds = kindsOf(body?.kinds, "kinds");
        const heal =
          body?.heal === true
            ? src.healable
            : body?.heal === false || body?.heal === undefined
              ? []
              : kindsOf(body.heal, "heal")!;
        // The run goes on in the background; its outcome lands in the report (and in the log when it fails).
        void reconciler.run({ heal, kinds, trigger: "api" }).catch(() => {});
        set.status = 202;
        return { started: true, heal, progress: reconciler.progress };
      },
      {
        body: t.Optional(t.Object({ heal: t.Optional(t.Union([t.Boolean(), Kinds])), kinds: t.Optional(Kinds) })),
        parse: guardedJson({ maxBytes: 64 * 1024, maxDepth: 4, authorise }),
      },
    )
    .get(
      "/api/reconcile",
      ({ query, request }) => {
        src.access.requireRead(request.headers);
        const reconciler = src.reconciler;
        if (!reconciler) throw new HttpError(409, "push_off", PUSH_OFF);
        const kind = query.kind ? kindsOf([query.kind], "kind")![0] : undefined;
        const offset = Math.max(0, Number(query.offset ?? 0) || 0);
        const limit = Math.min(500, Math.max(1, Number(query.limit ?? 50) || 50));
        const last = reconciler.reports.last() ?? null;
        const report = reconciler.reports.lastDone() ?? null;
        return {
          running: reconciler.progress,
          last,
          report,
          gaps: report ? reconciler.reports.gaps(report.id, kind, offset, limit) : [],
          page: { kind: kind ?? null, offset, limit },
        };
      },
      {
        query: t.Object({
          kind: t.Optional(t.String({ maxLength: 32 })),
          offset: t.Optional(t.String({ maxLength: 9 })),
          limit: t.Optional(t.String({ maxLength: 4 })),
        }),
      },
    )
    .post(
      "/api/sync",
      async ({ body, set }) => {
        if (!src.sync) throw new HttpError(409, "push_off", PUSH_OFF);
        const scope = syncScope(body ?? {});
        if (typeof scope === "string") throw new HttpError(400, "bad_scope", scope);
        // The Stash plugin sends the instance it runs in: the sync reads that instance's own Stash
        // (an id the service does not have is a 400 naming it).
        const instance = body?.instance ?? DEFAULT_INSTANCE_ID;
        if (!INSTANCE_ID.test(instance))
          throw new HttpError(
            400,
            "bad_instance",
            "instance: a Stash instance id (a lower-case letter, then letters and digits)",
          );
        const queued = await src.sync(scope, instance);
        set.status = 202;
        return { queued };
      },
      {
        body: t.Optional(
          t.Object({
            all: t.Optional(t.Boolean()),
            since: t.Optional(t.String({ maxLength: 16 })),
            sceneIds: t.Optional(t.Array(t.String({ maxLength: 18 }), { maxItems: 100_000 })),
            instance: t.Optional(
              t.String({ maxLength: 64, description: "The Stash instance of the scenes (absent: the default one)." }),
            ),
          }),
        ),
        parse: guardedJson({ maxBytes: 2 * 1024 * 1024, maxDepth: 4, authorise }),
      },
    );
};
