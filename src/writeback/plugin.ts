/**
 * The write-back side (Plex → Stash, issue 21): its routes and its jobs. Three sources feed one
 * durable, idempotent queue (events.ts): Plex Pass webhooks (webhook-route.ts), PMS's
 * notification stream with /status/sessions (notifications.ts) and the watch-history catch-up
 * (catch-up.ts). A worker per Stash instance drains it through the applier (apply.ts).
 *
 * Off unless writeback.enabled: then the webhook route answers 404 saying so, and nothing runs.
 * The stream and the catch-up need Plex (PLEX_URL, PLEX_TOKEN); the webhook only its token.
 */
import { Elysia } from "elysia";
import type { Config } from "../config/schema.ts";
import { type InstanceName, tvIdentifierOf } from "../domain/ref.ts";
import type { Job } from "../jobs.ts";
import type { Logger } from "../log.ts";
import type { StashClient } from "../stash/client.ts";
import type { Store } from "../store/db.ts";
import type { EditState } from "../sync/edit-state.ts";
import { type ApplierDeps, createApplier } from "./apply.ts";
import { createCatchUp, HISTORY_SOURCE, RATINGS_SOURCE } from "./catch-up.ts";
import { createEventQueue, type StoredEvent } from "./events.ts";
import { createNotifications } from "./notifications.ts";
import { createPlayingClock } from "./played.ts";
import { createPmsWatch } from "./pms-watch.ts";
import type { PlexEvent, WritebackState } from "./types.ts";
import { plexWebhookRoutes } from "./webhook-route.ts";
import { createWritebackWorker } from "./worker.ts";

export interface WritebackSideDeps {
  config: Config;
  store: Store;
  log: Logger;
  /** Every Stash instance: its id and the provider identifiers its GUIDs carry. */
  instances: readonly { id: string; identifier: string }[];
  /** Each instance's Stash client by id. */
  stashOf: (instance: string) => StashClient | undefined;
  /** The push side's record of Plex star ratings (the loop guard between push and write-back). */
  ratings: Pick<EditState, "starRating" | "rememberStarRating">;
  /** Told of every applied event (metrics). */
  observe?: ApplierDeps["observe"];
  /** Told of every event taken off the queue. */
  settled?: (event: StoredEvent, state: "done" | "ignored" | "failed" | "retry") => void;
  /** Told of every event stored, by source (metrics). */
  received?: (event: PlexEvent) => void;
  /** false for one-shot commands: nothing listens or drains. */
  drain?: boolean;
}

/** Whether write-back runs (the setting), and whether it can read Plex (stream, catch-up). */
export const writebackIsOn = (config: Config) => config.writeback.enabled;

export function writebackSide(deps: WritebackSideDeps) {
  const { config, store, log } = deps;
  const enabled = writebackIsOn(config) && deps.drain !== false;
  const plexOn = Boolean(config.plex.url && config.plex.token);
  const names: InstanceName[] = deps.instances.map((i) => ({
    id: i.id,
    identifier: i.identifier,
    tvIdentifier: tvIdentifierOf(i.identifier),
  }));
  const events = createEventQueue(store, Date.now, {
    retryBaseMs: config.sync.retryBaseSeconds * 1000,
    retryCapMs: config.sync.retryCapSeconds * 1000,
    onRetried: () => worker.kick(),
  });
  const applier = createApplier({
    stashOf: deps.stashOf,
    ratings: deps.ratings,
    users: config.writeback.users,
    log,
    observe: deps.observe,
  });
  const worker = createWritebackWorker({
    events,
    applyEvent: applier.applyEvent,
    instances: names.map((n) => n.id),
    probe: async (instance) => {
      const stash = deps.stashOf(instance);
      if (!stash) throw new Error(`no Stash instance "${instance}"`);
      await stash.version();
    },
    log,
    retryBaseMs: config.sync.retryBaseSeconds * 1000,
    settled: deps.settled,
  });
  const recorded = (list: PlexEvent[]) => {
    for (const e of list) deps.received?.(e);
    for (const instance of new Set(list.map((e) => e.ref.instance))) worker.kick(instance);
  };

  const pms = createPmsWatch({ url: config.plex.url, token: config.plex.token, timeoutMs: config.plex.timeoutMs });
  const catchUp = createCatchUp({ pms, events, instances: names, log, onRecorded: recorded });
  const runCatchUp = (withRatings = false) =>
    catchUp.run(withRatings).catch((err: Error) => {
      log.warn("write-back: Plex's watch history could not be read; tried again later", { error: err.message });
      throw err;
    });
  const notifications = createNotifications({
    pms,
    events,
    instances: names,
    log,
    onRecorded: recorded,
    // What the stream missed while it was down is in the history.
    onConnected: () => void runCatchUp(true).catch(() => {}),
  });

  const state = (): WritebackState => {
    const s = notifications.status();
    const last = catchUp.last();
    return {
      stream: {
        state: s.state,
        since: s.state === "connected" ? s.connectedAt : s.state === "reconnecting" ? s.downSince : null,
        failures: s.failures,
        lastError: s.lastError,
      },
      breakers: worker.breakers().map((b) => ({
        instance: b.instance,
        state: b.open ? "open" : "closed",
        since: b.openedAt,
        lastError: b.open ? b.lastError : null,
      })),
      catchUp: {
        on: enabled && plexOn,
        watermark: events.watermark(HISTORY_SOURCE) ?? null,
        ratingsWatermark: events.watermark(RATINGS_SOURCE) ?? null,
        lastRun: last ? { at: last.at, read: last.read, recorded: last.recorded } : null,
        lastError: catchUp.lastError() ?? null,
      },
    };
  };

  const jobs: Job[] = enabled
    ? [
        {
          id: "writeback",
          name: "Write what was watched in Plex to Stash",
          everySeconds: 5,
          run: () => worker.sweep(),
        },
        ...(plexOn
          ? [
              {
                id: "writeback-catch-up",
                name: "Catch up on Plex's watch history",
                everySeconds: config.writeback.catchUpSeconds,
                // start() runs the first pass (and each reconnect of the stream one more).
                firstAfterSeconds: config.writeback.catchUpSeconds,
                run: () => runCatchUp(),
              },
            ]
          : []),
      ]
    : [];

  const plugin = new Elysia({ name: "writeback" }).use(
    plexWebhookRoutes({
      enabled: writebackIsOn(config),
      token: config.writeback.webhookToken,
      instances: names,
      events,
      onRecorded: (e) => recorded([e]),
      clock: createPlayingClock(),
    }),
  );

  return {
    enabled,
    plugin,
    jobs,
    events,
    worker,
    notifications,
    catchUp,
    applier,
    state,
    /** After the server listens: claims of a previous process lapse, the stream connects, the queue drains. */
    start() {
      if (!enabled) return;
      const recovered = events.recover();
      if (recovered)
        log.info("write-back: resuming events that were being written when the service stopped", { recovered });
      if (plexOn && config.writeback.notifications) notifications.start();
      if (plexOn) void runCatchUp(true).catch(() => {});
      worker.kick();
    },
    async stop() {
      await notifications.stop();
      await worker.stop();
    },
  };
}
export type WritebackSide = ReturnType<typeof writebackSide>;
