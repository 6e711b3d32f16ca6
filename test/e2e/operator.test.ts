/**
 * The operator surface's rules: the admin token guards every action (the webhook token does
 * not open them), reads need it unless ADMIN_OPEN_READS, no page or answer holds a secret,
 * PMS still reads the provider document byte for byte, and /metrics parses and moves.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import parsePrometheus from "parse-prometheus-text-format";
import {
  ADMIN_TOKEN,
  adminAuth,
  IDENTIFIER,
  post,
  startWorld,
  waitFor,
  WEBHOOK_TOKEN,
  type World,
  scene,
} from "../helpers.ts";
import { VERSION } from "../../src/version.ts";

let w: World;
beforeAll(async () => {
  w = await startWorld({
    env: { SYNC_SWEEP_SECONDS: "1", SYNC_DRAIN_PER_SECOND: "2000", STASH_API_KEY: "stash-secret-key-789" },
  });
  w.stash.faults.apiKey = "stash-secret-key-789";
  await w.pms.scan("1", { concurrency: 8 });
  await w.app.plexIndex.refresh(await w.app.plex.sections());
});
afterAll(() => w.close());

const webhook = { authorization: `Bearer ${WEBHOOK_TOKEN}` };
const form = (headers: Record<string, string>, body = "") => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  body,
  redirect: "manual" as const,
});

const WRITES: [string, string, string][] = [
  ["POST", "/api/dead-letters/requeue", "{}"],
  ["POST", "/api/jobs/plex-index/run", ""],
  ["POST", "/api/reconcile", "{}"],
  ["POST", "/api/sync", '{"sceneIds":["3"]}'],
  ["POST", "/ui/actions/requeue", ""],
  ["POST", "/ui/actions/jobs/plex-index", ""],
  ["POST", "/ui/actions/reconcile", "heal=none"],
  ["POST", "/ui/actions/sync", "scope=7d"],
];

describe("who may do what", () => {
  test("every write route refuses without the admin token and with the webhook token (401), and works with the admin token", async () => {
    for (const [method, path, body] of WRITES) {
      const type = path.startsWith("/ui/") ? "application/x-www-form-urlencoded" : "application/json";
      const send = (headers: Record<string, string>) =>
        fetch(`${w.app.url}${path}`, {
          method,
          body,
          redirect: "manual",
          headers: { "content-type": type, ...headers },
        });
      expect([path, (await send({})).status]).toEqual([path, 401]);
      expect([path, (await send(webhook)).status]).toEqual([path, 401]);
      const ok = (await send(adminAuth)).status;
      expect([path, ok < 400]).toEqual([path, true]);
      await waitFor(() => !w.app.reconciler.running, 10_000);
    }
  }, 60_000);

  test("reads need the admin token (or a signed-in browser); the webhook token does not open them", async () => {
    for (const path of ["/api/status", "/api/scenes/3", "/api/reconcile", "/api/paths/suggest"]) {
      expect([path, (await fetch(`${w.app.url}${path}`)).status]).toEqual([path, 401]);
      expect([path, (await fetch(`${w.app.url}${path}`, { headers: webhook })).status]).toEqual([path, 401]);
      expect([path, (await fetch(`${w.app.url}${path}`, { headers: adminAuth })).status]).toEqual([path, 200]);
    }
    expect((await fetch(`${w.app.url}/ui`, { redirect: "manual" })).headers.get("location")).toBe("/ui/sign-in");
    const signIn = await fetch(`${w.app.url}/ui/sign-in`, form({}, `token=${ADMIN_TOKEN}`));
    const cookie = signIn.headers.get("set-cookie")!;
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect((await fetch(`${w.app.url}/api/status`, { headers: { cookie: cookie.split(";")[0]! } })).status).toBe(200);
    expect((await fetch(`${w.app.url}/ui/sign-in`, form({}, "token=wrong"))).status).toBe(401);
    // What PMS, the container runtime and Prometheus use stays open.
    for (const path of ["/", "/healthz", "/readyz", "/metrics", "/library/metadata/3"])
      expect([path, (await fetch(`${w.app.url}${path}`)).status]).toEqual([path, 200]);
  });

  test("no page or API answer holds a secret", async () => {
    const cookie = (await fetch(`${w.app.url}/ui/sign-in`, form({}, `token=${ADMIN_TOKEN}`))).headers
      .get("set-cookie")!
      .split(";")[0]!;
    const pages = [
      "/ui",
      "/ui/queue",
      "/ui/outages",
      "/ui/gaps",
      "/ui/paths?path=/media/Scenes/x.mp4",
      "/ui/jobs",
      "/ui/settings",
      "/ui/scenes/3",
      "/ui/live/overview",
    ];
    const apis = ["/api/status", "/api/scenes/3", "/api/reconcile", "/api/paths/suggest", "/metrics", "/readyz"];
    const texts = await Promise.all(
      [...pages, ...apis].map(async (p) =>
        (await fetch(`${w.app.url}${p}`, { headers: { cookie, ...adminAuth } })).text(),
      ),
    );
    const all = texts.join("\n");
    expect(all).toContain("sync.webhookToken"); // the settings page lists the secret settings…
    for (const secret of [ADMIN_TOKEN, WEBHOOK_TOKEN, w.pms.token, "stash-secret-key-789", cookie.split("=")[1]!])
      expect(all).not.toContain(secret);
  });

  test("the provider document PMS reads at / is byte for byte what it was; a browser is sent to the dashboard", async () => {
    const document = JSON.stringify({
      MediaProvider: {
        identifier: IDENTIFIER,
        title: "Stash",
        version: VERSION,
        Types: [{ type: 1, Scheme: [{ scheme: IDENTIFIER }] }],
        Feature: [
          { type: "metadata", key: "/library/metadata" },
          { type: "match", key: "/library/metadata/matches" },
          { type: "collection", key: "/library/collections" },
        ],
      },
    });
    for (const accept of ["application/json", "application/xml", "*/*", ""]) {
      const res = await fetch(`${w.app.url}/`, { headers: accept ? { accept } : {} });
      expect([accept, res.status, await res.text()]).toEqual([accept, 200, document]);
    }
    const browser = await fetch(`${w.app.url}/`, {
      headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" },
      redirect: "manual",
    });
    expect([browser.status, browser.headers.get("location")]).toEqual([303, "/ui"]);
  });
});

describe("/metrics", () => {
  let lastText = "";
  const scrape = async () => {
    const res = await fetch(`${w.app.url}/metrics`);
    expect(res.headers.get("content-type")).toContain("text/plain");
    lastText = await res.text();
    return new Map(parsePrometheus(lastText).map((f) => [f.name, f]));
  };
  /** A labelled histogram's count, read from the text (the parser keeps no labels on histograms). */
  const countOf = (text: string, name: string, label: string) =>
    Number(new RegExp(`^${name}_count\\{${label}\\} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
  const value = (
    families: Map<string, ReturnType<typeof parsePrometheus>[number]>,
    name: string,
    labels: Record<string, string> = {},
  ) => {
    const m = families.get(name)?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
    return Number(m?.value ?? m?.count ?? 0);
  };

  test("parses as Prometheus text, and its counters move when work happens", async () => {
    const before = await scrape();
    const beforeText = lastText;
    for (const name of [
      "stash2plex_queue_jobs",
      "stash2plex_breaker_state",
      "stash2plex_index_entries",
      "stash2plex_pushes_total",
      "stash2plex_push_latency_seconds",
      "stash2plex_http_requests_total",
      "stash2plex_upstream_request_seconds",
    ]) {
      expect([name, before.has(name)]).toEqual([name, true]);
    }
    expect(value(before, "stash2plex_breaker_state", { state: "closed" })).toBe(1);
    expect(value(before, "stash2plex_index_entries", { index: "stash_scenes" })).toBe(w.stash.library.scenes.size);

    w.stash.library.update("7", { title: "Counted" });
    await post(`${w.app.url}/hooks/stash`, { sceneIds: ["7"] }, webhook);
    await waitFor(() => w.app.queue.history(scene("7")).some((h) => h.event === "delivered"), 10_000);
    await post(`${w.app.url}/library/metadata/matches`, { type: 1, filename: "Scenes/nothing/here.mp4" });
    const after = await scrape();
    expect(value(after, "stash2plex_pushes_total", { result: "refreshed" })).toBeGreaterThan(
      value(before, "stash2plex_pushes_total", { result: "refreshed" }),
    );
    const latency = (text: string) => countOf(text, "stash2plex_push_latency_seconds", 'stash_instance="default"');
    expect(latency(lastText)).toBeGreaterThan(latency(beforeText));
    const matches = { route: "/library/metadata/matches", status: "200" };
    expect(value(after, "stash2plex_http_requests_total", matches)).toBeGreaterThan(
      value(before, "stash2plex_http_requests_total", matches),
    );
    const plexCalls = (text: string) => countOf(text, "stash2plex_upstream_request_seconds", 'upstream="plex"');
    expect(plexCalls(lastText)).toBeGreaterThan(plexCalls(beforeText));
    // Each Stash's calls carry its instance (the one Stash here is the default).
    expect(
      countOf(lastText, "stash2plex_upstream_request_seconds", 'upstream="stash",stash_instance="default"'),
    ).toBeGreaterThan(0);
  });
});
