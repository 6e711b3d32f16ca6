/**
 * The push side for ONE Stash instance: the poller and the webhook that queue its changes, the
 * worker that pushes them to Plex behind a breaker, the proof that a push landed (PMS fetching
 * the scene), a manual sync, path rules inferred from both indexes, and the jobs that drive
 * them. The queue, the Plex client and the Plex index are shared by every instance; the Stash
 * client, file index, path rules and identifier are the instance's own.
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
import type { Job } from "../jobs.ts";
import { DEFAULT_INSTANCE_ID, sceneRef } from "../domain/ref.ts";
import { createBreaker } from "./breaker.ts";
import { createEditState } from "./edit-state.ts";
import type { PlexIndex } from "./plex-index.ts";
import type { PmsIdentity } from "./pms-identity.ts";
import { createPoller } from "./poller.ts";
import { createPusher, type SyncSection } from "./push.ts";
import type { Queue } from "./queue.ts";
import { describeScope, scenesToSync, type SyncScope } from "./select.ts";
import { createWorker } from "./worker.ts";

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
  /** The instance's own parts. */
  stash: StashClient;
  index: FileIndex;
  /** Swappable: rules inferred from both indexes (PATHS_AUTO) replace the configured none. */
  mapper: PathMapper & { use(next: PathMapper): void };
  ctx: MetadataContext;
  /** false for one-shot commands: what they queue is left to the running service's worker. */
  drain?: boolean;
}

/** Whether there is a Plex to push to. */
export const pushIsOn = (config: Config) => Boolean(config.plex.url);

export function pushSide(deps: PushSideDeps) {
  const { config, store, log, metrics, queue, plex, plexIndex, sections, pmsIdentity, stash, mapper } = deps;
  const pushOn = pushIsOn(config);
  // Probing a down Plex follows the retry timings, but never waits more than a minute.
  const breaker = createBreaker(store, {
    threshold: 3,
    probeBaseMs: config.sync.retryBaseSeconds * 1000,
    probeCapMs: Math.min(60_000, config.sync.retryCapSeconds * 1000),
  });
  const editState = createEditState(store);
  const push = createPusher({ config, editState, stash, plex, index: plexIndex, mapper, ctx: deps.ctx, sections });
  const worker = createWorker({ config, queue, breaker, plex, push, log, pushed: metrics.pushed });
  const poller = createPoller({
    store, stash, queue, log, onQueued: () => worker.kick(),
    backoffBaseMs: Math.max(1, config.sync.pollSeconds) * 1000,
    backoffCapMs: 300_000,
  });
  const autoRules = createAutoRules({
    stashIndex: deps.index, plexIndex, sections, mapper, log,
    auto: config.paths.auto && config.paths.rules.length === 0,
  });
  /** The Plex index, then (PATHS_AUTO) rules inferred from it once. */
  const refreshPlexIndex = async () => {
    await plexIndex.refresh(await sections());
    await autoRules.applyIfAsked();
  };
  const kick = () => void (deps.drain !== false && worker.kick());

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

  /** Set at stop: an answer still going out then has no database left to confirm in. */
  let closed = false;
  /**
   * PMS fetching a scene we refreshed is the proof the push landed. Only a fetch by the PMS we
   * push to counts (pms-identity.ts): not curl, a monitor or a browser.
   */
  const onServed: NonNullable<ProviderDeps["onServed"]> = (ref, client) => {
    const confirm = () => {
      // "next": the scene's next Plex item is due; "changed": the scene changed since the push.
      if (closed) return;
      try {
        const result = queue.confirmPull(ref);
        if (result === "next" || result === "changed") worker.kick();
      } catch (err) {
        // Not confirmed: the push is retried after its deadline. Never worth the process.
        log.error("could not record that Plex fetched a scene", { scene: ref.id, instance: ref.instance, error: (err as Error).message });
      }
    };
    if (!pushOn || !client) return;
    if (client === pmsIdentity.machineIdentifier) confirm();
    else void pmsIdentity.isOurs(client).then((ours) => ours && confirm());
  };

  /** A poll that Stash did not answer is not a success (the poller itself backs off and logs). */
  const poll = async () => {
    await poller.poll();
    if (poller.failures > 0) throw new Error(`Stash did not answer the last ${poller.failures} poll(s)`);
  };
  const jobs: Job[] = pushOn
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
      ]
    : [];

  // Without Plex there is nothing to push to: the webhook stays off rather than queue in vain.
  const plugin = new Elysia({ name: "push" })
    .use(webhookRoutes({ token: pushOn ? config.sync.webhookToken : "", stash, queue, onQueued: () => worker.kick() }));

  return {
    pushOn, breaker, editState, worker, poller, autoRules, sync, syncProgress, kick, onServed, plugin, jobs,
    /** Before serving: bookmark where Stash is now (if Stash is not reachable yet, the first poll does it). */
    async start() {
      if (pushOn) await poller.initialise().catch((err: Error) => log.warn("Stash not reachable yet; polling starts when it is", { error: err.message }));
    },
    async stop() {
      await worker.stop();
      closed = true;
    },
  };
}
export type PushSide = ReturnType<typeof pushSide>;
