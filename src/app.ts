/**
 * The composition root: builds every part once from the config and wires them. Nothing
 * else constructs clients or opens the database, so what talks to what is readable here.
 */
import { Elysia } from "elysia";
import type { Config } from "./config/schema.ts";
import { createLogger, type Logger } from "./log.ts";
import { compilePathRules, createSwappableMapper } from "./paths/mapper.ts";
import { createAutoRules } from "./paths/auto.ts";
import { createStashClient } from "./stash/client.ts";
import { createFileIndex, indexedTitle } from "./stash/file-index.ts";
import { createPlexClient, type PlexSection } from "./plex/client.ts";
import { openStore } from "./store/db.ts";
import { httpBasics, noteClient, serverOptions } from "./http.ts";
import { providerRoutes } from "./provider/routes.ts";
import type { MetadataContext } from "./provider/metadata.ts";
import { cachedReadiness, healthRoutes, type Check } from "./admin/health.ts";
import { dashboardRoutes } from "./ui/routes.ts";
import { webhookRoutes } from "./admin/webhook.ts";
import { rowView, statusRoutes } from "./admin/status.ts";
import { DEFAULT_INSTANCE_ID, refKey, sceneRef, type Ref } from "./domain/ref.ts";
import { createAccess, resolveAdminToken } from "./admin/access.ts";
import { adminGuard } from "./admin/guard.ts";
import { createThrottle, type ThrottleOptions } from "./admin/throttle.ts";
import { createSessions } from "./store/sessions.ts";
import { pathRoutes } from "./admin/paths.ts";
import { createQueue } from "./sync/queue.ts";
import { createBreaker } from "./sync/breaker.ts";
import { createPlexIndex } from "./sync/plex-index.ts";
import { createPusher, resolveSections, type SyncSection } from "./sync/push.ts";
import { createEditState } from "./sync/edit-state.ts";
import { createWorker } from "./sync/worker.ts";
import { createPoller } from "./sync/poller.ts";
import { createPmsIdentity } from "./sync/pms-identity.ts";
import { createScheduler } from "./jobs.ts";
import { createMetrics } from "./metrics.ts";
import { metricsRoute } from "./admin/metrics-route.ts";
import { createReconciler } from "./gaps/reconcile.ts";
import { HEALABLE_KINDS, type GapKind } from "./domain/gaps.ts";
import { reconcileRoutes } from "./admin/reconcile.ts";
import { describeScope, scenesToSync, type SyncScope } from "./sync/select.ts";

export interface AppOptions {
  log?: Logger;
  /**
   * false for one-shot commands (reconcile, sync) beside a running service: what they queue is
   * left to the service's worker, never half-pushed by a process about to exit.
   */
  drain?: boolean;
  /** The scheduler's clock (tests drive the schedule with a fake one through `scheduler.tick()`). */
  schedulerClock?: () => number;
  /** Sign-in throttle timings and clock (tests shorten the lock instead of waiting minutes). */
  signInThrottle?: Partial<ThrottleOptions>;
  /** The sessions' clock (tests expire a session without waiting 30 days). */
  sessionClock?: () => number;
}

export function metadataContext(config: Config): MetadataContext {
  return {
    identifier: config.provider.identifier,
    publicUrl: config.publicUrl,
    contentRating: config.provider.contentRating,
    genreMode: config.provider.genreMode,
    excludeTags: config.provider.excludeTags,
    taglineFrom: config.provider.taglineFrom,
    ratingAs: config.provider.ratingAs,
  };
}

const SECTIONS_TTL_MS = 60_000;

export function createApp(config: Config, options: AppOptions = {}) {
  const store = openStore(config.dataDir);
  const admin = resolveAdminToken(config.admin.token, config.dataDir);
  const log = options.log ?? createLogger({
    level: config.logLevel,
    format: config.logFormat,
    secrets: [config.stash.apiKey, config.plex.token, config.sync.webhookToken, admin.token],
  });
  const access = createAccess({
    token: admin.token, openReads: config.admin.openReads, log,
    sessions: createSessions(store, admin.token, { now: options.sessionClock }),
    throttle: createThrottle(options.signInThrottle),
  });
  const mapper = createSwappableMapper(compilePathRules(config.paths.rules).mapper);
  const ctx = metadataContext(config);
  const metrics = createMetrics();
  const stash = createStashClient({ ...config.stash, observe: metrics.upstream });
  const stashIndex = createFileIndex(stash);

  // The push side exists only when Plex is configured.
  const pushOn = Boolean(config.plex.url);
  const plex = createPlexClient({ ...config.plex, observe: metrics.upstream });
  const queue = createQueue(store, Date.now, { delivered: (ref, queuedAt) => metrics.delivered(queuedAt, Date.now(), ref.instance) });
  // Probing a down Plex follows the retry timings, but never waits more than a minute.
  const breaker = createBreaker(store, {
    threshold: 3,
    probeBaseMs: config.sync.retryBaseSeconds * 1000,
    probeCapMs: Math.min(60_000, config.sync.retryCapSeconds * 1000),
  });
  const plexIndex = createPlexIndex(store, plex);
  let sectionsCache: { at: number; sections: SyncSection[] } | undefined;
  const sections = async () => {
    if (!sectionsCache || Date.now() - sectionsCache.at > SECTIONS_TTL_MS) {
      sectionsCache = { at: Date.now(), sections: resolveSections(await plex.sections(), config) };
    }
    return sectionsCache.sections;
  };
  const autoRules = createAutoRules({
    stashIndex, plexIndex, sections, mapper, log, auto: config.paths.auto && config.paths.rules.length === 0,
  });
  /** The Plex index, then (PATHS_AUTO) rules inferred from it once. */
  const refreshPlexIndex = async () => {
    await plexIndex.refresh(await sections());
    await autoRules.applyIfAsked();
  };
  const editState = createEditState(store);
  const push = createPusher({ config, editState, stash, plex, index: plexIndex, mapper, ctx, sections });
  const worker = createWorker({ config, queue, breaker, plex, push, log, pushed: metrics.pushed });
  const poller = createPoller({
    store, stash, queue, log, onQueued: () => worker.kick(),
    backoffBaseMs: Math.max(1, config.sync.pollSeconds) * 1000,
    backoffCapMs: 300_000,
  });

  const kick = () => void (options.drain !== false && worker.kick());
  const reconciler = createReconciler({ config, store, editState, stash, plex, sections, mapper, ctx, queue, plexIndex, log, onQueued: kick });
  /** A manual run with heal heals every kind that has an action; asking Stash to scan is opt-in. */
  const manualHeal = HEALABLE_KINDS.filter((k) => k !== "unknown-to-stash" || config.reconcile.scanStash);
  const scheduledHeal = (config.reconcile.heal as GapKind[]).filter((k) => k !== "unknown-to-stash" || config.reconcile.scanStash);
  /** The last manual sync, for its progress bar: delivered = how far the queue has drained since. */
  let lastSync: { what: string; total: number; startedAt: number; pendingBefore: number } | undefined;
  const sync = async (scope: SyncScope) => {
    const ids = await scenesToSync(stash, scope);
    const pendingBefore = queue.pending();
    const queued = queue.enqueue(ids.map((id) => ({ ref: sceneRef(DEFAULT_INSTANCE_ID, id) })), `sync: ${describeScope(scope)}`);
    lastSync = { what: `Sync of ${describeScope(scope)}`, total: queued, startedAt: Date.now(), pendingBefore };
    if (queued) kick();
    return queued;
  };
  const syncProgress = () =>
    lastSync ? { ...lastSync, done: Math.max(0, Math.min(lastSync.total, lastSync.total + lastSync.pendingBefore - queue.pending())) } : null;

  /** The title Plex would show for a scene, from the index of Stash scenes (no Stash call). */
  const sceneTitle = (ref: Ref) => {
    // The one file index is the default instance's; another instance's titles come with its own.
    const scene = ref.instance === DEFAULT_INSTANCE_ID ? stashIndex.scene(ref.id) : undefined;
    return scene ? indexedTitle(scene) : null;
  };
  const refreshStashIndex = () =>
    stashIndex.refresh().then(
      (n) => void (n && log.info("stash file index refreshed", { scenes: stashIndex.size, changed: n })),
      (err: Error) => {
        log.warn("stash file index refresh failed; matches use live lookups", { error: err.message });
        throw err;
      },
    );
  /** A poll that Stash did not answer is not a success (the poller itself backs off and logs). */
  const poll = async () => {
    await poller.poll();
    if (poller.failures > 0) throw new Error(`Stash did not answer the last ${poller.failures} poll(s)`);
  };
  const reconcileEvery = Math.round(config.reconcile.everyHours * 3600);
  const scheduler = createScheduler([
    { id: "stash-index", name: "Refresh the index of Stash files", everySeconds: 60, run: refreshStashIndex },
    ...(pushOn
      ? [
          { id: "poll", name: "Poll Stash for changed scenes", everySeconds: config.sync.pollSeconds, run: poll },
          { id: "sweep", name: "Push due jobs to Plex", everySeconds: config.sync.sweepSeconds, run: () => worker.sweep() },
          {
            id: "plex-index", name: "Refresh the index of Plex items", everySeconds: 300,
            run: () => refreshPlexIndex().catch((err: Error) => {
              log.warn("Plex index not refreshed; pushes look items up in Plex meanwhile", { error: err.message });
              throw err;
            }),
          },
          {
            id: "reconcile", name: "Reconcile Stash and Plex (find and heal gaps)", everySeconds: reconcileEvery,
            // A first run shortly after start-up: whatever changed while the service was not running.
            firstAfterSeconds: config.reconcile.afterStartMinutes > 0 ? config.reconcile.afterStartMinutes * 60 : reconcileEvery,
            run: () => reconciler.run({ heal: scheduledHeal, trigger: "schedule" }),
          },
        ]
      : []),
  ], options.schedulerClock);

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
    healable: manualHeal, jobs: () => scheduler.list(), runJob: (id) => scheduler.trigger(id), mapper,
    match: { stash, index: stashIndex, mapper, ctx, matchOnly: config.provider.matchOnly },
    suggest: pushOn ? autoRules.suggest : undefined, checks, sync: pushOn ? sync : undefined, syncProgress,
  });

  /** Set once the database is closed at stop. */
  let closed = false;
  const pmsIdentity = createPmsIdentity(() => plex.identity());
  const http = new Elysia()
    .use(httpBasics(log, metrics.request))
    .use(adminGuard({ access, publicUrl: config.publicUrl, log }))
    .use(dashboard)
    .use(metricsRoute(metrics))
    .use(healthRoutes(ready, access.isAdmin))
    .use(providerRoutes({
      stash, index: stashIndex, mapper, ctx, title: config.provider.title, log, matchOnly: config.provider.matchOnly,
      // PMS fetching a scene we refreshed is the proof the push landed.
      // (An answer still going out while we stop has no database left to confirm in.)
      // Only a fetch by the PMS we push to counts (pms-identity.ts): not curl, a monitor or a browser.
      onServed: (ref, client) => {
        const confirm = () => {
          // "next": the scene's next Plex item is due; "changed": the scene changed since the push.
          if (closed) return;
          try {
            const result = queue.confirmPull(ref);
            if (result === "next" || result === "changed") worker.kick();
          } catch (err) {
            // Not confirmed: the push is retried after its deadline. Never worth the process.
            log.error("could not record that Plex fetched a scene", { scene: refKey(ref), error: (err as Error).message });
          }
        };
        if (!pushOn || !client) return;
        if (client === pmsIdentity.machineIdentifier) confirm();
        else void pmsIdentity.isOurs(client).then((ours) => ours && confirm());
      },
    }))
    // Without Plex there is nothing to push to: the webhook stays off rather than queue in vain.
    .use(webhookRoutes({ token: pushOn ? config.sync.webhookToken : "", stash, queue, onQueued: () => worker.kick() }))
    .use(statusRoutes({
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
    }))
    .use(pathRoutes({ access, suggest: pushOn ? autoRules.suggest : undefined }))
    .use(reconcileRoutes({ access, reconciler: pushOn ? reconciler : undefined, healable: manualHeal, sync: pushOn ? sync : undefined }))
    .use(scheduler.plugin);

  let server: ReturnType<typeof Bun.serve> | undefined;

  return {
    config, log, store, stash, plex, queue, breaker, worker, poller, plexIndex, mapper, http, scheduler,
    stashIndex, autoRules, reconciler, sync, manualHeal, access, metrics,
    /** Where the admin token came from; `generated`: made on this start (the banner shows it once). */
    admin: { generated: admin.generated, file: admin.file, token: admin.token },
    get url() {
      return server ? `http://${server.hostname}:${server.port}` : undefined;
    },
    async start(port = config.listen.port, hostname = config.listen.host) {
      const recovered = queue.recover();
      if (recovered) log.info("resuming pushes that were under way when the service stopped", { jobs: recovered });
      // Bookmark where Stash is now; if Stash is not reachable yet, the first poll does it.
      if (pushOn) await poller.initialise().catch((err: Error) => log.warn("Stash not reachable yet; polling starts when it is", { error: err.message }));
      server = Bun.serve({ ...serverOptions(log), port, hostname, fetch: (req, srv) => http.handle(noteClient(req, srv)), idleTimeout: 120 });
      scheduler.start();
      // Both indexes at once (the schedule goes on from these runs): know the Plex library before
      // the first push needs it; a down Plex just means later.
      scheduler.trigger("stash-index");
      if (pushOn) {
        scheduler.trigger("plex-index");
        worker.kick();
      }
      return this;
    },
    /** What the start-up banner says about Plex. */
    async startupReport(): Promise<string[]> {
      if (!pushOn) return ["push is off: set PLEX_URL and PLEX_TOKEN to push Stash changes to Plex"];
      try {
        const id = await plex.identity();
        const synced: PlexSection[] = await sections();
        return [`Plex reachable (PMS ${id.version}); syncing ${synced.map((s) => `"${s.title}" (${(s as SyncSection).strategy})`).join(", ") || "no section"}`];
      } catch (err) {
        return [`Plex not reachable now (${(err as Error).message}); changes wait in the queue until it is`];
      }
    },
    async stop() {
      scheduler.stop(http);
      await server?.stop();
      await worker.stop();
      server = undefined;
      closed = true;
      store.close();
    },
  };
}
export type App = ReturnType<typeof createApp>;
