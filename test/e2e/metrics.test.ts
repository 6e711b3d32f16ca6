/**
 * /metrics as a Prometheus user expects it (issue 18, item 7): build info, process metrics that
 * work under Bun, each job's last success, the last delivered push, the oldest waiting change,
 * Stash and Plex up (a hanging Plex does not hang the scrape), every gap kind with 0 when none;
 * and every name the Grafana dashboard and the alert rules use is exported (item 8). The service
 * runs a TV library and write-back (issues 20 and 21), so their series are exported and checked.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { IDENTIFIER, post, startWorld, tempDir, waitFor, WEBHOOK_TOKEN, type World, scene } from "../helpers.ts";
import { GAP_KINDS } from "../../src/domain/gaps.ts";
import { VERSION } from "../../src/version.ts";
import { createApp } from "../../src/app.ts";
import { silentLogger } from "../../src/log.ts";

let w: World;
const tvFolder = tempDir("s2p-metrics-tv-");
const HOOK_TOKEN = "plex-hook-token-metrics";
beforeAll(async () => {
  w = await startWorld({
    env: {
      SYNC_SWEEP_SECONDS: "1",
      SYNC_POLL_SECONDS: "1",
      SYNC_RETRY_BASE_SECONDS: "1",
      SYNC_DRAIN_PER_SECOND: "2000",
      TV_LIBRARIES: JSON.stringify([{ id: "sites", layout: "studio", folder: tvFolder, plexFolder: tvFolder }]),
      WRITEBACK_ENABLED: "true",
      WRITEBACK_WEBHOOK_TOKEN: HOOK_TOKEN,
      WRITEBACK_NOTIFICATIONS: "true",
    },
  });
  await w.pms.scan("1", { concurrency: 8 });
});
afterAll(() => w.close());

/** One sample per line: its name, labels and value (the text format, read plainly). */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
const scrape = async (): Promise<{ samples: Sample[]; types: Map<string, string> }> => {
  const text = await (await fetch(`${w.app.url}/metrics`)).text();
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries(
      [...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]),
    );
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
};
const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
const value = async (name: string, labels: Record<string, string> = {}) =>
  find((await scrape()).samples, name, labels)[0]?.value;
const webhook = { authorization: `Bearer ${WEBHOOK_TOKEN}` };

describe("metrics users expect", () => {
  test("build info, and process metrics that work under Bun (the ones that do not are left out)", async () => {
    const { samples, types } = await scrape();
    // Nothing pushed yet (the next tests change scenes, which the poller pushes).
    expect(find(samples, "stash2plex_last_delivered_push_timestamp_seconds")[0]?.value).toBe(0);
    const info = find(samples, "stash2plex_build_info");
    expect(info).toHaveLength(1);
    expect(info[0]!).toMatchObject({
      labels: { version: VERSION, runtime: "bun", runtime_version: Bun.version },
      value: 1,
    });

    const one = (name: string) => find(samples, name)[0]?.value ?? Number.NaN;
    expect(one("process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(one("process_resident_memory_bytes")).toBeGreaterThan(10 * 1024 * 1024);
    expect(one("process_open_fds")).toBeGreaterThan(2);
    expect(one("process_max_fds")).toBeGreaterThanOrEqual(one("process_open_fds"));
    const started = one("process_start_time_seconds");
    expect(started).toBeLessThanOrEqual(Date.now() / 1000 + 1);
    expect(started).toBeGreaterThan(Date.now() / 1000 - 3600);
    // Event-loop lag: measured (a blocked loop shows in the max).
    const until = Date.now() + 120;
    while (Date.now() < until) {
      /* block the loop */
    }
    await Bun.sleep(20);
    expect((await value("nodejs_eventloop_lag_max_seconds"))!).toBeGreaterThan(0.1);
    // Always 0 or never observed under JavaScriptCore: not exported rather than wrong.
    for (const name of [
      "nodejs_active_handles",
      "nodejs_active_requests",
      "nodejs_heap_space_size_used_bytes",
      "nodejs_gc_duration_seconds",
      "process_heap_bytes",
    ]) {
      expect([name, types.has(name)]).toEqual([name, false]);
    }
  });

  test("every gap kind is present with 0 before any reconcile; a reconcile's counts and its time show after", async () => {
    const before = (await scrape()).samples;
    for (const kind of GAP_KINDS)
      expect([kind, find(before, "stash2plex_reconcile_gaps", { kind })[0]?.value]).toEqual([kind, 0]);
    expect(find(before, "stash2plex_job_last_success_timestamp_seconds", { job_id: "reconcile" })[0]?.value).toBe(0);

    w.stash.library.update("5", { title: "Changed behind Plex's back" }); // a stale item
    const { run } = await w.app.reconciler.run({ heal: [], trigger: "test" });
    expect(run.counts.stale ?? 0).toBeGreaterThan(0);
    const after = (await scrape()).samples;
    for (const kind of GAP_KINDS)
      expect([kind, find(after, "stash2plex_reconcile_gaps", { kind })[0]?.value]).toEqual([
        kind,
        run.counts[kind] ?? 0,
      ]);
    expect(find(after, "stash2plex_job_last_success_timestamp_seconds", { job_id: "reconcile" })[0]?.value).toBe(
      run.finishedAt / 1000,
    );

    // A restart on the same data folder still knows when the last reconcile succeeded (no false "not run in 2 days").
    const restarted = createApp(w.app.config, { log: silentLogger });
    try {
      const text = await restarted.metrics.text();
      expect(text).toContain(
        `stash2plex_job_last_success_timestamp_seconds{job_id="reconcile"} ${run.finishedAt / 1000}\n`,
      );
      expect(text).toContain('stash2plex_job_last_success_timestamp_seconds{job_id="sweep"} 0\n');
    } finally {
      await restarted.stop();
    }
  });

  test("each scheduled job's last success (poll, sweep, stash-index, plex-index), in seconds since the epoch", async () => {
    const ids = ["poll", "sweep", "stash-index", "plex-index"];
    expect(
      await waitFor(
        async () => {
          const { samples } = await scrape();
          return ids.every(
            (job_id) => (find(samples, "stash2plex_job_last_success_timestamp_seconds", { job_id })[0]?.value ?? 0) > 0,
          );
        },
        15_000,
        200,
      ),
    ).toBe(true);
    const { samples } = await scrape();
    for (const job_id of ids) {
      const at = find(samples, "stash2plex_job_last_success_timestamp_seconds", { job_id })[0]!.value;
      expect([job_id, Math.abs(Date.now() / 1000 - at) < 600]).toEqual([job_id, true]);
    }
  });

  test("the last delivered push: the time Plex showed the change (0 before any: see the first test)", async () => {
    const queuedAt = Date.now() / 1000;
    w.stash.library.update("7", { title: "Delivered" });
    await post(`${w.app.url}/hooks/stash`, { sceneIds: ["7"] }, webhook);
    await waitFor(() => w.app.queue.history(scene("7")).some((h) => h.event === "delivered"), 10_000);
    const at = (await value("stash2plex_last_delivered_push_timestamp_seconds"))!;
    expect(at).toBeGreaterThanOrEqual(Math.floor(queuedAt));
    expect(at).toBeLessThanOrEqual(Date.now() / 1000);
  });

  test("Plex down: plex up 0 (Stash still 1), the oldest waiting change ages; back up: 1 and 0", async () => {
    expect(await value("stash2plex_upstream_up", { upstream: "plex" })).toBe(1);
    expect(await value("stash2plex_upstream_up", { upstream: "stash" })).toBe(1);
    // (The poller may still be pushing the scenes earlier tests changed.)
    expect(
      await waitFor(async () => (await value("stash2plex_queue_oldest_pending_age_seconds")) === 0, 10_000, 100),
    ).toBe(true);

    await w.pms.stop();
    w.stash.library.update("8", { title: "Waiting for Plex" });
    await post(`${w.app.url}/hooks/stash`, { sceneIds: ["8"] }, webhook);
    expect(
      await waitFor(async () => (await value("stash2plex_upstream_up", { upstream: "plex" })) === 0, 15_000, 250),
    ).toBe(true);
    expect(await value("stash2plex_upstream_up", { upstream: "stash" })).toBe(1);
    await Bun.sleep(1500);
    expect((await value("stash2plex_queue_oldest_pending_age_seconds"))!).toBeGreaterThan(1);

    w.pms.start();
    expect(
      await waitFor(async () => (await value("stash2plex_upstream_up", { upstream: "plex" })) === 1, 15_000, 250),
    ).toBe(true);
    expect(
      await waitFor(async () => (await value("stash2plex_queue_oldest_pending_age_seconds")) === 0, 20_000, 250),
    ).toBe(true);
  }, 60_000);

  test("a Plex that hangs does not hang the scrape: plex up 0 within seconds", async () => {
    w.pms.latencyMs = 6000;
    try {
      expect(
        await waitFor(
          async () => {
            const t0 = performance.now();
            const up = await value("stash2plex_upstream_up", { upstream: "plex" });
            expect(performance.now() - t0).toBeLessThan(4500);
            return up === 0;
          },
          15_000,
          250,
        ),
      ).toBe(true);
    } finally {
      w.pms.latencyMs = 0;
    }
    expect(
      await waitFor(async () => (await value("stash2plex_upstream_up", { upstream: "plex" })) === 1, 20_000, 250),
    ).toBe(true);
  }, 60_000);

  test("Stash down: stash up 0", async () => {
    await w.stash.stop();
    try {
      expect(
        await waitFor(async () => (await value("stash2plex_upstream_up", { upstream: "stash" })) === 0, 15_000, 250),
      ).toBe(true);
    } finally {
      w.stash.start();
    }
    expect(
      await waitFor(async () => (await value("stash2plex_upstream_up", { upstream: "stash" })) === 1, 15_000, 250),
    ).toBe(true);
  }, 40_000);
});

/** The files (links) under a folder, at any depth. */
const filesUnder = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce(
    (n, e) => n + (e.isDirectory() ? filesUnder(`${dir}/${e.name}`) : 1),
    0,
  );

describe("TV libraries and write-back", () => {
  const tvJob = () => w.app.scheduler.list().find((j) => j.id === "tv-sync");

  test("a TV library's shows, episodes, links made and last full pass; a failed pass is 0 until one succeeds", async () => {
    expect(await waitFor(() => Boolean(tvJob()?.lastSuccessAt), 60_000, 200)).toBe(true);
    const { samples } = await scrape();
    const one = (name: string, labels: Record<string, string> = {}) =>
      find(samples, name, { library: "sites", stash_instance: "default", ...labels })[0]?.value;
    const shows = one("stash2plex_tv_shows")!;
    expect(shows).toBeGreaterThan(0);
    expect(one("stash2plex_tv_episodes")!).toBeGreaterThanOrEqual(shows);
    // The first pass made every link in the folder and moved or removed none.
    expect(one("stash2plex_tv_last_sync_links", { change: "made" })).toBe(filesUnder(tvFolder));
    expect(filesUnder(tvFolder)).toBeGreaterThan(0);
    expect(one("stash2plex_tv_last_sync_links", { change: "moved" })).toBe(0);
    expect(one("stash2plex_tv_last_sync_links", { change: "removed" })).toBe(0);
    expect(one("stash2plex_tv_last_sync_ok")).toBe(1);
    const at = one("stash2plex_tv_last_sync_timestamp_seconds")!;
    expect(at).toBeGreaterThan(Date.now() / 1000 - 600);
    expect(at).toBeLessThanOrEqual(tvJob()!.lastSuccessAt! / 1000);

    // Stash down: the full pass fails, ok is 0 and the last good pass's time stays.
    await w.stash.stop();
    try {
      await w.app.scheduler.trigger("tv-sync");
      expect(
        await waitFor(async () => (await value("stash2plex_tv_last_sync_ok", { library: "sites" })) === 0, 20_000, 200),
      ).toBe(true);
      expect(await value("stash2plex_tv_last_sync_timestamp_seconds", { library: "sites" })).toBe(at);
    } finally {
      w.stash.start();
    }
    await waitFor(async () => (await value("stash2plex_upstream_up", { upstream: "stash" })) === 1, 15_000, 250);
    await w.app.scheduler.trigger("tv-sync");
    expect(
      await waitFor(async () => (await value("stash2plex_tv_last_sync_ok", { library: "sites" })) === 1, 20_000, 200),
    ).toBe(true);
    expect((await value("stash2plex_tv_last_sync_timestamp_seconds", { library: "sites" }))!).toBeGreaterThan(at);
    // A second pass over an unchanged Stash makes no link.
    expect(await value("stash2plex_tv_last_sync_links", { library: "sites", change: "made" })).toBe(0);
  }, 60_000);

  test("write-back: events in, applied and ignored (another Plex user); nothing waits; the stream connected and on", async () => {
    expect(await waitFor(async () => (await value("stash2plex_writeback_stream_connected")) === 1, 20_000, 200)).toBe(
      true,
    );
    expect(await value("stash2plex_writeback_stream_enabled")).toBe(1);

    w.pms.watch.webhooks = [`${w.app.url}/hooks/plex?token=${HOOK_TOKEN}`];
    const rk = [...w.pms.items.values()].find((i) => i.guid === `${IDENTIFIER}://movie/12`)!.ratingKey;
    w.pms.watch.view(rk); // the owner: written to Stash
    w.pms.watch.accounts.push({ id: 7, name: "guest", plexTvId: "7" });
    w.pms.watch.view(rk, { accountId: 7 }); // another account: ignored
    const sum = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
      find(samples, name, labels).reduce((n, s) => n + s.value, 0);
    expect(
      await waitFor(
        async () => {
          const { samples } = await scrape();
          return (
            sum(samples, "stash2plex_writeback_events_applied_total", { stash_instance: "default", wrote: "true" }) >
              0 && sum(samples, "stash2plex_writeback_events_ignored_total", { reason: "user" }) > 0
          );
        },
        20_000,
        200,
      ),
    ).toBe(true);
    expect(await waitFor(() => (w.stash.library.scenes.get("12")!.play_history ?? []).length > 0, 10_000)).toBe(true);
    const { samples } = await scrape();
    expect(sum(samples, "stash2plex_writeback_events_received_total", { source: "webhook" })).toBeGreaterThan(0);
    expect(
      await waitFor(
        async () => (await value("stash2plex_writeback_events_waiting", { stash_instance: "default" })) === 0,
      ),
    ).toBe(true);
    expect(sum(samples, "stash2plex_writeback_failures_total")).toBe(0);
  }, 40_000);

  test("the stream down while write-back is on: connected 0, enabled still 1 (what the alert tells apart from off)", async () => {
    await w.pms.stop();
    try {
      expect(await waitFor(async () => (await value("stash2plex_writeback_stream_connected")) === 0, 15_000, 200)).toBe(
        true,
      );
      expect(await value("stash2plex_writeback_stream_enabled")).toBe(1);
    } finally {
      w.pms.start();
    }
    expect(await waitFor(async () => (await value("stash2plex_writeback_stream_connected")) === 1, 40_000, 250)).toBe(
      true,
    );

    // Write-back off: both 0 (the alert stays quiet).
    const off = createApp(
      { ...w.app.config, writeback: { ...w.app.config.writeback, enabled: false } },
      { log: silentLogger },
    );
    try {
      const text = await off.metrics.text();
      expect(text).toContain("\nstash2plex_writeback_stream_connected 0\n");
      expect(text).toContain("\nstash2plex_writeback_stream_enabled 0\n");
    } finally {
      await off.stop();
    }
  }, 60_000);
});

describe("the Grafana dashboard and the alert rules use only exported metrics", () => {
  const root = join(import.meta.dir, "../..");
  /** Every stash2plex_*, process_* and nodejs_* name in a PromQL expression. */
  const namesIn = (expr: string) =>
    [...expr.matchAll(/\b((?:stash2plex|process|nodejs)_[a-zA-Z0-9_]+)/g)].map((m) => m[1]!);
  const dashboard = JSON.parse(readFileSync(join(root, "deploy/grafana/stash2plex.json"), "utf8"));
  const rules = parseYaml(readFileSync(join(root, "deploy/prometheus/alerts.yml"), "utf8")) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  const dashboardExprs: string[] = [
    ...dashboard.panels.flatMap((p: { targets?: { expr: string }[] }) => (p.targets ?? []).map((t) => t.expr)),
    ...dashboard.templating.list.map((v: { definition: string }) => v.definition),
  ];
  const ruleExprs = rules.groups.flatMap((g) => g.rules.map((r) => r.expr));

  test("every name is a sample of a running service's /metrics (a histogram's _bucket/_sum/_count of a histogram)", async () => {
    const used = new Set([...dashboardExprs, ...ruleExprs].flatMap(namesIn));
    expect(used.size).toBeGreaterThan(15);
    // Some traffic first, so labelled series (routes, upstreams) have samples.
    await fetch(`${w.app.url}/library/metadata/3`);
    const { samples, types } = await scrape();
    const sampled = new Set(samples.map((s) => s.name));
    const missing = [...used].filter((name) => {
      if (!sampled.has(name)) return true;
      const base = name.replace(/_(bucket|sum|count)$/, "");
      return base !== name && types.has(base) && types.get(base) !== "histogram";
    });
    expect(missing).toEqual([]);
  });

  test("the rules name every alert the issue asks for, and the dashboard every panel", () => {
    const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(alerts.sort()).toEqual([
      "Stash2plexChangeWaitingTooLong",
      "Stash2plexDeadLettersRising",
      "Stash2plexGapsFound",
      "Stash2plexPlexUnreachable",
      "Stash2plexReconcileNotRun",
      "Stash2plexStashUnreachable",
      "Stash2plexTvLibrarySyncFailing",
      "Stash2plexWritebackEventsWaiting",
      "Stash2plexWritebackFailing",
      "Stash2plexWritebackStreamDown",
    ]);
    const used = (prefix: string) => dashboardExprs.some((e) => e.includes(prefix));
    for (const name of [
      "stash2plex_queue_jobs",
      "stash2plex_pushes_total",
      "stash2plex_push_latency_seconds_bucket",
      'stash2plex_upstream_up{upstream="plex"',
      'stash2plex_upstream_up{upstream="stash"',
      "stash2plex_reconcile_gaps",
      "stash2plex_job_last_success_timestamp_seconds",
      "stash2plex_writeback_events_received_total",
      "stash2plex_writeback_events_applied_total",
      "stash2plex_writeback_events_ignored_total",
      "stash2plex_writeback_failures_total",
      "stash2plex_writeback_events_waiting",
      "stash2plex_writeback_stream_connected",
      "stash2plex_tv_shows",
      "stash2plex_tv_episodes",
      "stash2plex_tv_last_sync_timestamp_seconds",
      "stash2plex_tv_last_sync_ok",
      "stash2plex_tv_last_sync_links",
    ])
      expect([name, used(name)]).toEqual([name, true]);
  });
});
