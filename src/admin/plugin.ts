/**
 * The admin side: what an operator sees and asks — the dashboard, the status API, /metrics,
 * /healthz and /readyz, and the path-rule suggestions. It reads every other side and owns no
 * job of its own (it lists and triggers theirs).
 */
import { Elysia } from "elysia";
import type { Config } from "../config/schema.ts";
import { DEFAULT_INSTANCE_ID, type Ref } from "../domain/ref.ts";
import type { GapsSide } from "../gaps/plugin.ts";
import type { createScheduler } from "../jobs.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import type { PathMapper } from "../paths/mapper.ts";
import type { PlexClient } from "../plex/client.ts";
import type { MatchGate } from "../provider/gates.ts";
import type { MetadataContext } from "../provider/metadata.ts";
import type { StashClient } from "../stash/client.ts";
import { indexedTitle, type FileIndex } from "../stash/file-index.ts";
import type { Store } from "../store/db.ts";
import type { PlexIndex } from "../sync/plex-index.ts";
import type { PushSide } from "../sync/plugin.ts";
import type { Queue } from "../sync/queue.ts";
import { dashboardRoutes } from "../ui/routes.ts";
import type { Access } from "./access.ts";
import { cachedReadiness, healthRoutes, type Check } from "./health.ts";
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
}

export function adminSide(deps: AdminSideDeps) {
  const { config, store, log, access, metrics, scheduler, queue, plex, plexIndex, stash, index: stashIndex, push, gaps } = deps;
  const { pushOn, breaker, worker, poller } = push;
  const { reconciler } = gaps;

  /** The title Plex would show for a scene, from the index of Stash scenes (no Stash call). */
  const sceneTitle = (ref: Ref) => {
    // The one file index is the default instance's; another instance's titles come with its own.
    const scene = ref.instance === DEFAULT_INSTANCE_ID ? stashIndex.scene(ref.id) : undefined;
    return scene ? indexedTitle(scene) : null;
  };

  const extraChecks: Record<string, () => Promise<Check>> = {
    database: async () => ({ ok: store.writable(), detail: store.path }),
    ...(pushOn ? { plex: async () => ({ ok: true, detail: `PMS ${(await plex.identity()).version}` }) } : {}),
  };

  metrics.readFrom({
    queue: () => queue.countsByInstance(),
    breaker: () => breaker.state,
    indexes: () => ({ stashScenes: stashIndex.size, plexItems: plexIndex.size() }),
    lastGaps: () => (pushOn ? reconciler.reports.lastDone()?.counts ?? {} : {}),
    // Jobs on a schedule (one turned off is not "late"). A reconcile's success is kept on disk
    // (and counts when run by hand): a restart does not reset it.
    jobs: () => scheduler.list().filter((j) => j.everySeconds > 0).map((j) => ({
      id: j.id,
      lastSuccessAt: j.id === "reconcile" ? Math.max(j.lastSuccessAt ?? 0, reconciler.reports.lastDone()?.finishedAt ?? 0) || null : j.lastSuccessAt,
    })),
    lastDeliveryAt: () => queue.lastDeliveryAt(),
    oldestPendingAt: () => queue.jobs(1)[0]?.first_queued_at ?? null,
    upstreams: { stash: () => stash.version(), ...(pushOn ? { plex: () => plex.identity() } : {}) },
  });

  // Stash, Plex and the database, for /readyz and the dashboard: one cached check however many ask.
  const ready = cachedReadiness({ stash, extraChecks }, log.redact);
  const checks = () => ready().then((r) => r.checks);
  const dashboard = dashboardRoutes({
    config, access, queue, breaker, stashIndex, plexItems: () => plexIndex.size(), reconciler: pushOn ? reconciler : undefined,
    healable: gaps.manualHeal, jobs: () => scheduler.list(), runJob: (id) => scheduler.trigger(id), mapper: deps.mapper,
    match: { stash, index: stashIndex, mapper: deps.mapper, ctx: deps.ctx, matchOnly: deps.matchOnly },
    suggest: pushOn ? push.autoRules.suggest : undefined, checks, sync: pushOn ? push.sync : undefined, syncProgress: push.syncProgress,
  });

  const status = statusRoutes({
    access,
    snapshot: () => ({
      push: pushOn ? "on" : "off (PLEX_URL not set)",
      queue: {
        pending: queue.pending(), due: queue.due(), waitingForPlexToFetch: queue.confirming(),
        delivered: queue.deliveredCount(), draining: worker.busy,
      },
      breaker: breaker.state,
      outages: breaker.outages(),
      deadLetters: queue.deadLetters().map(rowView),
      poller: { watermark: poller.watermark, failures: poller.failures, lastPoll: poller.recentPolls.at(-1) ?? null, totals: poller.totals },
      indexes: { stashScenes: stashIndex.size, plexItems: plexIndex.size() },
      jobs: scheduler.list(),
      reconcile: pushOn ? { running: reconciler.progress, last: reconciler.reports.last() ?? null } : null,
    }),
    scene: (ref) => {
      const job = queue.job(ref);
      const dead = queue.deadLetter(ref);
      return {
        sceneId: ref.id, ...(ref.instance === DEFAULT_INSTANCE_ID ? {} : { instance: ref.instance }),
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
    .use(metricsRoute(metrics))
    .use(healthRoutes(ready, access.isAdmin))
    .use(status)
    .use(pathRoutes({ access, suggest: pushOn ? push.autoRules.suggest : undefined }));
  return { plugin };
}
