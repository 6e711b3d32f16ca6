/**
 * The dashboard in a real headless Chromium, against the simulators: sign in, a green
 * overview, requeue a dead letter, the path tester, a sync-all to 100%, every page saved as a
 * screenshot (checked not blank), then Plex stops and the overview turns red with the reason.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { ADMIN_TOKEN, post, startWorld, waitFor, WEBHOOK_TOKEN, type World } from "../helpers.ts";
import { browserAvailable, distinctColours, launch, SCREENSHOTS } from "../browser.ts";

const available = browserAvailable("the dashboard browser tests");
let w: World;
let browser: Browser;
let page: Page;
let deletedItem: import("../sim/plex/server.ts").SimItem;
const secrets = [ADMIN_TOKEN, WEBHOOK_TOKEN, "plex-sim-token"];

/** Waits for the element, then checks its text (bun's expect has no locator matchers). */
async function sees(locator: Locator, text: string) {
  await locator.first().waitFor({ timeout: 10_000 });
  expect(await locator.first().innerText()).toContain(text);
}

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
    w = await startWorld({ env: { SYNC_RETRY_BASE_SECONDS: "0.05", SYNC_RETRY_CAP_SECONDS: "0.4", SYNC_SWEEP_SECONDS: "1", SYNC_DRAIN_PER_SECOND: "2000" } });
    await w.pms.scan("1", { concurrency: 8 });
    await w.app.plexIndex.refresh(await w.app.plex.sections());
    // A dead letter: scene 12's item was deleted in Plex.
    deletedItem = [...w.pms.items.values()].find((i) => i.guid.endsWith("/movie/12"))!;
    w.pms.items.delete(deletedItem.ratingKey);
    await post(`${w.app.url}/hooks/stash`, { sceneIds: ["12"] }, { authorization: `Bearer ${WEBHOOK_TOKEN}` });
    await waitFor(() => w.app.queue.deadLetters().length === 1);
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
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
    expect(await page.locator(".headline").innerText()).toContain("gave up");
    await shot("overview-amber");
  }, 30_000);

  test("queue: the dead letter with its reason; requeue it", async () => {
    await page.getByRole("link", { name: "Queue" }).click();
    await sees(page.locator("#dead-letters"), "the Plex item is gone");
    await shot("queue");
    // The cause is fixed (the item is back in Plex), then the push is requeued from the page.
    w.pms.items.set(deletedItem.ratingKey, deletedItem);
    await page.getByRole("button", { name: "Requeue scene 12" }).click();
    await sees(page.locator(".notice"), "1 scene(s) queued again");
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
    await sees(page.locator(".notice"), "scene(s) queued");
    await page.locator("#sync-share", { hasText: /^100%$/ }).waitFor({ timeout: 30_000 }); // no string eval: the CSP forbids it
    await shot("sync-done");
  }, 45_000);

  test("outages, gaps and settings render; the settings show no secret", async () => {
    for (const [link, name] of [["Outages", "outages"], ["Gaps", "gaps"], ["Settings", "settings"]] as const) {
      await page.getByRole("link", { name: link, exact: true }).click();
      await shot(name);
    }
    await sees(page.locator("main"), "sync.webhookToken");
    await sees(page.locator("main"), '"(set)"');
    // On a phone.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole("link", { name: "Overview" }).click();
    await page.locator('.headline[data-level="green"]').waitFor({ timeout: 15_000 });
    expect(await page.locator(".headline").innerText()).toContain("All is well");
    await shot("overview-phone");
    await page.setViewportSize({ width: 1280, height: 900 });
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
});
