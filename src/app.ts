/**
 * The composition root: builds the shared parts once (store, log, access, metrics, the Plex
 * client, the queue, the Plex index, the scheduler) and joins the sides. Each side is a named
 * plugin in its own folder that owns its routes and its jobs: provider/plugin.ts (what PMS
 * calls), sync/plugin.ts (push: Stash changes to Plex), gaps/plugin.ts (reconcile and heal) and
 * admin/plugin.ts (dashboard, status, metrics, health). The provider and push sides take ONE
 * Stash instance's parts (client, file index, path rules, identifier). Nothing else constructs
 * clients or opens the database, so what talks to what is readable here.
 */
import { Elysia } from "elysia";
import type { Config } from "./config/schema.ts";
import { createLogger, type Logger } from "./log.ts";
import { createSwappableMapper } from "./paths/mapper.ts";
import { createPlexClient, type PlexSection } from "./plex/client.ts";
import { DATABASE_FILE, openStore } from "./store/db.ts";
import { databaseCheckJob, problemKindOf } from "./store/health.ts";
import { createBackups } from "./store/backups.ts";
import { fixMatchByIdentity } from "./sync/identity-binding.ts";
import { httpBasics, noteClient, serverOptions } from "./http.ts";
import { createAccess, resolveAdminToken } from "./admin/access.ts";
import { adminGuard } from "./admin/guard.ts";
import { providerRequestsPlugin } from "./admin/probe.ts";
import { createThrottle, type ThrottleOptions } from "./admin/throttle.ts";
import { createSessions } from "./store/sessions.ts";
import { createQueue } from "./sync/queue.ts";
import { createPlexIndex } from "./sync/plex-index.ts";
import { resolveSections, type SyncSection } from "./sync/push.ts";
import { createPmsIdentity } from "./sync/pms-identity.ts";
import { createScheduler } from "./jobs.ts";
import { collectionsSide } from "./collections/side.ts";
import { createPlexCollections } from "./plex/collections.ts";
import { createMetrics } from "./metrics.ts";
import { createInstanceProvider, providerSide } from "./provider/plugin.ts";
import { instanceParts } from "./provider/instance.ts";
import { instancesOf } from "./config/instances.ts";
import { pushIsOn, pushSide, type PushSide } from "./sync/plugin.ts";
import { gapsSide } from "./gaps/plugin.ts";
import { adminSide } from "./admin/plugin.ts";
import { writebackSide } from "./writeback/plugin.ts";
import { DEFAULT_INSTANCE_ID, tvIdentifierOf } from "./domain/ref.ts";
import { tvProviderSide } from "./provider/plugin.ts";
import { checkTvFolders, tvLibrariesOf } from "./tv/libraries.ts";
import { createTvLibraries, tvJobs } from "./sync/tv-libraries.ts";

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

const SECTIONS_TTL_MS = 60_000;

export function createApp(config: Config, options: AppOptions = {}) {
  const admin = resolveAdminToken(config.admin.token, config.dataDir);
  const log =
    options.log ??
    createLogger({
      level: config.logLevel,
      format: config.logFormat,
      secrets: [
        ...instancesOf(config).map((i) => i.stash.apiKey),
        config.plex.token,
        config.sync.webhookToken,
        config.writeback.webhookToken,
        config.admin.readToken,
        admin.token,
      ],
    });
  // The service's own run notes a clean stop; a command beside it (reconcile, sync) does not.
  const store = openStore(config.dataDir, DATABASE_FILE, log, options.drain !== false);
  const access = createAccess({
    token: admin.token,
    readToken: config.admin.readToken,
    openReads: config.admin.openReads,
    log,
    sessions: createSessions(store, admin.token, {
      now: options.sessionClock,
      idleMs: config.admin.sessionIdleHours * 3_600_000,
    }),
    throttle: createThrottle(options.signInThrottle),
  });
  const metrics = createMetrics();

  // Plex's side, shared by every Stash instance. The push side exists only when Plex is configured.
  const pushOn = pushIsOn(config);
  const plex = createPlexClient({ ...config.plex, observe: metrics.upstream });
  const queue = createQueue(store, Date.now, {
    delivered: (ref, queuedAt) => metrics.delivered(queuedAt, Date.now(), ref.instance),
  });
  const plexIndex = createPlexIndex(store, plex);
  let sectionsCache: { at: number; sections: SyncSection[] } | undefined;
  const sections = async () => {
    if (!sectionsCache || Date.now() - sectionsCache.at > SECTIONS_TTL_MS) {
      sectionsCache = { at: Date.now(), sections: resolveSections(await plex.sections(), config) };
    }
    return sectionsCache.sections;
  };
  const pmsIdentity = createPmsIdentity(() => plex.identity());

  // The default Stash instance's own parts (client, file index, path rules, identifier), built
  // like every other instance's; its rules are swappable (PATHS_AUTO replaces the configured none).
  const [defaultInstance] = instancesOf(config);
  const defaultParts = instanceParts(config, defaultInstance!, metrics.upstreamOf(DEFAULT_INSTANCE_ID));
  const { stash, index: stashIndex } = defaultParts;
  const instance = {
    stash,
    index: stashIndex,
    mapper: createSwappableMapper(defaultParts.mapper),
    ctx: defaultParts.ctx,
  };

  // Every further Stash instance's push loop and reconcile use its own parts (client, rules, identifier);
  // its provider (built below) confirms pushes through this, bound once the push side exists.
  // PMS's answer never waits on the database: a confirmation that cannot be stored (a full disk)
  // is reported by the database's health, and the push is confirmed by reading it back instead.
  const onServed: NonNullable<PushSide["onServed"]> = (ref, caller) => {
    try {
      push.onServed(ref, caller);
    } catch (err) {
      if (!problemKindOf(err)) throw err;
    }
  };
  const provider = providerSide({
    ...defaultParts,
    ...instance,
    log,
    onServed,
    byIdentity: fixMatchByIdentity(plexIndex, instance),
  });
  // Every further Stash instance: its own provider (own client, index, rules, identifier) below
  // /instances/<id>. Pushes confirm by the reference each provider names (its own instance).
  const others = instancesOf(config)
    .slice(1)
    .map((instance) =>
      createInstanceProvider(config, instance, { log, observe: metrics.upstreamOf(instance.id), onServed }),
    );
  // TV-style libraries (tv.libraries): per instance that has any, its catalog and episode folders,
  // served by its TV provider (<instance path>/tv) and kept current by its push loop.
  const tvLibraries = tvLibrariesOf(config);
  const tvParts = [
    { id: DEFAULT_INSTANCE_ID, ...instance, ctx: defaultParts.ctx, title: defaultInstance!.provider.title, path: "" },
    ...others.map((o) => ({ ...o, id: o.instance.id, title: o.instance.provider.title, path: o.instance.path })),
  ].flatMap((part) => {
    const own = tvLibraries.filter((l) => l.instance === part.id);
    if (!own.length) return [];
    const libraries = createTvLibraries({
      db: store.db,
      instance: part.id,
      libraries: own,
      stash: part.stash,
      mapper: part.mapper,
      ...(pushOn ? { plex, sections, index: plexIndex } : {}),
      tvIdentifier: tvIdentifierOf(part.ctx.identifier),
      ctx: part.ctx,
      meta: store.meta,
      log,
    });
    const side = tvProviderSide({
      stash: part.stash,
      index: part.index,
      ctx: part.ctx,
      title: part.title,
      catalog: libraries.catalog,
      log,
      mount: { id: part.id, path: part.path },
      onServed,
    });
    return [{ ...libraries, stash: part.stash, plugin: side.plugin }];
  });
  const tvPortsOf = (id: string) => tvParts.find((t) => t.instance === id)?.ports;
  const otherParts = others.map((o) => ({
    id: o.instance.id,
    stash: o.stash,
    mapper: o.mapper,
    ctx: o.ctx,
    tv: tvPortsOf(o.instance.id),
    index: o.index,
  }));
  // Collections (issue 28): per instance whose collections are on, kept exact through PMS's API.
  const allInstances = instancesOf(config);
  const collections = collectionsSide({
    store,
    log,
    plex,
    collections: createPlexCollections({ ...config.plex, observe: metrics.upstream }),
    plexIndex,
    instances: [
      {
        id: DEFAULT_INSTANCE_ID,
        stash,
        mapper: instance.mapper,
        ctx: defaultParts.ctx,
        collections: defaultInstance!.collections,
      },
      ...otherParts.map((o) => ({ ...o, collections: allInstances.find((i) => i.id === o.id)!.collections })),
    ],
    artworkOf: (id) => push.artworkOf(id),
    on: pushOn,
  });
  const push: PushSide = pushSide({
    config,
    store,
    log,
    metrics,
    queue,
    plex,
    plexIndex,
    sections,
    pmsIdentity,
    ...instance,
    others: otherParts,
    tv: tvPortsOf(DEFAULT_INSTANCE_ID),
    drain: options.drain,
    collectionsOf: (id) => collections.keeperOf(id),
  });
  const gaps = gapsSide({
    config,
    store,
    log,
    access,
    plex,
    plexIndex,
    sections,
    ...instance,
    others: otherParts.map((o) => ({ ...o, artwork: push.artworkOf(o.id), collections: collections.keeperOf(o.id) })),
    tv: tvPortsOf(DEFAULT_INSTANCE_ID),
    artwork: push.artworkOf(DEFAULT_INSTANCE_ID),
    collections: collections.keeperOf(DEFAULT_INSTANCE_ID),
    queue,
    editState: push.editState,
    sync: push.sync,
    onQueued: push.kick,
    pushOn,
  });
  // Plex → Stash (issue 21): what is watched and rated in Plex, written to each scene's Stash.
  const writeback = writebackSide({
    config,
    store,
    log,
    instances: instancesOf(config).map((i) => ({ id: i.id, identifier: i.provider.identifier })),
    stashOf: (id) => (id === DEFAULT_INSTANCE_ID ? stash : others.find((o) => o.instance.id === id)?.stash),
    ratings: push.editState,
    drain: options.drain,
    received: (e) => metrics.writeback.received(e.ref.instance, e.source, e.kind),
    observe: (e, outcome) => {
      const instance = e.ref.instance;
      if (outcome.status === "done") metrics.writeback.applied(instance, e.kind, outcome.wrote);
      else if (outcome.status === "ignored") metrics.writeback.ignored(instance, outcome.reason);
      else metrics.writeback.failed(instance, outcome.status);
    },
  });
  // Each instance's TV libraries: a full pass at start-up and every hour (a down Stash delays it).
  const tvSync = tvJobs(tvParts, (id) => scheduler.trigger(id), log);
  // The database's backups: daily by default, on demand (dashboard, API, CLI), before each migration (db.ts).
  const backups = createBackups({ store, dataDir: config.dataDir, log, now: options.schedulerClock, ...config.backup });
  // THE list of scheduled jobs (jobs.ts): each side contributes its own.
  const scheduler = createScheduler(
    [
      ...tvSync.jobs,
      ...provider.jobs,
      ...others.map((o) => o.job),
      ...push.jobs,
      ...collections.jobs,
      ...gaps.jobs,
      ...writeback.jobs,
      ...backups.jobs,
      databaseCheckJob(store),
    ],
    options.schedulerClock,
  );
  const adminPart = adminSide({
    config,
    store,
    log,
    access,
    metrics,
    scheduler,
    backups,
    queue,
    plex,
    plexIndex,
    ...instance,
    matchOnly: config.provider.matchOnly,
    push,
    gaps,
    others,
    tv: tvParts.flatMap((t) => t.views()),
    collections: collections.on ? () => collections.state.all() : undefined,
    writeback: writeback.enabled
      ? {
          events: writeback.events,
          state: writeback.state,
          webhookUrl: config.writeback.webhookToken
            ? `${config.publicUrl.replace(/\/+$/, "")}/hooks/plex?token=<token>`
            : undefined,
        }
      : undefined,
  });

  const http = new Elysia()
    .use(httpBasics(log, metrics.request, adminPart.errorPage))
    // What PMS asked the providers lately, for `stash2plex probe` (before every route, to see them all).
    .use(providerRequestsPlugin({ access, redact: log.redact }))
    .use(adminGuard({ access, publicUrl: config.publicUrl, log }))
    .use(adminPart.plugin)
    .use(provider.plugin)
    .use(push.plugin)
    .use(gaps.plugin)
    .use(writeback.plugin)
    .use(scheduler.plugin);
  for (const other of others) http.use(other.routes);
  for (const tv of tvParts) http.use(tv.plugin);

  let server: ReturnType<typeof Bun.serve> | undefined;
  const { breaker, worker, poller, autoRules, sync } = push;
  const { reconciler, manualHeal } = gaps;

  return {
    config,
    log,
    store,
    stash,
    plex,
    queue,
    breaker,
    worker,
    poller,
    plexIndex,
    /** The Plex index job's run: the index brought up to date, then artwork for the items newly bound to our scenes. */
    refreshPlexIndex: push.refreshPlexIndex,
    /** Each instance's collection keeper (collections/side.ts), and what it keeps. */
    collections,
    mapper: instance.mapper,
    http,
    scheduler,
    /** The database's backups (store/backups.ts). */
    backups,
    stashIndex,
    autoRules,
    reconciler,
    sync,
    manualHeal,
    access,
    metrics,
    /** The providers of the Stash instances after the first (each its client, index and routes). */
    instanceProviders: others,
    /**
     * Each Stash instance's push loop, the default's first: { instance, breaker, poller, worker },
     * each with its own state (breaker and outages, watermark, queue drain). `breaker`, `poller`
     * and `worker` above are the default's.
     */
    instanceLoops: push.loops,
    /** Plex → Stash: the event queue, its worker, the notification stream and the catch-up. */
    writeback,
    /** Where the admin token came from; `generated`: made on this start (the banner shows it once). */
    admin: { generated: admin.generated, file: admin.file, token: admin.token },
    get url() {
      return server ? `http://${server.hostname}:${server.port}` : undefined;
    },
    async start(port = config.listen.port, hostname = config.listen.host) {
      const recovered = queue.recover();
      if (recovered) log.info("resuming pushes that were under way when the service stopped", { jobs: recovered });
      // Listening first: Plex's matches (answered from the index on disk) need nothing below, and
      // must not wait for Stash to answer the poller's first question or the TV folders' check.
      server = Bun.serve({
        ...serverOptions(log),
        port,
        hostname,
        fetch: (req, srv) => http.handle(noteClient(req, srv)),
        idleTimeout: 120,
      });
      try {
        await push.start();
        // An episode folder inside a Stash library folder: Stash would scan the links as new scenes.
        if (tvLibraries.length) {
          const stashOf = (id: string) => tvParts.find((t) => t.instance === id)!.stash;
          const { problems } = await checkTvFolders(tvLibraries, (id) => stashOf(id).libraryPaths());
          if (problems.length) throw new Error(problems.join("; "));
        }
      } catch (err) {
        server.stop(true);
        server = undefined;
        throw err;
      }
      scheduler.start();
      for (const job of tvSync.jobs) scheduler.trigger(job.id);
      // Both indexes at once (the schedule goes on from these runs): know the Plex library before
      // the first push needs it; a down Plex just means later.
      scheduler.trigger("stash-index");
      for (const other of others) scheduler.trigger(other.job.id);
      if (pushOn) {
        scheduler.trigger("plex-index");
        push.kick(); // every instance's worker
      }
      writeback.start();
      return this;
    },
    /** What the start-up banner says about Plex. */
    async startupReport(): Promise<string[]> {
      if (!pushOn) return ["push is off: set PLEX_URL and PLEX_TOKEN to push Stash changes to Plex"];
      try {
        const id = await plex.identity();
        const synced: PlexSection[] = await sections();
        return [
          `Plex reachable (PMS ${id.version}); syncing ${synced.map((s) => `"${s.title}" (${(s as SyncSection).strategy})`).join(", ") || "no section"}`,
        ];
      } catch (err) {
        return [`Plex not reachable now (${(err as Error).message}); changes wait in the queue until it is`];
      }
    },
    async stop() {
      scheduler.stop(http);
      tvSync.stop();
      await server?.stop();
      await push.stop();
      await writeback.stop();
      server = undefined;
      store.close();
      stashIndex.close();
      for (const other of others) other.index.close();
    },
  };
}
export type App = ReturnType<typeof createApp>;
