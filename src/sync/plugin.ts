/**
 * The push side: the pollers and the webhook that queue Stash changes, the workers that push
 * them to Plex behind breakers, the proof that a push landed (PMS fetching the scene), a manual
 * sync, path rules inferred from both indexes, and the jobs that drive them.
 *
 * One loop per Stash instance, each with its own state (Overseerr's per-server loops): its
 * poller and watermark, its worker draining only its own jobs, its breaker and outages, and a
 * pusher built on its Stash client, path rules and identifier over its own Plex sections. A
 * Stash that is down opens its own breaker only: the other instances' pushes go on. The queue,
 * the Plex client and the Plex index are shared by every instance.
 */
import { Elysia } from "elysia";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import type { PathMapper } from "../paths/mapper.ts";
import { createAutoRules } from "../paths/auto.ts";
import type { PlexClient } from "../plex/client.ts";
import type { MetadataContext } from "../provider/metadata.ts";
import type { ProviderDeps } from "../provider/routes.ts";
import type { StashClient } from "../stash/client.ts";
import type { FileIndex } from "../stash/file-index.ts";
import type { Store } from "../store/db.ts";
import { webhookRoutes } from "../admin/webhook.ts";
import { HttpError } from "../http.ts";
import type { Job } from "../jobs.ts";
import { DEFAULT_INSTANCE_ID, refFromGuid, refKey, sceneIdOf, sceneRef, tvIdentifierOf } from "../domain/ref.ts";
import { sceneToMetadata } from "../provider/metadata.ts";
import { createTvPusher, type TvLibraryPort } from "./tv-push.ts";
import { createBreaker, type Breaker } from "./breaker.ts";
import { createEditState } from "./edit-state.ts";
import type { PlexIndex } from "./plex-index.ts";
import { createIdentityBinder } from "./identity-binding.ts";
import { createIdentityState } from "./identity-state.ts";
import type { PmsIdentity } from "./pms-identity.ts";
import { createPoller, type Poller } from "./poller.ts";
import { createPusher, isTvSection, type Outcome, type SceneCollections, type SyncSection } from "./push.ts";
import { refOf, type JobScope, type Queue } from "./queue.ts";
import { describeScope, scenesToSync, type SyncScope } from "./select.ts";
import { createWorker, type Worker } from "./worker.ts";
import { createArtworkKeeper } from "./artwork.ts";
import { createArtworkState } from "./artwork-state.ts";
import { readBackDiffers } from "./read-back.ts";
import { pace } from "../pace.ts";
import type { Ref } from "../domain/ref.ts";

/** A job of an instance the config no longer lists: nothing can push it; a dead letter says why (retry it once configured). */
const unconfigured = (ref: Ref): Outcome => ({
  ok: false,
  kind: "permanent",
  plexFailed: false,
  error: `Stash instance "${ref.instance}" is not configured: nothing to push its scene from (add it to the stash list, then retry)`,
});

export interface PushSideDeps {
  config: Config;
  store: Store;
  log: Logger;
  metrics: Metrics;
  /** Shared by every instance: the durable queue, the Plex client, its index and synced sections. */
  queue: Queue;
  plex: PlexClient;
  plexIndex: PlexIndex;
  sections: () => Promise<SyncSection[]>;
  /** Which PMS we push to (only its fetches confirm a push). */
  pmsIdentity: PmsIdentity;
  /** The default instance's own parts. */
  stash: StashClient;
  index: FileIndex;
  /** Swappable: rules inferred from both indexes (PATHS_AUTO) replace the configured none. */
  mapper: PathMapper & { use(next: PathMapper): void };
  ctx: MetadataContext;
  /** Every further Stash instance's parts (each gets its own loop). */
  others?: PushInstance[];
  /** The default instance's TV libraries. */
  tv?: TvLibraryPort[];
  /** false for one-shot commands: what they queue is left to the running service's worker. */
  drain?: boolean;
  /** Each instance's collection keeper, if its collections are on (built after the push side). */
  collectionsOf?: (instance: string) => SceneCollections | undefined;
}

/** What the push needs of one Stash instance. */
export interface PushInstance {
  id: string;
  stash: StashClient;
  mapper: PathMapper;
  ctx: MetadataContext;
  /** Its TV libraries (tv.libraries naming it): each scene's push keeps its links and episodes current. */
  tv?: TvLibraryPort[];
  /** Its index of Stash's files (a Plex file whose name tells nothing is found by size in it). */
  index?: Pick<FileIndex, "sceneIdByPath" | "filesBySize">;
}

/** One instance's loop and its state, for the operator surface (status, dashboard). */
export interface InstanceLoop {
  instance: string;
  breaker: Breaker;
  poller: Poller;
  worker: Worker;
}

/** The scheduled poll of an instance: the default's keeps the id `poll` (its metrics and tests). */
export const pollJobId = (instance: string) => (instance === DEFAULT_INSTANCE_ID ? "poll" : `poll-${instance}`);

/** Whether there is a Plex to push to. */
export const pushIsOn = (config: Config) => Boolean(config.plex.url);

export function pushSide(deps: PushSideDeps) {
  const { config, store, log, metrics, queue, plex, plexIndex, sections, pmsIdentity, stash, mapper } = deps;
  const pushOn = pushIsOn(config);
  const editState = createEditState(store);
  const artworkState = createArtworkState(store);
  const parts: PushInstance[] = [
    { id: DEFAULT_INSTANCE_ID, stash, mapper, ctx: deps.ctx, tv: deps.tv, index: deps.index },
    ...(deps.others ?? []),
  ];
  const otherIds = parts.slice(1).map((p) => p.id);

  /** Each instance's artwork keeper (its own Stash's images), shared by its pushes and the reconcile. */
  const keepers = new Map(
    parts.map((p) => [p.id, createArtworkKeeper({ plex, state: artworkState, stash: p.stash })] as const),
  );
  const artworkOf = (instance: string) => keepers.get(instance) ?? keepers.get(DEFAULT_INSTANCE_ID)!;

  /** The awaited items (one instance's) that Plex shows as we serve them: their jobs' ref keys. */
  async function readBack(part: PushInstance, awaiting: { ref: Ref; ratingKey: string }[]): Promise<Set<string>> {
    const shown = new Set<string>();
    const items = new Map<string, Record<string, unknown>>();
    for (let i = 0; i < awaiting.length; i += 50)
      for (const item of await plex.items(awaiting.slice(i, i + 50).map((a) => a.ratingKey)))
        items.set(String(item.ratingKey), item);
    for (const { ref, ratingKey } of awaiting) {
      const item = items.get(ratingKey);
      const scene = item && ref.kind === "scene" ? await part.stash.sceneById(ref.id) : undefined;
      if (scene && readBackDiffers(sceneToMetadata(scene, part.ctx), item!).length === 0) shown.add(refKey(ref));
    }
    return shown;
  }

  /** One instance's loop: its breaker, pusher (its sections only), worker (its jobs only) and poller. */
  function loopOf(part: PushInstance): InstanceLoop {
    const isDefault = part.id === DEFAULT_INSTANCE_ID;
    // Probing a down Plex (or Stash) follows the retry timings, but never waits more than a minute.
    const breaker = createBreaker(store, {
      threshold: 3,
      probeBaseMs: config.sync.retryBaseSeconds * 1000,
      probeCapMs: Math.min(60_000, config.sync.retryCapSeconds * 1000),
      instance: part.id,
    });
    const own = async () => (await sections()).filter((s) => s.instance === part.id);
    const push = createPusher({
      config,
      editState,
      stash: part.stash,
      plex,
      index: plexIndex,
      mapper: part.mapper,
      ctx: part.ctx,
      sections: own,
      instance: part.id,
      artwork: artworkOf(part.id),
      collections: () => deps.collectionsOf?.(part.id),
      tv: part.tv?.length
        ? createTvPusher({
            instance: part.id,
            tvIdentifier: tvIdentifierOf(part.ctx.identifier),
            libraries: part.tv,
            plex,
            index: plexIndex,
            mapper: part.mapper,
            scanWindowMs: config.sync.retryCapSeconds * 1000,
          })
        : undefined,
    });
    // The default's worker also takes jobs of an instance no longer configured: its pusher buries them, naming it.
    const scope: JobScope = isDefault ? (otherIds.length ? { except: otherIds } : undefined) : { instance: part.id };
    const worker = createWorker({
      config,
      queue,
      breaker,
      plex,
      log,
      pushed: metrics.pushed,
      scope,
      instance: part.id,
      push: (ref, done, doneAt) =>
        isDefault && ref.instance !== DEFAULT_INSTANCE_ID
          ? Promise.resolve(unconfigured(ref))
          : push(ref, done, doneAt),
      readBack: (awaiting) => readBack(part, awaiting),
      awaitingKind: (ratingKey, kind, shared) => {
        awaitedKinds.set(ratingKey, kind);
        if (awaitedKinds.size > 10_000) awaitedKinds.delete(awaitedKinds.keys().next().value!);
        if (!shared) sharedAwaited.delete(ratingKey);
        else if (sharedAwaited.add(ratingKey).size > 10_000) sharedAwaited.delete(sharedAwaited.values().next().value!);
      },
      fetchedDuringClaim: (job, ratingKey) => {
        const kind = kindOfItem(refOf(job), ratingKey);
        const at = servedAt.get(job.ref);
        const last = kind ? at?.[kind] : Math.max(at?.scene ?? -1, at?.episode ?? -1);
        // Strictly after: a fetch in the claim's own millisecond may be the previous item's (its
        // confirmation claims the next item at once); not counting it leaves the read-back to confirm.
        return last !== undefined && last >= 0 && job.claimed_at != null && last > job.claimed_at;
      },
      // Pushes resume when both ends answer: Plex and this instance's Stash. Then polling resumes
      // at once too, instead of waiting out its backoff (what changed meanwhile arrives now).
      probe: async () => {
        await plex.identity();
        await part.stash.version();
      },
      recovered: () => poller.retryNow(),
    });
    const poller = createPoller({
      store,
      stash: part.stash,
      queue,
      log,
      instance: part.id,
      onQueued: () => worker.kick(),
      backoffBaseMs: Math.max(1, config.sync.pollSeconds) * 1000,
      // A down Stash is asked again at least every 30 s: one failed request, and its changes
      // arrive soon after it is back even when no push is waiting to probe it.
      backoffCapMs: 30_000,
    });
    return { instance: part.id, breaker, worker, poller };
  }
  const loops = parts.map(loopOf);
  const { breaker, worker, poller } = loops[0]!;
  const loopFor = (instance: string) => loops.find((l) => l.instance === instance) ?? loops[0]!;
  const autoRules = createAutoRules({
    stashIndex: deps.index,
    plexIndex,
    // The episode folders' links are ours, not files to infer rules from.
    sections: async () => (await sections()).filter((s) => !isTvSection(s)),
    mapper,
    log,
    auto: config.paths.auto && config.paths.rules.length === 0,
  });
  /** The Plex index, then (PATHS_AUTO) rules inferred from it once. */
  const identityState = createIdentityState(store);
  const bindByIdentity = createIdentityBinder({
    plex,
    plexIndex,
    state: identityState,
    log,
    push: (ref, why) => {
      queue.enqueue([{ ref }], why);
      kick();
    },
  });
  const refreshPlexIndex = async () => {
    const synced = await sections();
    await plexIndex.refresh(synced);
    await autoRules.applyIfAsked();
    // Copies whose names tell nothing: bound by size, duration or fingerprint (identity.ts).
    const ambiguous = new Set<string>();
    for (const part of parts)
      if (part.index) {
        const found = await bindByIdentity(
          { id: part.id, identifier: part.ctx.identifier, mapper: part.mapper, index: part.index },
          synced,
        );
        for (const key of found.ambiguousKeys) ambiguous.add(key);
      }
    identityState.keepAmbiguous(ambiguous);
    await artworkForNewItems();
  };
  /**
   * Items a scan bound to our scenes (movies and episodes) get their artwork as soon as the index
   * shows them. A page of items at a time, each page's records read in one query (firstSeen): every
   * 5 minutes at 200,000 items, all of them and every record in memory at once cost tens of MB.
   */
  async function artworkForNewItems() {
    for (const part of parts) {
      const schemes = [`${part.ctx.identifier}://movie/`, `${tvIdentifierOf(part.ctx.identifier)}://episode/`];
      const ours = [
        { id: part.id, identifier: part.ctx.identifier, tvIdentifier: tvIdentifierOf(part.ctx.identifier) },
      ];
      for (const prefix of schemes)
        for (const page of plexIndex.withGuidPrefix(prefix)) {
          const items = page.flatMap((i) => {
            const ref = refFromGuid(i.guid, ours);
            const sceneId = ref ? sceneIdOf(ref) : null;
            return sceneId ? [{ ratingKey: i.ratingKey, sceneId }] : [];
          });
          if (items.length) await artworkOf(part.id).firstSeen(items);
          await pace();
        }
    }
  }
  const kick = () => void (deps.drain !== false && loops.forEach((l) => l.worker.kick()));

  /** The last manual sync, for its progress bar: delivered = how far the queue has drained since. */
  let lastSync: { what: string; total: number; startedAt: number; pendingBefore: number } | undefined;
  /** A manual sync of one instance's scenes (absent: the default's), read from its own Stash. */
  const sync = async (scope: SyncScope, instance: string = DEFAULT_INSTANCE_ID): Promise<number> => {
    const part = parts.find((p) => p.id === instance);
    if (!part)
      throw new HttpError(
        400,
        "unknown_instance",
        `instance: no Stash instance has the id "${instance}" (known: ${parts.map((p) => p.id).join(", ")})`,
      );
    const ids = await scenesToSync(part.stash, scope);
    const pendingBefore = queue.pending();
    const queued = queue.enqueue(
      ids.map((id) => ({ ref: sceneRef(instance, id) })),
      `sync: ${describeScope(scope)}`,
    );
    const what = `Sync of ${describeScope(scope)}${instance === DEFAULT_INSTANCE_ID ? "" : ` of Stash "${instance}"`}`;
    lastSync = { what, total: queued, startedAt: Date.now(), pendingBefore };
    if (queued) kick();
    return queued;
  };
  const syncProgress = () =>
    lastSync
      ? {
          ...lastSync,
          done: Math.max(0, Math.min(lastSync.total, lastSync.total + lastSync.pendingBefore - queue.pending())),
        }
      : null;

  /** Set at stop: an answer still going out then has no database left to confirm in. */
  let closed = false;
  /** An item's kind by its GUID: a movie of the instance's provider, an episode of its TV provider, or not known. */
  function kindOfItem(ref: Ref, ratingKey: string): "scene" | "episode" | undefined {
    const pushed = awaitedKinds.get(ratingKey);
    if (pushed) return pushed;
    const item = plexIndex.item(ratingKey);
    const part = parts.find((p) => p.id === ref.instance);
    if (!item || !part) return undefined;
    if (item.guid.startsWith(`${tvIdentifierOf(part.ctx.identifier)}://`)) return "episode";
    if (item.guid.startsWith(`${part.ctx.identifier}://movie/`)) return "scene";
    return undefined;
  }
  /**
   * Whether a fetch by one provider can be the one the scene's job awaits: the movie provider's
   * confirms a movie item, the TV provider's an episode. A scene in a movie and a TV library is
   * one job with both items, pushed one at a time; the episode's fetch must not confirm a movie
   * refresh PMS accepted and never fetched (found by the chaos soak: the movie kept old fields).
   */
  const fetchFits = (ref: Ref, served: Ref) => {
    const awaited = queue.job(ref)?.pushed_rating_keys;
    const kind = awaited ? kindOfItem(ref, awaited) : undefined;
    return kind === undefined || kind === served.kind; // not known as either: as before, any fetch of the scene
  };
  /**
   * When our PMS last fetched each scene from each provider (movie, episode): a fetch may come
   * before the refresh call returns, and only a fetch of the refreshed item's kind confirms it.
   * In memory: it matters within one push.
   */
  const servedAt = new Map<string, { scene?: number; episode?: number }>();
  /** What each awaited item is, as its push said (an episode PMS has not bound yet has no GUID of ours to tell). */
  const awaitedKinds = new Map<string, "scene" | "episode">();
  /** Awaited items PMS fetches from the same URL as their scene's other items: a fetch cannot say it was theirs. */
  const sharedAwaited = new Set<string>();
  /**
   * PMS fetching a scene we refreshed is the proof the push landed. Only a fetch by the PMS we
   * push to counts (pms-identity.ts): not curl, a monitor or a browser.
   */
  const onServed: NonNullable<ProviderDeps["onServed"]> = (served, caller) => {
    // An episode is its scene's job item (the queue is keyed by the scene); shows and seasons confirm nothing.
    const sceneId = sceneIdOf(served);
    if (sceneId === null) return;
    const ref = sceneRef(served.instance, sceneId);
    const confirm = () => {
      // "next": the scene's next Plex item is due; "changed": the scene changed since the push.
      if (closed) return;
      const key = refKey(ref);
      const at = servedAt.get(key) ?? {};
      if (served.kind === "scene" || served.kind === "episode") at[served.kind] = Date.now();
      servedAt.delete(key); // most recent last: the oldest are dropped first
      servedAt.set(key, at);
      if (servedAt.size > 10_000) servedAt.delete(servedAt.keys().next().value!);
      if (!fetchFits(ref, served)) return;
      // It may be a late fetch of another of the scene's items: the awaited one is read back instead.
      const awaited = queue.job(ref)?.pushed_rating_keys;
      if (awaited && sharedAwaited.has(awaited)) return void loopFor(ref.instance).worker.fetchSeen(ref);
      try {
        const result = queue.confirmPull(ref);
        if (result === "next" || result === "changed") loopFor(ref.instance).worker.kick();
      } catch (err) {
        // Not confirmed: the push is retried after its deadline. Never worth the process.
        log.error("could not record that Plex fetched a scene", {
          scene: ref.id,
          instance: ref.instance,
          error: (err as Error).message,
        });
      }
    };
    if (!pushOn) return;
    const clear = pmsIdentity.knownOurs(caller);
    if (clear !== undefined) return void (clear && confirm());
    void pmsIdentity.isOurs(caller).then((ours) => ours && confirm());
  };

  /** A poll that Stash did not answer is not a success (the poller itself backs off and logs). */
  const pollOf = (loop: InstanceLoop) => async () => {
    await loop.poller.poll();
    if (loop.poller.failures > 0) throw new Error(`Stash did not answer the last ${loop.poller.failures} poll(s)`);
  };
  const pollJobs: Job[] = loops.map((loop) => ({
    id: pollJobId(loop.instance),
    name:
      loop.instance === DEFAULT_INSTANCE_ID
        ? "Poll Stash for changed scenes"
        : `Poll Stash "${loop.instance}" for changed scenes`,
    everySeconds: config.sync.pollSeconds,
    run: pollOf(loop),
  }));
  const jobs: Job[] = pushOn
    ? [
        ...pollJobs,
        {
          id: "sweep",
          name: "Push due jobs to Plex",
          everySeconds: config.sync.sweepSeconds,
          run: () => Promise.all(loops.map((l) => l.worker.sweep())).then(() => {}),
        },
        {
          id: "plex-index",
          name: "Refresh the index of Plex items",
          everySeconds: 300,
          run: () =>
            refreshPlexIndex().catch((err: Error) => {
              log.warn("Plex index not refreshed; pushes look items up in Plex meanwhile", { error: err.message });
              throw err;
            }),
        },
      ]
    : [];

  // Without Plex there is nothing to push to: the webhook stays off rather than queue in vain.
  const plugin = new Elysia({ name: "push" }).use(
    webhookRoutes({
      token: pushOn ? config.sync.webhookToken : "",
      queue,
      stashOf: (instance) => parts.find((p) => p.id === instance)?.stash,
      onQueued: (instance) => loopFor(instance).worker.kick(),
      health: store.health,
    }),
  );

  return {
    pushOn,
    breaker,
    editState,
    artworkOf,
    refreshPlexIndex,
    worker,
    poller,
    autoRules,
    sync,
    syncProgress,
    kick,
    onServed,
    plugin,
    jobs,
    /** Every instance's loop (the default's first): its breaker, poller and worker, each with its own state. */
    loops,
    /** Before serving: bookmark where each Stash is now (one not reachable yet: its first poll does it). */
    async start() {
      if (!pushOn) return;
      await Promise.all(
        loops.map((l) =>
          l.poller.initialise().catch((err: Error) =>
            log.warn("Stash not reachable yet; polling starts when it is", {
              ...(l.instance === DEFAULT_INSTANCE_ID ? {} : { instance: l.instance }),
              error: err.message,
            }),
          ),
        ),
      );
    },
    async stop() {
      await Promise.all(loops.map((l) => l.worker.stop()));
      closed = true;
    },
  };
}
export type PushSide = ReturnType<typeof pushSide>;
