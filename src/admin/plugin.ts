/**
 * The admin side: what an operator sees and asks — the dashboard, the status API, /metrics,
 * /healthz and /readyz, and the path-rule suggestions. It reads every other side and owns no
 * job of its own (it lists and triggers theirs).
 */
import { Elysia } from "elysia";
import type { Config } from "../config/schema.ts";
import { instancesOf, providerUrl, type StashInstance } from "../config/instances.ts";
import { withoutCredentials } from "../redact.ts";
import { HttpError } from "../http.ts";
import { guardedJson } from "../json-body.ts";
import type { Breaker } from "../sync/breaker.ts";
import type { InstanceView, TvLibraryView, WritebackView } from "../ui/source.ts";
import { DEFAULT_INSTANCE_ID, refKey, type Ref } from "../domain/ref.ts";
import type { GapsSide } from "../gaps/plugin.ts";
import type { createScheduler } from "../jobs.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import type { PathMapper } from "../paths/mapper.ts";
import type { PlexClient } from "../plex/client.ts";
import type { MatchGate } from "../provider/gates.ts";
import type { MetadataContext } from "../provider/metadata.ts";
import type { StashClient } from "../stash/client.ts";
import type { KeptCollection } from "../collections/state.ts";
import { indexedTitle, type FileIndex } from "../stash/file-index.ts";
import type { Store } from "../store/db.ts";
import type { Backups } from "../store/backups.ts";
import { backupRoutes } from "./backups.ts";
import { cachedMachineIdentifier, sceneStatusRoutes, stateOf } from "./scene-status.ts";
import { stashPluginRoutes } from "./stash-plugin-routes.ts";
import { createIdentityState } from "../sync/identity-state.ts";
import { episodeRef, guidOf, tvIdentifierOf } from "../domain/ref.ts";
import type { PlexIndex } from "../sync/plex-index.ts";
import type { PushSide } from "../sync/plugin.ts";
import type { Queue } from "../sync/queue.ts";
import { dashboardRoutes, databaseErrorPage } from "../ui/routes.ts";
import type { Access } from "./access.ts";
import { cachedReadiness, healthRoutes, sharedChecks, stashCheckName, type Check } from "./health.ts";
import { metricsRoute } from "./metrics-route.ts";
import { pathRoutes } from "./paths.ts";
import { rowView, statusRoutes } from "./status.ts";

export interface AdminSideDeps {
  config: Config;
  store: Store;
  log: Logger;
  access: Access;
  metrics: Metrics;
  scheduler: ReturnType<typeof createScheduler>;
  backups: Backups;
  queue: Queue;
  plex: PlexClient;
  plexIndex: PlexIndex;
  /** The Stash instance's parts (the dashboard's match explainer runs the provider's ladder). */
  stash: StashClient;
  index: FileIndex;
  mapper: PathMapper;
  ctx: MetadataContext;
  matchOnly: MatchGate[];
  push: PushSide;
  gaps: GapsSide;
  /** The Stash instances after the first, each with its own client and file index. */
  others?: { instance: StashInstance; stash: StashClient; index: FileIndex }[];
  /** Write-back's events and webhook URL (undefined: write-back is off). */
  writeback?: WritebackView;
  /** The TV-style libraries, for the dashboard and the path tester. */
  tv?: TvLibraryView[];
  /** The collections kept in Plex; undefined when they are off. */
  collections?: () => KeptCollection[];
}

/**
 * POST /api/writeback/retry and /api/writeback/discard: failed write-back events, named by key
 * (`{"keys": [...]}`) or all (`{"all": true}`). The admin token only (the body is read after it);
 * the cross-site guard (admin/guard.ts) covers /api/ as it does the dashboard's forms.
 */
function writebackActions(access: Access, wb: WritebackView | undefined) {
  const parse = guardedJson({ maxBytes: 512 * 1024, maxDepth: 3, authorise: (h) => access.requireAdmin(h) });
  const keysOf = (body: unknown): string[] | undefined => {
    const b = (body ?? {}) as { keys?: unknown; all?: unknown };
    if (b.all === true && b.keys === undefined) return undefined;
    if (
      !Array.isArray(b.keys) ||
      b.keys.length === 0 ||
      b.keys.length > 10_000 ||
      !b.keys.every((k) => typeof k === "string" && k.length > 0 && k.length <= 500)
    )
      throw new HttpError(
        400,
        "bad_request",
        'name failed events as {"keys": ["<event key>", …]} (1 to 10,000), or {"all": true}',
      );
    return b.keys as string[];
  };
  const on = () => {
    if (!wb) throw new HttpError(409, "writeback_off", "write-back is off (WRITEBACK_ENABLED)");
    return wb.events;
  };
  return new Elysia({ name: "writeback-actions" })
    .post("/api/writeback/retry", ({ body }) => ({ retried: on().retryFailed(keysOf(body)) }), { parse })
    .post("/api/writeback/discard", ({ body }) => ({ discarded: on().discardFailed(keysOf(body)) }), { parse });
}

export function adminSide(deps: AdminSideDeps) {
  const {
    config,
    store,
    log,
    access,
    metrics,
    scheduler,
    queue,
    plex,
    plexIndex,
    stash,
    index: stashIndex,
    push,
    gaps,
  } = deps;
  const { pushOn, breaker, worker, poller } = push;
  const { reconciler } = gaps;
  const others = deps.others ?? [];

  /** An instance's push loop (one per instance): its own breaker and poller. */
  const loopOf = (id: string) => push.loops.find((l) => l.instance === id);
  const breakerOf = (id: string): Breaker => loopOf(id)?.breaker ?? breaker;
  const parts = [{ instance: instancesOf(config)[0]!, stash, index: stashIndex }, ...others];
  const identity = createIdentityState(store);
  const instances: InstanceView[] = parts.map(({ instance, index }) => ({
    instance,
    index,
    providerUrl: providerUrl(config.publicUrl, instance),
    stashUrl: withoutCredentials(instance.stash.url),
    breakerState: () => breakerOf(instance.id).state,
    outages: (limit) => breakerOf(instance.id).outages(limit),
  }));
  const indexOf = (id: string) => parts.find((p) => p.instance.id === id)?.index;

  /** The title Plex would show for a scene, from the index of Stash scenes (no Stash call). */
  const sceneTitle = (ref: Ref) => {
    // Each instance's titles come from its own file index (the same id is another scene elsewhere).
    const scene = indexOf(ref.instance)?.scene(ref.id);
    return scene ? indexedTitle(scene) : null;
  };

  const extraChecks: Record<string, () => Promise<Check>> = {
    // A tiny write and a look at the WAL file; a problem met by any query since stands until it clears.
    database: async () => {
      const problem = store.health.check(() => store.writable());
      return problem ? { ok: false, detail: problem.message } : { ok: true, detail: store.path };
    },
    ...(pushOn ? { plex: async () => ({ ok: true, detail: `PMS ${(await plex.identity()).version}` }) } : {}),
    // Every further Stash, each its own part: one down is named, the others stay ok.
    ...Object.fromEntries(
      others.map((o) => [
        stashCheckName(o.instance),
        async () => ({ ok: true, detail: `Stash ${await o.stash.version()}` }),
      ]),
    ),
  };

  // Each part's check, shared by /readyz, the dashboard and /metrics.
  const partChecks = sharedChecks({ stash, extraChecks }, log.redact);

  metrics.readFrom({
    queue: () => queue.countsByInstance(),
    breaker: () => Object.fromEntries(instances.map((v) => [v.instance.id, v.breakerState()])),
    indexes: () => ({
      stashScenes: Object.fromEntries(instances.map((v) => [v.instance.id, v.index.size])),
      plexItems: plexIndex.size(),
    }),
    lastGaps: () => (pushOn ? (reconciler.reports.lastDone()?.counts ?? {}) : {}),
    // Jobs on a schedule (one turned off is not "late"). A reconcile's success is kept on disk
    // (and counts when run by hand): a restart does not reset it.
    jobs: () =>
      scheduler
        .list()
        .filter((j) => j.everySeconds > 0)
        .map((j) => ({
          id: j.id,
          lastSuccessAt:
            j.id === "reconcile"
              ? Math.max(j.lastSuccessAt ?? 0, reconciler.reports.lastDone()?.finishedAt ?? 0) || null
              : j.lastSuccessAt,
        })),
    lastDeliveryAt: () => queue.lastDeliveryAt(),
    oldestPendingAt: () => queue.jobs(1)[0]?.first_queued_at ?? null,
    // The same shared checks as /readyz: a scrape adds no Stash or Plex call of its own.
    upstreams: Object.fromEntries(
      Object.entries(partChecks)
        .filter(([name]) => name !== "database")
        .map(([name, check]) => [name, () => check().then((c) => c.ok)]),
    ),
  });

  // Stash, Plex and the database, for /readyz and the dashboard: one cached check however many ask.
  const ready = cachedReadiness(partChecks);
  const checks = () => ready().then((r) => r.checks);
  const dashboard = dashboardRoutes({
    config,
    access,
    queue,
    breaker,
    stashIndex,
    plexItems: () => plexIndex.size(),
    reconciler: pushOn ? reconciler : undefined,
    healable: gaps.manualHeal,
    jobs: () => scheduler.list(),
    runJob: (id) => scheduler.trigger(id),
    backups: deps.backups,
    database: store.health,
    identityAt: (path) => identity.atPath(path),
    mapper: deps.mapper,
    match: { stash, index: stashIndex, mapper: deps.mapper, ctx: deps.ctx, matchOnly: deps.matchOnly },
    suggest: pushOn ? push.autoRules.suggest : undefined,
    checks,
    sync: pushOn ? push.sync : undefined,
    syncProgress: push.syncProgress,
    instances,
    writeback: deps.writeback,
    tv: deps.tv,
    collections: deps.collections,
  });
  const wb = deps.writeback;
  // What waits to be written to each Stash, read at each scrape.
  if (wb)
    metrics.writeback.readWaiting(() =>
      Object.fromEntries(instances.map((v) => [v.instance.id, wb.events.counts(v.instance.id).pending])),
    );
  const wbState = wb?.state;
  if (wbState) metrics.writeback.readStream(() => wbState().stream.state);
  // Each TV library's catalog counts and last full pass, read at each scrape.
  const tv = deps.tv;
  if (tv?.length)
    metrics.readTv(() =>
      tv.map((l) => {
        const { lastSyncAt, lastError, report } = l.state();
        return {
          library: l.id,
          instance: l.instance,
          ...l.counts(),
          lastSyncAt,
          lastError,
          links: report && { made: report.created, moved: report.retargeted, removed: report.removed },
        };
      }),
    );

  const pollerView = (p: typeof poller | undefined) =>
    p
      ? { watermark: p.watermark, failures: p.failures, lastPoll: p.recentPolls.at(-1) ?? null, totals: p.totals }
      : null;
  /** Each instance's Stash (reachable or not), queue, breaker and index, for /api/status. */
  const instancesStatus = async () => {
    const [known, counts] = [await checks(), queue.countsByInstance()];
    return instances.map((v) => {
      const check = known[stashCheckName(v.instance)];
      return {
        id: v.instance.id,
        name: v.instance.name,
        default: v.instance.isDefault,
        providerUrl: v.providerUrl,
        stash: { ok: check?.ok ?? false, detail: check?.detail ?? "not checked yet" },
        queue: counts[v.instance.id] ?? { pending: 0, due: 0, confirming: 0, dead: 0 },
        breaker: v.breakerState(),
        indexedScenes: v.index.size,
        poller: pollerView(loopOf(v.instance.id)?.poller),
      };
    });
  };

  const status = statusRoutes({
    access,
    snapshot: async () => ({
      push: pushOn ? "on" : "off (PLEX_URL not set)",
      queue: {
        pending: queue.pending(),
        due: queue.due(),
        waitingForPlexToFetch: queue.confirming(),
        delivered: queue.deliveredCount(),
        draining: worker.busy,
      },
      breaker: breaker.state,
      outages: breaker.outages(),
      // The newest 50 and the count: the whole list (thousands after a long Plex outage) is paged at /api/dead-letters.
      deadLetters: queue.deadLetterPage(0, 50).map(rowView),
      deadLetterCount: queue.deadLetterCount(),
      poller: pollerView(poller),
      indexes: { stashScenes: stashIndex.size, plexItems: plexIndex.size() },
      jobs: scheduler.list(),
      reconcile: pushOn ? { running: reconciler.progress, last: reconciler.reports.last() ?? null } : null,
      // The fields above are the default instance's (as before); each instance, the default too, here.
      instances: await instancesStatus(),
      writeback: wb
        ? {
            ...wb.events.counts(),
            webhookUrl: wb.webhookUrl ?? null,
            ...wb.state?.(),
            // The failed events (the latest 50), by key: what POST /api/writeback/retry|discard name.
            failedEvents: wb.events.recent(50, "failed").map((e) => ({
              key: e.key,
              kind: e.event.kind,
              ref: refKey(e.event.ref),
              at: e.event.at,
              error: e.lastError,
            })),
          }
        : null,
    }),
    scene: (ref) => {
      const job = queue.job(ref);
      const dead = queue.deadLetter(ref);
      return {
        sceneId: ref.id,
        ...(ref.instance === DEFAULT_INSTANCE_ID ? {} : { instance: ref.instance }),
        job: job ? rowView(job) : null,
        lastDelivery: queue.delivery(ref) ?? null,
        items: queue.items(ref),
        deadLetter: dead ? rowView(dead) : null,
        history: queue.history(ref),
      };
    },
    requeue: (which) => {
      const n = queue.requeueDead(which);
      worker.kick();
      return n;
    },
    queue,
    title: sceneTitle,
    trigger: (id) => scheduler.trigger(id),
  });

  const plugin = new Elysia({ name: "admin" })
    .use(dashboard)
    .use(writebackActions(access, wb))
    .use(metricsRoute(metrics))
    .use(healthRoutes(ready, access.isAdmin))
    .use(status)
    .use(backupRoutes({ access, backups: deps.backups }))
    .use(stashPluginRoutes())
    .use(
      sceneStatusRoutes({
        access,
        stashOrigins: parts.flatMap(({ instance }) => {
          const origin = URL.canParse(instance.stash.url) ? new URL(instance.stash.url).origin : undefined;
          return origin ? [{ instance: instance.id, origin }] : [];
        }),
        state: (ref) => stateOf(queue, ref),
        items: (ref) => {
          const identifier = parts.find((p) => p.instance.id === ref.instance)?.instance.provider.identifier;
          if (!identifier) return [];
          const episodes = (deps.tv ?? [])
            .filter((l) => l.instance === ref.instance)
            .map((l) => guidOf(tvIdentifierOf(identifier), episodeRef(ref.instance, l.scheme, ref.id)));
          return [guidOf(identifier, ref), ...new Set(episodes)]
            .flatMap((guid) => plexIndex.byGuid(guid))
            .map((i) => {
              const how = identity.of(i.rating_key)?.how;
              return {
                ratingKey: i.rating_key,
                title: i.title,
                ...(how && how !== "ambiguous" ? { foundBy: how } : {}),
              };
            });
        },
        tv: (ref) =>
          (deps.tv ?? [])
            .filter((l) => l.instance === ref.instance)
            .flatMap((l) => {
              const p = l.placementOf(ref.id);
              return p ? [{ library: l.id, show: p.showTitle ?? p.showId, season: p.season, episode: p.episode }] : [];
            }),
        machineIdentifier: cachedMachineIdentifier(() => plex.identity()),
      }),
    )
    .use(pathRoutes({ access, suggest: pushOn ? push.autoRules.suggest : undefined }));
  return { plugin, errorPage: databaseErrorPage({ access, database: store.health }) };
}
