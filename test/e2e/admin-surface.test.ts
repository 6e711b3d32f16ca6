/**
 * The admin surface locked like a product (issue 18, items 1–6), through the real service
 * over HTTP: cross-site writes refused (another port of the same host counts), server-side
 * sessions that sign-out, a new admin token and expiry end, a throttled sign-in, short admin
 * tokens refused at start, security headers on every dashboard page, and a /readyz that
 * tells strangers only what is up.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { ConfigError, loadConfig } from "../../src/config/load.ts";
import { createApp, type App, type AppOptions } from "../../src/app.ts";
import { createLogger } from "../../src/log.ts";
import { plexFilesFor } from "../../src/demo.ts";
import { ADMIN_TOKEN, adminAuth, IDENTIFIER, spawnMain, tempDir, testEnv } from "../helpers.ts";

const stash = new StashSim({ scenes: 30 }).start();
const pms = new PmsSim().start();
pms.addSection(
  { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
  plexFilesFor(stash),
);
const running: App[] = [];
const logLines: string[] = [];

afterEach(async () => {
  for (const a of running.splice(0)) await a.stop();
  logLines.length = 0;
});
afterAll(async () => {
  await pms.stop();
  await stash.stop();
});

/** The real service on a free port; `dataDir` again means a restart over the same database. */
async function start(options: { env?: Record<string, string>; dataDir?: string; app?: AppOptions } = {}) {
  const env = testEnv(stash, pms, { ...(options.dataDir ? { DATA_DIR: options.dataDir } : {}), ...options.env });
  const config = loadConfig(env, undefined);
  const log = createLogger({
    level: "debug",
    format: "json",
    write: (line) => logLines.push(line),
    secrets: [config.admin.token],
  });
  const app = createApp(config, { log, ...options.app });
  await app.start(0, "127.0.0.1");
  running.push(app);
  return app;
}

const form = (headers: Record<string, string>, body = "") => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  body,
  redirect: "manual" as const,
});

/** Signs in like the dashboard's form does (same-origin), returning the session cookie ("name=value"). */
async function signIn(app: App, token = ADMIN_TOKEN, extra: Record<string, string> = {}) {
  const res = await fetch(
    `${app.url}/ui/sign-in`,
    form({ origin: app.url!, "sec-fetch-site": "same-origin", ...extra }, `token=${encodeURIComponent(token)}`),
  );
  return { res, cookie: res.headers.get("set-cookie")?.split(";")[0] };
}

/** Dead letters written straight into the database, as if pushes had given up on them. */
function bury(app: App, sceneIds: string[]) {
  const insert = app.store.db.query(
    "INSERT INTO dead_letters (ref, reason, attempts, first_queued_at, died_at, last_error) VALUES ('default:scene:' || ?, 'test', 7, ?, ?, 'the Plex item is gone')",
  );
  for (const id of sceneIds) insert.run(id, Date.now() - 60_000, Date.now());
}

const status = async (app: App, cookie: string) =>
  (await fetch(`${app.url}/api/status`, { headers: { cookie } })).status;

describe("cross-site requests are refused", () => {
  test("a signed-in browser's cookie on a form from another port (or another site) gets 403 and changes nothing", async () => {
    const app = await start();
    bury(app, ["12"]);
    const { cookie } = await signIn(app);
    const port = Number(new URL(app.url!).port);
    const evil = `http://127.0.0.1:${port + 1}`;
    const attempts: Record<string, string>[] = [
      { origin: evil, "sec-fetch-site": "same-site" }, // another port of the same host: the same *site*
      { origin: evil }, // a browser without Sec-Fetch-Site
      { origin: "http://evil.example", "sec-fetch-site": "cross-site" },
      { origin: "null", "sec-fetch-site": "cross-site" }, // a sandboxed frame or a data: page
      { "sec-fetch-site": "same-site" },
      {}, // the session cookie with no Origin at all: not our page's form
    ];
    for (const headers of attempts) {
      const requeue = await fetch(`${app.url}/ui/actions/requeue`, form({ cookie: cookie!, ...headers }, "sceneId=12"));
      expect([headers, requeue.status]).toEqual([headers, 403]);
      expect(((await requeue.json()) as any).error.code).toBe("cross_site");
      // /api/sync with a body a page can send without CORS (no Content-Type, like a Blob).
      const sync = await fetch(`${app.url}/api/sync`, {
        method: "POST",
        headers: { cookie: cookie!, ...headers },
        body: '{"all":true}',
      });
      expect([headers, sync.status]).toEqual([headers, 403]);
      const out = await fetch(`${app.url}/ui/sign-out`, form({ cookie: cookie!, ...headers }, "everywhere=1"));
      expect([headers, out.status]).toEqual([headers, 403]);
    }
    expect(app.queue.deadLetters().map((d) => d.ref)).toEqual(["default:scene:12"]);
    expect(app.queue.pending()).toBe(0);
    expect(await status(app, cookie!)).toBe(200); // still signed in
    expect(logLines.some((l) => l.includes("cross-site request refused"))).toBe(true);

    // The dashboard's own form (same origin) works, and so does a script with the token and no Origin.
    const own = await fetch(
      `${app.url}/ui/actions/requeue`,
      form({ cookie: cookie!, origin: app.url!, "sec-fetch-site": "same-origin" }, "sceneId=12"),
    );
    expect([own.status, own.headers.get("location")?.startsWith("/ui/queue")]).toEqual([303, true]);
    expect(app.queue.deadLetters()).toEqual([]);
    const script = await fetch(`${app.url}/api/sync`, {
      method: "POST",
      headers: { ...adminAuth, "content-type": "application/json" },
      body: '{"sceneIds":["3"]}',
    });
    expect(script.status).toBe(202);
  }, 30_000);

  test("behind a reverse proxy the configured PUBLIC_URL is our origin; Plex's routes, the webhook and health stay open", async () => {
    const app = await start({ env: { PUBLIC_URL: "https://stash2plex.home.example" } });
    const { cookie } = await signIn(app, ADMIN_TOKEN, { origin: "https://stash2plex.home.example" });
    expect(cookie).toBeDefined();
    const proxied = await fetch(
      `${app.url}/ui/actions/requeue`,
      form({ cookie: cookie!, origin: "https://stash2plex.home.example", "sec-fetch-site": "same-origin" }),
    );
    expect(proxied.status).toBe(303);
    const other = await fetch(
      `${app.url}/ui/actions/requeue`,
      form({ cookie: cookie!, origin: "https://other.home.example", "sec-fetch-site": "same-site" }),
    );
    expect(other.status).toBe(403);
    // PMS posts matches without an Origin or a token; the webhook has its own token.
    const match = await fetch(`${app.url}/library/metadata/matches`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "http://evil.example" },
      body: '{"type":1,"filename":"x.mp4"}',
    });
    expect(match.status).toBe(200);
    expect((await fetch(`${app.url}/readyz`, { method: "GET" })).status).toBe(200);
  }, 30_000);
});

describe("sessions", () => {
  test("sign-out ends the session server-side: the old cookie replayed gets 401", async () => {
    const app = await start();
    const { cookie } = await signIn(app);
    expect(await status(app, cookie!)).toBe(200);
    const out = await fetch(`${app.url}/ui/sign-out`, form({ cookie: cookie!, origin: app.url! }));
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    expect(await status(app, cookie!)).toBe(401);
    expect(
      (await fetch(`${app.url}/ui`, { headers: { cookie: cookie! }, redirect: "manual" })).headers.get("location"),
    ).toBe("/ui/sign-in");
    // Two sign-ins are two different random sessions; the database keeps neither id.
    const a = (await signIn(app)).cookie!;
    const b = (await signIn(app)).cookie!;
    expect(a).not.toBe(b);
    const rows = JSON.stringify(app.store.db.query("SELECT * FROM sessions").all());
    for (const c of [a, b]) expect(rows).not.toContain(c.split("=")[1]!);
  }, 30_000);

  test("sessions survive a restart with the same token; a new ADMIN_TOKEN ends every one", async () => {
    const dataDir = tempDir();
    let app = await start({ dataDir });
    const one = (await signIn(app)).cookie!;
    const two = (await signIn(app)).cookie!;
    await app.stop();
    running.length = 0;
    app = await start({ dataDir });
    expect(await status(app, one)).toBe(200);
    expect(await status(app, two)).toBe(200);
    await app.stop();
    running.length = 0;
    const NEW_TOKEN = "a-brand-new-admin-token-0001";
    app = await start({ dataDir, env: { ADMIN_TOKEN: NEW_TOKEN } });
    expect(await status(app, one)).toBe(401);
    expect(await status(app, two)).toBe(401);
    expect(app.access.sessions()).toEqual([]);
    expect((await signIn(app, NEW_TOKEN)).res.status).toBe(303);
  }, 30_000);

  test("the settings page lists the signed-in browsers; sign out everywhere ends them all; a session expires", async () => {
    let clock = Date.now();
    const app = await start({ app: { sessionClock: () => clock } });
    const phone = (await signIn(app, ADMIN_TOKEN, { "user-agent": "Phone Browser/1.0" })).cookie!;
    const laptop = (await signIn(app, ADMIN_TOKEN, { "user-agent": "Laptop Browser/2.0" })).cookie!;
    const settings = await (await fetch(`${app.url}/ui/settings`, { headers: { cookie: laptop } })).text();
    expect(settings).toContain("Signed-in browsers");
    expect(settings).toContain("Phone Browser/1.0");
    expect(settings).toContain("Laptop Browser/2.0");
    expect(settings).toContain("127.0.0.1");
    expect(settings).toContain("(this browser)");
    expect(settings).not.toContain(laptop.split("=")[1]!);
    const everywhere = await fetch(
      `${app.url}/ui/sign-out`,
      form({ cookie: laptop, origin: app.url! }, "everywhere=1"),
    );
    expect(everywhere.status).toBe(303);
    expect(await status(app, phone)).toBe(401);
    expect(await status(app, laptop)).toBe(401);
    // Expiry: 30 days after sign-in a session is over, however often it is used.
    const fresh = (await signIn(app)).cookie!;
    const signedInAt = clock;
    // Used every 6 days or so (never idle), up to day 29: still open; day 31: over.
    for (const day of [6, 12, 18, 24, 29]) {
      clock = signedInAt + day * 86_400_000;
      expect(await status(app, fresh)).toBe(200);
    }
    clock = signedInAt + 31 * 86_400_000;
    expect(await status(app, fresh)).toBe(401);
    // Idle: one unused for more than 7 days (ADMIN_SESSION_IDLE_HOURS) is over, and no longer listed.
    const forgotten = (await signIn(app, ADMIN_TOKEN, { "user-agent": "Library Computer/1.0" })).cookie!;
    const used = (await signIn(app)).cookie!;
    clock += 4 * 86_400_000;
    expect(await status(app, used)).toBe(200);
    clock += 3.5 * 86_400_000;
    expect(app.access.sessions().map((s) => s.userAgent)).not.toContain("Library Computer/1.0");
    expect(await status(app, forgotten)).toBe(401);
    expect(await status(app, used)).toBe(200);
  }, 30_000);

  test("the session cookie is HttpOnly, SameSite=Strict, and Secure when the browser came over https", async () => {
    const app = await start();
    const plain = (await signIn(app)).res.headers.get("set-cookie")!;
    expect(plain).toContain("HttpOnly");
    expect(plain).toContain("SameSite=Strict");
    expect(plain).not.toContain("Secure");
    const tls = (await signIn(app, ADMIN_TOKEN, { "x-forwarded-proto": "https" })).res.headers.get("set-cookie")!;
    expect(tls).toContain("; Secure");
  });
});

describe("sign-in is throttled", () => {
  test("20 wrong tokens in a minute: 401 five times, then 429 with Retry-After; the right token works after the wait", async () => {
    const app = await start({ app: { signInThrottle: { lockMs: 1500 } } });
    const typed = "wrong-guess-number-";
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 20; i++) {
      const { res } = await signIn(app, `${typed}${i}`);
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get("retry-after");
    }
    expect(statuses).toEqual([...Array(5).fill(401), ...Array(15).fill(429)]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // During the lock even the right token is refused (guessing it then gains nothing).
    expect((await signIn(app)).res.status).toBe(429);
    await Bun.sleep(1600);
    const { res, cookie } = await signIn(app);
    expect(res.status).toBe(303);
    expect(await status(app, cookie!)).toBe(200);
    // Every failure is logged with the client's address, never with what was typed.
    const failures = logLines.filter((l) => l.includes("sign-in failed"));
    expect(failures.length).toBe(5);
    for (const line of failures) expect(JSON.parse(line).client).toBe("127.0.0.1");
    expect(logLines.filter((l) => l.includes("sign-in refused")).length).toBe(16);
    expect(logLines.join("\n")).not.toContain(typed);
    expect(logLines.join("\n")).not.toContain(ADMIN_TOKEN);
  }, 30_000);
});

describe("behind a reverse proxy (ADMIN_TRUSTED_PROXIES)", () => {
  const wrong = (app: App, from?: string) =>
    signIn(app, "wrong-guess-behind-proxy", from ? { "x-forwarded-for": from } : {});

  test("each client the proxy forwards has its own count: one guessing is locked out, the others still sign in", async () => {
    // Named by its network, as a Docker network's proxy is (its address may change).
    const app = await start({ env: { ADMIN_TRUSTED_PROXIES: "127.0.0.0/8" } });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await wrong(app, "203.0.113.5")).res.status);
    expect(statuses).toEqual([...Array(5).fill(401), 429]);
    // Another client behind the same proxy: its own count, and the right token works.
    expect((await wrong(app, "198.51.100.7")).res.status).toBe(401);
    expect((await signIn(app, ADMIN_TOKEN, { "x-forwarded-for": "198.51.100.7" })).res.status).toBe(303);
    // A made-up entry left of the real client (as a client may send) does not give the locked one a new count.
    expect((await signIn(app, ADMIN_TOKEN, { "x-forwarded-for": "10.9.9.9, 203.0.113.5" })).res.status).toBe(429);
    const failures = logLines.filter((l) => l.includes("sign-in failed")).map((l) => JSON.parse(l).client);
    expect(failures).toContain("203.0.113.5");
    expect(failures).toContain("198.51.100.7");
  });

  test("without it, X-Forwarded-For is ignored: changing it does not escape the lock", async () => {
    const app = await start();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await wrong(app, `203.0.113.${i}`)).res.status);
    expect(statuses).toEqual([...Array(5).fill(401), 429]);
  });

  test("an entry that is not an IP address is refused at start, named", () => {
    let error: unknown;
    try {
      loadConfig(testEnv(stash, pms, { ADMIN_TRUSTED_PROXIES: "127.0.0.1,proxy.lan" }), undefined);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toContain(
      'admin.trustedProxies: "proxy.lan" is not an IP address or range',
    );
  });
});

describe("admin token strength", () => {
  test("an ADMIN_TOKEN shorter than 16 characters is refused at start with one line (never showing it)", async () => {
    let error: unknown;
    try {
      loadConfig(testEnv(stash, pms, { ADMIN_TOKEN: "short-secret" }), undefined);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.length).toBe(1);
    expect(problems[0]).toContain("admin.token: shorter than 16 characters");
    expect(problems[0]).not.toContain("short-secret");
    expect(() => loadConfig(testEnv(stash, pms, { ADMIN_TOKEN: "sixteen-chars-ok" }), undefined)).not.toThrow();

    const proc = spawnMain(testEnv(stash, pms, { ADMIN_TOKEN: "short-secret", LISTEN_PORT: "1" }));
    expect(await proc.exited).toBe(2);
    const stderr = await new Response(proc.stderr).text();
    expect(stderr).toContain("admin.token: shorter than 16 characters");
    expect(stderr).not.toContain("short-secret");
  }, 30_000);
});

const PAGES = [
  "/ui",
  "/ui/queue",
  "/ui/outages",
  "/ui/gaps",
  "/ui/paths?path=/media/Scenes/x.mp4",
  "/ui/jobs",
  "/ui/settings",
  "/ui/scenes/3",
  "/ui/sign-in",
  "/ui/live/overview",
  "/ui/live/sync",
];

describe("headers and /readyz", () => {
  test("every dashboard page (GET and HEAD, signed in or not) carries CSP, frame, nosniff and referrer headers", async () => {
    const app = await start();
    const { cookie } = await signIn(app);
    for (const path of PAGES) {
      for (const [method, headers] of [
        ["GET", { cookie: cookie! }],
        ["HEAD", { cookie: cookie! }],
        ["GET", {}],
      ] as const) {
        const res = await fetch(`${app.url}${path}`, { method, headers, redirect: "manual" });
        const h = res.headers;
        const seen = [
          path,
          method,
          h.get("content-security-policy"),
          h.get("x-frame-options"),
          h.get("x-content-type-options"),
          h.get("referrer-policy"),
        ];
        expect(seen).toEqual([
          path,
          method,
          expect.stringContaining("frame-ancestors 'none'"),
          "DENY",
          "nosniff",
          "same-origin",
        ]);
        const csp = h.get("content-security-policy")!;
        expect(csp).toContain("script-src 'self'");
        expect(csp).not.toContain("unsafe-inline");
      }
    }
    // The refusals carry them too.
    const refused = await fetch(`${app.url}/ui/actions/requeue`, form({ origin: "http://evil.example" }));
    expect([refused.status, refused.headers.get("x-frame-options")]).toEqual([403, "DENY"]);
  }, 30_000);

  test("/readyz without the token says only what is up; with it, the details", async () => {
    const app = await start();
    const open = await fetch(`${app.url}/readyz`);
    expect(open.status).toBe(200);
    const text = await open.text();
    expect(JSON.parse(text)).toEqual({
      ok: true,
      checks: { stash: { ok: true }, database: { ok: true }, plex: { ok: true } },
    });
    expect(text).not.toContain("/");
    expect(text).not.toContain("http");
    expect(text).not.toContain(app.config.dataDir);
    const detailed = (await (await fetch(`${app.url}/readyz`, { headers: adminAuth })).json()) as any;
    expect(detailed.checks.database.detail).toContain(app.config.dataDir);
    expect(detailed.checks.stash.detail).toContain("Stash");
    // Plex down: strangers learn which part fails, not why.
    await pms.stop();
    const app2 = await start();
    const down = await fetch(`${app2.url}/readyz`);
    expect(down.status).toBe(503);
    const downText = await down.text();
    expect(JSON.parse(downText).checks.plex).toEqual({ ok: false });
    expect(downText).not.toContain("http");
    pms.start();
  }, 30_000);
});
