/**
 * The dashboard in a real headless Chromium, against the simulators: sign in, a green
 * overview, retry a dead letter, the path tester, a sync-all to 100%, every page saved as a
 * screenshot (checked not blank), then Plex stops and the overview turns red with the reason.
 * Then the acceptance walk of issue 17: the service stops → "connection lost" within one
 * refresh interval, and recovers when it is back; the session ends → "signed out"; 10,000
 * dead letters → paged, titles shown, all discarded → 0; every page at 360 px wide without
 * horizontal scroll, a very long title included.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { ADMIN_TOKEN, post, startWorld, waitFor, WEBHOOK_TOKEN, type World } from "../helpers.ts";
import { browserAvailable, distinctColours, launch, SCREENSHOTS } from "../browser.ts";
import { createApp, type App } from "../../src/app.ts";
import { silentLogger } from "../../src/log.ts";
import { REFRESH_SECONDS } from "../../src/ui/html.ts";

const available = browserAvailable("the dashboard browser tests");
let w: World;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** The service started again after the stop test (the world's own is stopped by then). */
let restarted: App | undefined;
const LONG_TITLE = `The ${"very".repeat(30)}longtitlewithoutanyspaceatall ${"and then many more words ".repeat(8)}end`;
/** One refresh interval, and a little for the request and the browser. */
const ONE_INTERVAL_MS = REFRESH_SECONDS * 1000 + 1500;
let deletedItem: import("../../sim/plex/server.ts").SimItem;
const secrets = [ADMIN_TOKEN, WEBHOOK_TOKEN, "plex-sim-token"];

/** Waits for the element, then checks its text (bun's expect has no locator matchers). */
async function sees(locator: Locator, text: string) {
  await locator.first().waitFor({ timeout: 10_000 });
  expect(await locator.first().innerText()).toContain(text);
}

/**
 * Elements in the page whose content is cut off at their own edge (an inner sideways scroll
 * hides it); form fields aside, and what is hidden on purpose for screen readers (1 px wide).
 */
const clipped = () =>
  page.evaluate(() => {
    const g = globalThis as unknown as {
      document: {
        querySelectorAll(s: string): Iterable<{
          matches(s: string): boolean;
          scrollWidth: number;
          clientWidth: number;
          tagName: string;
          id: string;
        }>;
      };
      getComputedStyle(e: unknown): { overflowX: string };
    };
    return [...g.document.querySelectorAll("main *")]
      .filter(
        (e) =>
          !e.matches("input, textarea, select") &&
          e.clientWidth > 1 &&
          /auto|scroll|hidden|clip/.test(g.getComputedStyle(e).overflowX) &&
          e.scrollWidth > e.clientWidth + 1,
      )
      .map((e) => `${e.tagName}#${e.id}`);
  });

/** The page's full width (document.scrollingElement.scrollWidth): above the viewport's means a horizontal scroll. */
const pageWidth = () =>
  page.evaluate(
    () =>
      (globalThis as unknown as { document: { scrollingElement: { scrollWidth: number } } }).document.scrollingElement
        .scrollWidth,
  );

async function shot(name: string) {
  const file = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  expect(distinctColours(file)).toBeGreaterThan(20);
  const text = await page.content();
  for (const s of secrets) expect(text).not.toContain(s);
  return file;
}

describe.skipIf(!available)("dashboard in Chromium", () => {
  beforeAll(async () => {
    w = await startWorld({
      env: {
        SYNC_RETRY_BASE_SECONDS: "0.05",
        SYNC_RETRY_CAP_SECONDS: "0.4",
        SYNC_SWEEP_SECONDS: "1",
        SYNC_DRAIN_PER_SECOND: "2000",
      },
    });
    await w.pms.scan("1", { concurrency: 8 });
    await w.app.plexIndex.refresh(await w.app.plex.sections());
    // A dead letter: scene 12's item was deleted in Plex.
    deletedItem = [...w.pms.items.values()].find((i) => i.guid.endsWith("/movie/12"))!;
    w.pms.items.delete(deletedItem.ratingKey);
    await post(`${w.app.url}/hooks/stash`, { sceneIds: ["12"] }, { authorization: `Bearer ${WEBHOOK_TOKEN}` });
    await waitFor(() => w.app.queue.deadLetters().length === 1);
    browser = await launch();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await restarted?.stop();
    await w?.close();
  });

  test("sign in, and the overview is green against the simulators", async () => {
    await page.goto(`${w.app.url}/`);
    expect(page.url()).toEndWith("/ui/sign-in");
    await shot("sign-in");
    await page.getByLabel("Admin token").fill("wrong");
    await page.getByRole("button", { name: "Sign in" }).click();
    await sees(page.getByRole("alert"), "not the admin token");
    await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    expect(page.url()).toEndWith("/ui");
    // The dead letter makes it amber; requeueing it is the next test. Stash and Plex answer.
    await page.waitForSelector(".headline[data-level]");
    expect(await page.locator(".headline").getAttribute("data-level")).toBe("amber");
    expect(await page.locator(".headline").innerText()).toContain("1 push gave up");
    await shot("overview-amber");
  }, 30_000);

  test("queue: the dead letter with its reason and title; retry it", async () => {
    await page.getByRole("link", { name: "Queue" }).click();
    await sees(page.locator("#dead-letters"), "the Plex item is gone");
    await sees(page.locator("#dead-letters"), w.stash.library.scenes.get("12")!.title!);
    await shot("queue");
    // The cause is fixed (the item is back in Plex), then the push is retried from the page.
    w.pms.items.set(deletedItem.ratingKey, deletedItem);
    await page.getByRole("button", { name: "Retry scene 12" }).click();
    await sees(page.locator(".notice"), "1 scene queued again");
    await page.getByRole("link", { name: "12" }).first().click();
    await sees(page.locator(".timeline"), "requeue");
    await shot("scene-timeline");
  }, 30_000);

  test("path tester: a Plex path through the rules both ways, and the ladder rung by rung", async () => {
    const file = w.stash.library.scenes.get("5")!.files[0]!.path;
    const plexPath = w.files.find((f) => f.endsWith(file.split(/[\\/]/).at(-1)!))!;
    await page.getByRole("link", { name: "Path tester" }).click();
    await page.getByLabel(/A path as Plex or Stash sees it/).fill(plexPath);
    await page.getByRole("button", { name: "Test" }).click();
    await sees(page.locator("#to-stash"), file);
    await sees(page.locator("#ladder"), "path (through the rules)");
    await sees(page.locator("#answer"), "scene 5");
    await shot("path-tester");
  }, 30_000);

  test("jobs: start a sync of all scenes and watch its progress reach 100%", async () => {
    await page.getByRole("link", { name: "Jobs" }).click();
    await shot("jobs");
    await page.getByRole("button", { name: "Sync all scenes" }).click();
    await sees(page.locator(".notice"), "scenes queued");
    await page.locator("#sync-share", { hasText: /^100%$/ }).waitFor({ timeout: 30_000 }); // no string eval: the CSP forbids it
    await shot("sync-done");
  }, 45_000);

  test("outages, gaps and settings render; the settings show no secret", async () => {
    for (const [link, name] of [
      ["Outages", "outages"],
      ["Gaps", "gaps"],
      ["Settings", "settings"],
    ] as const) {
      await page.getByRole("link", { name: link, exact: true }).click();
      await shot(name);
    }
    await sees(page.locator("main"), "sync.webhookToken");
    await sees(page.locator("main"), '"(set)"');
    await page.getByRole("link", { name: "Overview" }).click();
    await page.locator('.headline[data-level="green"]').waitFor({ timeout: 15_000 });
    expect(await page.locator(".headline").innerText()).toContain("All is well");
  }, 30_000);

  test("Plex stops: the overview turns red with the reason, without reloading the page", async () => {
    await page.getByRole("link", { name: "Overview" }).click();
    await w.pms.stop();
    const started = Date.now();
    await page.locator('.headline[data-level="red"]').waitFor({ timeout: 15_000 });
    expect(Date.now() - started).toBeLessThan(10_000); // checks are cached 5 s (shared with /readyz), the page polls every 2 s
    expect(await page.locator(".headline").innerText()).toContain("Plex does not answer");
    await shot("overview-red");
    w.pms.start();
  }, 30_000);

  test('the service stops: "connection lost" within one refresh interval, on a page other than the overview; it recovers when the service is back', async () => {
    await page.getByRole("link", { name: "Outages" }).click();
    await page.locator('body[data-connection="live"]').waitFor();
    expect(await page.locator("#connection").isHidden()).toBe(true);
    const port = Number(new URL(w.app.url!).port);
    const config = w.app.config;
    await w.app.stop();
    const stoppedAt = Date.now();
    await page.locator('body[data-connection="lost"]').waitFor({ timeout: 15_000 });
    expect(Date.now() - stoppedAt).toBeLessThan(ONE_INTERVAL_MS);
    await sees(page.locator("#connection"), "Connection lost");
    await shot("connection-lost");
    // Back on the same port and data folder: the next poll finds it, and the banner goes.
    restarted = createApp(config, { log: silentLogger });
    await restarted.start(port, "127.0.0.1");
    w.app = restarted;
    const backAt = Date.now();
    await page.locator('body[data-connection="live"]').waitFor({ timeout: 15_000 });
    expect(Date.now() - backAt).toBeLessThan(ONE_INTERVAL_MS);
    expect(await page.locator("#connection").isHidden()).toBe(true);
  }, 45_000);

  test('behind a reverse proxy: its 502 reads "connection lost"; a 500 of the service reads "not up to date"', async () => {
    await page.getByRole("link", { name: "Outages" }).click();
    await page.locator('body[data-connection="live"]').waitFor();
    await page.route("**/ui/live/**", (route) =>
      route.fulfill({ status: 502, contentType: "text/html", body: "<h1>502 Bad Gateway</h1>" }),
    );
    await page.locator('body[data-connection="lost"]').waitFor({ timeout: ONE_INTERVAL_MS });
    await sees(page.locator("#connection"), "the proxy in front says 502");
    await page.unroute("**/ui/live/**");
    await page.route("**/ui/live/**", (route) =>
      route.fulfill({ status: 500, contentType: "application/json", body: '{"error":{}}' }),
    );
    await page.locator('body[data-connection="failed"]').waitFor({ timeout: ONE_INTERVAL_MS });
    await sees(page.locator("#connection"), "Not up to date: the service answered 500.");
    expect(await page.locator("#connection").innerText()).not.toContain("{");
    await page.unroute("**/ui/live/**");
    await page.locator('body[data-connection="live"]').waitFor({ timeout: ONE_INTERVAL_MS });
  }, 30_000);

  test('the session ends: the page says "signed out" and offers to sign in again', async () => {
    await page.getByRole("link", { name: "Queue" }).click();
    await page.locator('body[data-connection="live"]').waitFor();
    await context.clearCookies();
    const endedAt = Date.now();
    await page.locator('body[data-connection="signed-out"]').waitFor({ timeout: 15_000 });
    expect(Date.now() - endedAt).toBeLessThan(ONE_INTERVAL_MS);
    await sees(page.locator("#connection"), "Signed out");
    await shot("signed-out");
    await page.getByRole("link", { name: "Sign in again" }).click();
    expect(page.url()).toEndWith("/ui/sign-in");
    await page.setViewportSize({ width: 360, height: 740 });
    await shot("phone-sign-in");
    expect(await pageWidth()).toBeLessThanOrEqual(360);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    expect(page.url()).toEndWith("/ui");
  }, 30_000);

  test("10,000 dead letters: paged, with titles; all discarded → 0", async () => {
    const library = w.stash.library;
    const base = library.scenes.get("1")!;
    const ids = Array.from({ length: 10_000 }, (_, i) => String(100_001 + i));
    ids.forEach((id, i) =>
      library.add({
        ...base,
        id,
        title: i === 0 ? LONG_TITLE : `Extra scene ${id}`,
        updated_at: library.clock.stamp(),
        files: [{ ...base.files[0]!, id: `f${id}`, path: `/data/extra/${id}.mp4`, basename: `${id}.mp4` }],
      }),
    );
    await w.app.stashIndex.refresh();
    const now = Date.now();
    const insert = w.app.store.db.query(
      "INSERT INTO dead_letters (ref, reason, attempts, first_queued_at, died_at, last_error) VALUES ('default:scene:' || ?, 'webhook', 9, ?, ?, 'the Plex item is gone (deleted in Plex)')",
    );
    w.app.store.db.transaction(() => ids.forEach((id, i) => insert.run(id, now - 86_400_000, now - i * 1000)))();
    await page.getByRole("link", { name: "Queue" }).click();
    await sees(page.locator("#dead-count"), "10,000");
    expect(await page.locator("#dead-letters tbody tr").count()).toBe(50);
    await sees(page.locator("#dead-letters"), LONG_TITLE.slice(0, 40));
    await sees(page.locator("#dead-letters"), "Extra scene 100002");
    await sees(page.locator("main"), "1–50 of 10,000");
    await page.getByRole("link", { name: "Next 50" }).first().click();
    await sees(page.locator("main"), "51–100 of 10,000");
    await sees(page.locator("#dead-letters"), "Extra scene 100051");
    await shot("queue-10000-dead-letters");
    // Tick two and retry them; then discard all the rest.
    await page.getByRole("checkbox", { name: "Select scene 100051" }).check();
    await page.getByRole("checkbox", { name: "Select scene 100052" }).check();
    await page.getByRole("button", { name: "Retry selected" }).click();
    await sees(page.locator(".notice"), "2 scenes queued again");
    await sees(page.locator("#dead-count"), "9,998");
    // Discarding all asks first, on a page of its own; "No" keeps every one.
    await page.getByRole("button", { name: "Discard all 9,998 dead letters" }).click();
    await sees(page.locator("h1"), "Discard all 9,998 dead letters?");
    await sees(page.locator("#confirm-consequence"), "not pushed again until they change in Stash");
    await shot("queue-discard-all-confirm");
    expect(w.app.queue.deadLetterCount()).toBe(9_998);
    await page.getByRole("link", { name: "No, keep them" }).click();
    await sees(page.locator("#dead-count"), "9,998");
    await page.getByRole("button", { name: "Discard all 9,998 dead letters" }).click();
    await page.getByRole("button", { name: "Yes, discard all 9,998 dead letters" }).click();
    await sees(page.locator(".notice"), "9,998 dead letters discarded");
    await sees(page.locator("#dead-count"), "0");
    expect(await page.locator("#dead-letters").count()).toBe(0);
    expect(w.app.queue.deadLetterCount()).toBe(0);
    // One long title left to show on a phone: a dead letter for the scene that has it.
    insert.run(ids[0]!, now - 86_400_000, now);
  }, 60_000);

  test("every page at 360 px wide: nothing wider than the screen, nothing cut off in a sideways scroll, long titles wrap", async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    const longPath = `/media/Scenes/${"a-very-long-folder-name/".repeat(6)}file.mp4`;
    const pages: [string, string][] = [
      ["overview", "/ui"],
      ["queue", "/ui/queue"],
      ["scene", "/ui/scenes/100001"],
      ["outages", "/ui/outages"],
      ["gaps", "/ui/gaps"],
      ["paths", `/ui/paths?path=${encodeURIComponent(longPath)}`],
      ["jobs", "/ui/jobs"],
      ["settings", "/ui/settings"],
    ];
    const tooWide: string[] = [];
    for (const [name, path] of pages) {
      await page.goto(`${w.app.url}${path}`);
      await page.locator("main h1").waitFor();
      await shot(`phone-${name}`);
      const width = await pageWidth();
      if (width > 360) tooWide.push(`${name}: ${width} px`);
      const cut = await clipped();
      if (cut.length) tooWide.push(`${name}: ${cut.join(", ")} cut off`);
    }
    expect(tooWide).toEqual([]);
    await page.goto(`${w.app.url}/ui/queue`);
    await sees(page.locator("#dead-letters"), LONG_TITLE.slice(0, 40));
    await page.setViewportSize({ width: 1280, height: 900 });
  }, 60_000);
});
