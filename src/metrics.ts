/**
 * Prometheus metrics (prom-client, one registry per service instance). Counters and
 * histograms are fed as work happens; gauges (queue depth, breaker, index sizes, last
 * reconcile) are read when /metrics is scraped, so a scrape costs a few small queries.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** What an upstream call reports: which system, how long, and whether it failed. */
export type UpstreamObserver = (upstream: "stash" | "plex", seconds: number, ok: boolean) => void;

export interface GaugeSources {
  queue(): { pending: number; due: number; confirming: number; dead: number };
  breaker(): string;
  indexes(): { stashScenes: number; plexItems: number };
  lastGaps(): Record<string, number>;
}

const BREAKER_STATES = ["closed", "open", "half-open"];

export function createMetrics() {
  const registry = new Registry();
  const pushes = new Counter({ name: "stash2plex_pushes_total", help: "Pushes to Plex by result.", labelNames: ["result"], registers: [registry] });
  const pushLatency = new Histogram({
    name: "stash2plex_push_latency_seconds", help: "From a change being queued to Plex showing it (delivered).",
    buckets: [0.1, 0.5, 1, 2, 5, 15, 60, 300, 900, 3600, 21600, 86400], registers: [registry],
  });
  const requests = new Counter({ name: "stash2plex_http_requests_total", help: "Requests answered, by route and status.", labelNames: ["route", "status"], registers: [registry] });
  const requestSeconds = new Histogram({
    name: "stash2plex_http_request_seconds", help: "Time to answer a request, by route.", labelNames: ["route"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5], registers: [registry],
  });
  const upstreamSeconds = new Histogram({
    name: "stash2plex_upstream_request_seconds", help: "Calls to Stash and Plex, by upstream.", labelNames: ["upstream"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10], registers: [registry],
  });
  const upstreamErrors = new Counter({ name: "stash2plex_upstream_errors_total", help: "Failed calls to Stash and Plex.", labelNames: ["upstream"], registers: [registry] });

  let sources: GaugeSources | undefined;
  new Gauge({
    name: "stash2plex_queue_jobs", help: "Jobs in the push queue by state (dead: dead letters).", labelNames: ["state"], registers: [registry],
    collect() {
      if (!sources) return;
      for (const [state, n] of Object.entries(sources.queue())) this.set({ state }, n);
    },
  });
  new Gauge({
    name: "stash2plex_breaker_state", help: "1 for the Plex circuit breaker's current state.", labelNames: ["state"], registers: [registry],
    collect() {
      if (!sources) return;
      const now = sources.breaker();
      for (const state of BREAKER_STATES) this.set({ state }, state === now ? 1 : 0);
    },
  });
  new Gauge({
    name: "stash2plex_index_entries", help: "Entries in the service's indexes.", labelNames: ["index"], registers: [registry],
    collect() {
      if (!sources) return;
      const { stashScenes, plexItems } = sources.indexes();
      this.set({ index: "stash_scenes" }, stashScenes);
      this.set({ index: "plex_items" }, plexItems);
    },
  });
  new Gauge({
    name: "stash2plex_reconcile_gaps", help: "Gaps the last completed reconcile found, by kind.", labelNames: ["kind"], registers: [registry],
    collect() {
      if (!sources) return;
      this.reset();
      for (const [kind, n] of Object.entries(sources.lastGaps())) this.set({ kind }, n);
    },
  });

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    readFrom(s: GaugeSources) {
      sources = s;
    },
    pushed: (result: "refreshed" | "written" | "retry" | "dead") => pushes.inc({ result }),
    delivered: (queuedAtMs: number, now = Date.now()) => pushLatency.observe(Math.max(0, (now - queuedAtMs) / 1000)),
    request(route: string, status: number, seconds: number) {
      requests.inc({ route, status: String(status) });
      requestSeconds.observe({ route }, seconds);
    },
    upstream: ((upstream, seconds, ok) => {
      upstreamSeconds.observe({ upstream }, seconds);
      if (!ok) upstreamErrors.inc({ upstream });
    }) as UpstreamObserver,
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
