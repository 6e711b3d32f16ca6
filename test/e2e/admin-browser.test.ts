/**
 * The admin surface in a real Chromium (issue 18's acceptance): a page served on another port
 * of the same host — the same *site*, so the SameSite=Strict session cookie goes along — posts
 * forms to the dashboard's retry action and to /api/sync: 403, and the queue is unchanged; the
 * same retry from the dashboard works. Every page runs under the Content-Security-Policy with
 * no violation and its live parts still update; signing out ends the session for good.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page, Response as PwResponse } from "playwright-core";
import { ADMIN_TOKEN, startWorld, type World, scene } from "../helpers.ts";
import { browserAvailable, launch } from "../browser.ts";

const available = browserAvailable("the admin surface browser tests");
let w: World;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let evil: ReturnType<typeof Bun.serve>;
const violations: string[] = [];

/** A page of another web app on this host: forms that post to stash2plex, and a no-cors fetch. */
const evilPage = (target: string) => `<!doctype html><html><body><h1>Win a prize</h1>
<form id="retry" method="post" action="${target}/ui/actions/dead-letters/retry"><input name="one" value="12"><button>retry</button></form>
<form id="requeue" method="post" action="${target}/ui/actions/requeue"><input name="sceneId" value="12"><button>requeue</button></form>
<form id="sync" method="post" action="${target}/api/sync" enctype="text/plain"><input name='{"all":true,"x":"' value='"}'><button>sync</button></form>
<script>window.blobSync = () => fetch(${JSON.stringify(`${target}/api/sync`)}, { method: "POST", mode: "no-cors", credentials: "include", body: new Blob(['{"all":true}']) });</script>
</body></html>`;

function bury(sceneId: string) {
  w.app.store.db
    .query(
      "INSERT INTO dead_letters (ref, reason, attempts, first_queued_at, died_at, last_error) VALUES ('default:scene:' || ?, 'test', 7, ?, ?, 'the Plex item is gone')",
    )
    .run(sceneId, Date.now() - 60_000, Date.now());
}

/** Submits a form of the evil page and returns stash2plex's answer to it. */
async function submitEvil(formId: string, path: string): Promise<PwResponse> {
  const answer = page.waitForResponse(
    (r) => r.url().startsWith(`${w.app.url}${path}`) && r.request().method() === "POST",
  );
  await page.goto(evil.url.href);
  await page.locator(`#${formId} button`).click();
  return answer;
}

describe.skipIf(!available)("admin surface in Chromium", () => {
  beforeAll(async () => {
    w = await startWorld({ env: { SYNC_SWEEP_SECONDS: "1", SYNC_DRAIN_PER_SECOND: "2000" } });
    await w.pms.scan("1", { concurrency: 8 });
    await w.app.plexIndex.refresh(await w.app.plex.sections());
    bury("12");
    evil = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () => new Response(evilPage(w.app.url!), { headers: { "content-type": "text/html" } }),
    });
    browser = await launch();
    context = await browser.newContext();
    page = await context.newPage();
    page.on(
      "console",
      (m) =>
        void (/Content.Security.Policy|Refused to/i.test(m.text()) && violations.push(`${page.url()}: ${m.text()}`)),
    );
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await evil?.stop(true);
    await w?.close();
  });

  test("sign in; a page on another port posts to the retry action and /api/sync: 403, the queue unchanged", async () => {
    await page.goto(`${w.app.url}/ui/sign-in`);
    await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    expect(page.url()).toEndWith("/ui");
    expect(new URL(evil.url.href).port).not.toBe(new URL(w.app.url!).port);

    for (const [formId, path] of [
      ["retry", "/ui/actions/dead-letters/retry"],
      ["requeue", "/ui/actions/requeue"],
      ["sync", "/api/sync"],
    ] as const) {
      const res = await submitEvil(formId, path);
      expect([formId, res.status()]).toEqual([formId, 403]);
      expect(await res.text()).toContain("cross_site");
    }
    // A script on that page (no-cors, a body with no Content-Type) fares no better.
    await page.goto(evil.url.href);
    const blob = page.waitForResponse((r) => r.url() === `${w.app.url}/api/sync`);
    await page.evaluate("window.blobSync()");
    expect((await blob).status()).toBe(403);

    expect(w.app.queue.deadLetters().map((d) => d.ref)).toEqual(["default:scene:12"]);
    expect(w.app.queue.pending()).toBe(0);
    expect(w.app.queue.history(scene("12")).filter((h) => h.event === "requeue" || h.event === "queued")).toEqual([]);
  }, 60_000);

  test("the same retry from the dashboard works", async () => {
    await page.goto(`${w.app.url}/ui/queue`);
    await page.getByRole("button", { name: /^(Requeue|Retry) scene 12$/ }).click();
    await page.locator(".notice").first().waitFor({ timeout: 10_000 });
    expect(await page.locator(".notice").first().innerText()).toMatch(/1 scene\(s\)|queued again|retry/i);
    expect(w.app.queue.deadLetters()).toEqual([]);
  }, 30_000);

  test("every page works under the Content-Security-Policy (no violation) and its live parts update", async () => {
    const fragments: string[] = [];
    page.on("response", (r) => void (r.url().includes("/ui/live/") && r.status() === 200 && fragments.push(r.url())));
    for (const path of [
      "/ui",
      "/ui/queue",
      "/ui/outages",
      "/ui/gaps",
      "/ui/paths?path=/media/Scenes/x.mp4",
      "/ui/jobs",
      "/ui/settings",
      "/ui/scenes/12",
    ]) {
      const res = await page.goto(`${w.app.url}${path}`);
      expect([path, res!.status()]).toEqual([path, 200]);
      expect(res!.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
    }
    await page.goto(`${w.app.url}/ui`);
    // No TV library configured: the card says so (and how to set one up) rather than being absent.
    expect(await page.locator("#tv-card").innerText()).toContain("none configured (TV_LIBRARIES)");
    await page.waitForTimeout(2500);
    expect(fragments.length).toBeGreaterThan(0); // htmx (served by us) runs and polls
    expect(violations).toEqual([]);
    // The settings page lists this browser's session.
    await page.goto(`${w.app.url}/ui/settings`);
    expect(await page.locator("#sessions + *").innerText()).toContain("this browser");
  }, 30_000);

  test("a framing page gets nothing: frame-ancestors 'none'", async () => {
    const framed = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () =>
        new Response(`<iframe id="f" src="${w.app.url}/ui/sign-in"></iframe>`, {
          headers: { "content-type": "text/html" },
        }),
    });
    try {
      await page.goto(framed.url.href);
      await page.waitForTimeout(500);
      const frame = page.frames().find((f) => f.url().includes("/ui/sign-in"));
      const hasForm = frame
        ? await frame
            .locator("form")
            .count()
            .catch(() => 0)
        : 0;
      expect(hasForm).toBe(0);
    } finally {
      await framed.stop(true);
    }
  }, 30_000);

  test("sign out, then the old cookie replayed gets 401", async () => {
    await page.goto(`${w.app.url}/ui`);
    const cookie = (await context.cookies(w.app.url!)).find((c) => c.name === "s2p_session")!;
    expect(cookie).toBeDefined();
    await page.getByRole("button", { name: "Sign out" }).click();
    expect(page.url()).toEndWith("/ui/sign-in");
    const replay = await fetch(`${w.app.url}/api/status`, { headers: { cookie: `${cookie.name}=${cookie.value}` } });
    expect(replay.status).toBe(401);
  }, 30_000);
});
