/**
 * Prometheus metrics (prom-client, one registry per service instance). Counters and
 * histograms are fed as work happens; gauges (queue depth, breaker, index sizes, last
 * reconcile, jobs' last success, Stash/Plex up) are read when /metrics is scraped, so a
 * scrape costs a few small queries and at most one shared readiness check.
 * deploy/grafana/stash2plex.json and deploy/prometheus/alerts.yml use these names: a test
 * checks that every name they use is exported here.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { GAP_KINDS } from "./domain/gaps.ts";
import { VERSION } from "./version.ts";
import { DEFAULT_INSTANCE_ID } from "./domain/ref.ts";

/** What an upstream call reports: which system, how long, and whether it failed. */
export type UpstreamObserver = (upstream: "stash" | "plex", seconds: number, ok: boolean) => void;

/** Jobs by state (dead: dead letters). */
type QueueCounts = { pending: number; due: number; confirming: number; dead: number };

export interface GaugeSources {
  /** Per Stash instance (its id → counts); one set of counts alone is the default instance's. */
  queue(): QueueCounts | Record<string, QueueCounts>;
  /** The breaker's state; per Stash instance (its id → state) when there are several. */
  breaker(): string | Record<string, string>;
  /** Scenes in each Stash instance's file index (one number alone: the default's) and Plex items. */
  indexes(): { stashScenes: number | Record<string, number>; plexItems: number };
  lastGaps(): Record<string, number>;
  /** Each scheduled job and when it last ended without an error (ms epoch; null: not yet). */
  jobs(): { id: string; lastSuccessAt: number | null }[];
  /** When a change last reached Plex (ms epoch; null: never). */
  lastDeliveryAt(): number | null;
  /** When the oldest change still waiting for Plex was queued (ms epoch; null: queue empty). */
  oldestPendingAt(): number | null;
  /**
   * Whether each upstream answers its health check (Stash's version, Plex's identity), as /readyz
   * asks it: shared and cached by the caller, so a scrape adds no call of its own. `stash` is the
   * default instance's Stash, `stash:<id>` another instance's.
   */
  upstreams: Record<string, () => Promise<boolean>>;
}

/** What the TV gauges show of one TV-style library. */
export interface TvLibraryMetrics {
  library: string;
  instance: string;
  shows: number;
  episodes: number;
  /** When its last full pass succeeded (ms epoch; null: not since start). */
  lastSyncAt: number | null;
  /** Why its last full pass failed (null: it did not). */
  lastError: string | null;
  /** Links the last full pass made, moved and removed (null: no pass yet). */
  links: { made: number; moved: number; removed: number } | null;
}

const BREAKER_STATES = ["closed", "open", "half-open"];
/**
 * A scrape waits this long for Stash and Plex to answer, then reports them down: a Plex that
 * hangs must not make the scrape itself time out (Prometheus gives up after 10 s by default).
 */
const UPSTREAM_DEADLINE_MS = 3000;
/**
 * Default metrics that mean nothing under Bun (JavaScriptCore, not V8): handles, requests and
 * resources are always 0, V8 heap spaces are 0, GC durations are never observed, and VmData
 * ("heap") counts the gigabytes JSC reserves but does not use. Dropped rather than shown wrong.
 */
const NOT_UNDER_BUN = [
  "nodejs_active_handles",
  "nodejs_active_handles_total",
  "nodejs_active_requests",
  "nodejs_active_requests_total",
  "nodejs_active_resources",
  "nodejs_active_resources_total",
  "nodejs_heap_space_size_total_bytes",
  "nodejs_heap_space_size_used_bytes",
  "nodejs_heap_space_size_available_bytes",
  "nodejs_gc_duration_seconds",
  "process_heap_bytes",
];
const PUSH_RESULTS = ["refreshed", "written", "retry", "dead"] as const;
const seconds = (ms: number | null) => (ms === null ? 0 : ms / 1000);
/**
 * The label naming a Stash instance. Not `instance`: Prometheus gives every scraped series an
 * `instance` label of its own (the target, host:port) and would rename ours `exported_instance`.
 */
const STASH_INSTANCE = "stash_instance";
/**
 * The labels of an upstream key: `plex`; `stash` (the default instance's Stash) or `stash:<id>`
 * (another instance's), each Stash named by its instance.
 */
function upstreamLabels(key: string): Record<string, string> {
  if (key !== "stash" && !key.startsWith("stash:")) return { upstream: key };
  return { upstream: "stash", [STASH_INSTANCE]: key.slice("stash:".length) || DEFAULT_INSTANCE_ID };
}
const isCounts = (q: QueueCounts | Record<string, QueueCounts>): q is QueueCounts =>
  typeof (q as QueueCounts).pending === "number";

export function createMetrics(now: () => number = Date.now) {
  const registry = new Registry();
  // CPU, memory, open file descriptors, event-loop lag, start time (all checked under Bun).
  collectDefaultMetrics({ register: registry });
  for (const name of NOT_UNDER_BUN) registry.removeSingleMetric(name);
  new Gauge({
    name: "stash2plex_build_info",
    help: "Always 1; the labels say which build runs.",
    labelNames: ["version", "runtime", "runtime_version"],
    registers: [registry],
  }).set({ version: VERSION, runtime: "bun", runtime_version: Bun.version }, 1);

  const pushes = new Counter({
    name: "stash2plex_pushes_total",
    help: "Pushes to Plex by Stash instance and result.",
    labelNames: [STASH_INSTANCE, "result"],
    registers: [registry],
  });
  // Every result from 0, so increase() sees the first dead letter after a restart.
  for (const result of PUSH_RESULTS) pushes.inc({ [STASH_INSTANCE]: DEFAULT_INSTANCE_ID, result }, 0);
  const pushLatency = new Histogram({
    name: "stash2plex_push_latency_seconds",
    help: "From a change being queued to Plex showing it (delivered), by Stash instance.",
    labelNames: [STASH_INSTANCE],
    buckets: [0.1, 0.5, 1, 2, 5, 15, 60, 300, 900, 3600, 21600, 86400],
    registers: [registry],
  });
  const requests = new Counter({
    name: "stash2plex_http_requests_total",
    help: "Requests answered, by route and status.",
    labelNames: ["route", "status"],
    registers: [registry],
  });
  const requestSeconds = new Histogram({
    name: "stash2plex_http_request_seconds",
    help: "Time to answer a request, by route.",
    labelNames: ["route"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  });
  const upstreamSeconds = new Histogram({
    name: "stash2plex_upstream_request_seconds",
    help: "Calls to Stash and Plex, by upstream (and Stash instance).",
    labelNames: ["upstream", STASH_INSTANCE],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const upstreamErrors = new Counter({
    name: "stash2plex_upstream_errors_total",
    help: "Failed calls to Stash and Plex, by upstream (and Stash instance).",
    labelNames: ["upstream", STASH_INSTANCE],
    registers: [registry],
  });
  upstreamErrors.inc(upstreamLabels("stash"), 0);
  upstreamErrors.inc(upstreamLabels("plex"), 0);

  /** `stash` / `stash:<id>` / `plex` as labels; a Stash's label says its instance. */
  const observeUpstream = (key: string, seconds: number, ok: boolean) => {
    upstreamSeconds.observe(upstreamLabels(key), seconds);
    if (!ok) upstreamErrors.inc(upstreamLabels(key));
  };

  let sources: GaugeSources | undefined;
  let probes: Record<string, () => Promise<boolean>> = {};
  new Gauge({
    name: "stash2plex_queue_jobs",
    help: "Jobs in the push queue by Stash instance and state (dead: dead letters).",
    labelNames: [STASH_INSTANCE, "state"],
    registers: [registry],
    collect() {
      if (!sources) return;
      const q = sources.queue();
      const byInstance = isCounts(q) ? { [DEFAULT_INSTANCE_ID]: q } : q;
      // The default instance always shows (0s when its queue is empty); an instance gone empty drops out.
      byInstance[DEFAULT_INSTANCE_ID] ??= { pending: 0, due: 0, confirming: 0, dead: 0 };
      this.reset();
      for (const [instance, counts] of Object.entries(byInstance)) {
        for (const [state, n] of Object.entries(counts)) this.set({ [STASH_INSTANCE]: instance, state }, n);
      }
    },
  });
  new Gauge({
    name: "stash2plex_breaker_state",
    help: "1 for the current state of the Plex circuit breaker guarding each Stash instance's pushes.",
    labelNames: [STASH_INSTANCE, "state"],
    registers: [registry],
    collect() {
      if (!sources) return;
      const now = sources.breaker();
      for (const [instance, current] of Object.entries(
        typeof now === "string" ? { [DEFAULT_INSTANCE_ID]: now } : now,
      )) {
        for (const state of BREAKER_STATES) this.set({ [STASH_INSTANCE]: instance, state }, state === current ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: "stash2plex_index_entries",
    help: "Entries in the service's indexes (Stash scenes: per instance).",
    labelNames: ["index", STASH_INSTANCE],
    registers: [registry],
    collect() {
      if (!sources) return;
      const { stashScenes, plexItems } = sources.indexes();
      const byInstance = typeof stashScenes === "number" ? { [DEFAULT_INSTANCE_ID]: stashScenes } : stashScenes;
      for (const [instance, n] of Object.entries(byInstance))
        this.set({ index: "stash_scenes", [STASH_INSTANCE]: instance }, n);
      this.set({ index: "plex_items" }, plexItems);
    },
  });
  new Gauge({
    name: "stash2plex_reconcile_gaps",
    help: "Gaps the last completed reconcile found, by kind (0: none, or no reconcile yet).",
    labelNames: ["kind"],
    registers: [registry],
    collect() {
      if (!sources) return;
      const found = sources.lastGaps();
      for (const kind of GAP_KINDS) this.set({ kind }, found[kind] ?? 0);
    },
  });
  new Gauge({
    name: "stash2plex_job_last_success_timestamp_seconds",
    help: "When each scheduled job last ended without an error (0: not since start).",
    labelNames: ["job_id"],
    registers: [registry],
    collect() {
      if (!sources) return;
      for (const job of sources.jobs()) this.set({ job_id: job.id }, seconds(job.lastSuccessAt));
    },
  });
  new Gauge({
    name: "stash2plex_last_delivered_push_timestamp_seconds",
    help: "When a change last reached Plex (0: never).",
    registers: [registry],
    collect() {
      if (sources) this.set(seconds(sources.lastDeliveryAt()));
    },
  });
  new Gauge({
    name: "stash2plex_queue_oldest_pending_age_seconds",
    help: "How long the oldest change not yet in Plex has waited (0: none waits).",
    registers: [registry],
    collect() {
      if (!sources) return;
      const at = sources.oldestPendingAt();
      this.set(at === null ? 0 : Math.max(0, (now() - at) / 1000));
    },
  });
  new Gauge({
    name: "stash2plex_upstream_up",
    help: `1 when the upstream answers its health check (within ${UPSTREAM_DEADLINE_MS / 1000} s), else 0.`,
    labelNames: ["upstream", STASH_INSTANCE],
    registers: [registry],
    async collect() {
      await Promise.all(
        Object.entries(probes).map(async ([upstream, probe]) => {
          this.set(upstreamLabels(upstream), (await withDeadline(probe(), UPSTREAM_DEADLINE_MS)) ? 1 : 0);
        }),
      );
    },
  });

  // Write-back (Plex → Stash): what arrived, what it did, what waits.
  const wbReceived = new Counter({
    name: "stash2plex_writeback_events_received_total",
    help: "Write-back events recorded (new ones; a replay counts nothing), by Stash instance, source and kind.",
    labelNames: [STASH_INSTANCE, "source", "kind"],
    registers: [registry],
  });
  const wbApplied = new Counter({
    name: "stash2plex_writeback_events_applied_total",
    help: "Write-back events Stash holds now, by Stash instance, kind and whether a write was needed (wrote: false when Stash had it).",
    labelNames: [STASH_INSTANCE, "kind", "wrote"],
    registers: [registry],
  });
  const wbIgnored = new Counter({
    name: "stash2plex_writeback_events_ignored_total",
    help: "Write-back events that changed nothing by rule, by Stash instance and reason (user, echo, stale, kept, not_scene).",
    labelNames: [STASH_INSTANCE, "reason"],
    registers: [registry],
  });
  const wbFailed = new Counter({
    name: "stash2plex_writeback_failures_total",
    help: "Failed attempts to write an event to Stash, by Stash instance and kind (transient: tried again; permanent: given up).",
    labelNames: [STASH_INSTANCE, "failure"],
    registers: [registry],
  });
  for (const failure of ["transient", "permanent"]) wbFailed.inc({ [STASH_INSTANCE]: DEFAULT_INSTANCE_ID, failure }, 0);
  let wbWaiting: (() => Record<string, number>) | undefined;
  new Gauge({
    name: "stash2plex_writeback_events_waiting",
    help: "Write-back events not yet written to Stash (pending, retries included), by Stash instance.",
    labelNames: [STASH_INSTANCE],
    registers: [registry],
    collect() {
      if (!wbWaiting) return;
      this.reset();
      const byInstance = { [DEFAULT_INSTANCE_ID]: 0, ...wbWaiting() };
      for (const [instance, n] of Object.entries(byInstance)) this.set({ [STASH_INSTANCE]: instance }, n);
    },
  });

  let wbStream: (() => string) | undefined;
  new Gauge({
    name: "stash2plex_writeback_stream_connected",
    help: "1 while PMS's notification stream (write-back without Plex Pass) is connected; 0 while it connects or reconnects, and when it is off (write-back or WRITEBACK_NOTIFICATIONS off).",
    registers: [registry],
    collect() {
      this.set(wbStream?.() === "connected" ? 1 : 0);
    },
  });

  // Whether the stream runs at all: stream_connected is 0 both when it is down and when it is
  // off, so an alert on it alone would fire on every service with the stream off.
  new Gauge({
    name: "stash2plex_writeback_stream_enabled",
    help: "1 when PMS's notification stream is meant to run (write-back and WRITEBACK_NOTIFICATIONS on), 0 when it is off.",
    registers: [registry],
    collect() {
      const state = wbStream?.();
      this.set(state !== undefined && state !== "off" ? 1 : 0);
    },
  });

  // TV-style libraries: read from their states at each scrape.
  let tvLibraries: (() => TvLibraryMetrics[]) | undefined;
  const tvGauge = (name: string, help: string, value: (l: TvLibraryMetrics) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["library", STASH_INSTANCE],
      registers: [registry],
      collect() {
        if (!tvLibraries) return;
        this.reset();
        for (const l of tvLibraries()) this.set({ library: l.library, [STASH_INSTANCE]: l.instance }, value(l));
      },
    });
  tvGauge("stash2plex_tv_shows", "Shows in each TV library's catalog.", (l) => l.shows);
  tvGauge("stash2plex_tv_episodes", "Episodes in each TV library's catalog.", (l) => l.episodes);
  tvGauge(
    "stash2plex_tv_last_sync_timestamp_seconds",
    "When each TV library's last full pass succeeded (0: not since start).",
    (l) => seconds(l.lastSyncAt),
  );
  tvGauge(
    "stash2plex_tv_last_sync_ok",
    "0 when each TV library's last full pass failed (its error is on the dashboard), else 1 (also before the first pass).",
    (l) => (l.lastError === null ? 1 : 0),
  );
  new Gauge({
    name: "stash2plex_tv_last_sync_links",
    help: "Links in each TV library's episode folder that its last full pass made, moved (new target) or removed.",
    labelNames: ["library", STASH_INSTANCE, "change"],
    registers: [registry],
    collect() {
      if (!tvLibraries) return;
      this.reset();
      for (const l of tvLibraries()) {
        const labels = { library: l.library, [STASH_INSTANCE]: l.instance };
        this.set({ ...labels, change: "made" }, l.links?.made ?? 0);
        this.set({ ...labels, change: "moved" }, l.links?.moved ?? 0);
        this.set({ ...labels, change: "removed" }, l.links?.removed ?? 0);
      }
    },
  });

  return {
    registry,
    contentType: registry.contentType,
    /** Where the TV gauges read each TV library's counts and last full pass, at each scrape. */
    readTv: (source: () => TvLibraryMetrics[]) => {
      tvLibraries = source;
    },
    /** Write-back's counters (writeback/): events recorded, their outcomes, and what waits. */
    writeback: {
      received: (instance: string, source: string, kind: string) =>
        wbReceived.inc({ [STASH_INSTANCE]: instance, source, kind }),
      applied: (instance: string, kind: string, wrote: boolean) =>
        wbApplied.inc({ [STASH_INSTANCE]: instance, kind, wrote: String(wrote) }),
      ignored: (instance: string, reason: string) => wbIgnored.inc({ [STASH_INSTANCE]: instance, reason }),
      failed: (instance: string, failure: "transient" | "permanent") =>
        wbFailed.inc({ [STASH_INSTANCE]: instance, failure }),
      /** Where the waiting gauge reads its numbers (instance id → events waiting), at each scrape. */
      readWaiting: (source: () => Record<string, number>) => {
        wbWaiting = source;
      },
      /** Where the stream gauge reads the notification stream's state (off, connecting, connected, reconnecting). */
      readStream: (source: () => string) => {
        wbStream = source;
      },
    },
    text: () => registry.metrics(),
    readFrom(s: GaugeSources) {
      sources = s;
      // Each Stash's errors from 0, so increase() sees its first failure.
      for (const key of Object.keys(s.upstreams)) upstreamErrors.inc(upstreamLabels(key), 0);
      probes = s.upstreams;
    },
    pushed: (result: "refreshed" | "written" | "retry" | "dead", instance = DEFAULT_INSTANCE_ID) =>
      pushes.inc({ [STASH_INSTANCE]: instance, result }),
    delivered: (queuedAtMs: number, now = Date.now(), instance = DEFAULT_INSTANCE_ID) =>
      pushLatency.observe({ [STASH_INSTANCE]: instance }, Math.max(0, (now - queuedAtMs) / 1000)),
    request(route: string, status: number, seconds: number) {
      requests.inc({ route, status: String(status) });
      requestSeconds.observe({ route }, seconds);
    },
    /** Plex's calls (and a Stash of the default instance's, when no instance is known). */
    upstream: ((upstream, seconds, ok) => observeUpstream(upstream, seconds, ok)) as UpstreamObserver,
    /** The observer for one Stash instance's client: its Stash calls are labelled with the instance. */
    upstreamOf:
      (instance: string): UpstreamObserver =>
      (upstream, seconds, ok) =>
        observeUpstream(upstream === "stash" ? `stash:${instance}` : upstream, seconds, ok),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/** The promise's value, or null when it takes longer than `ms` (or fails). */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(resolve, ms, null)));
  return Promise.race([promise.catch(() => null), late]).finally(() => clearTimeout(timer));
}
