/**
 * The TV-library and write-back pages in a real Chromium (issues 20 and 21): the real service
 * against the Stash and PMS simulators with a TV library on a real episode folder and write-back
 * on, events that were written, one that failed and one that waits. Every page renders its rows,
 * runs under the Content-Security-Policy with no violation, and never scrolls sideways on a
 * 360 px phone. Screenshots (1280 px and 360 px) go to test-output/dashboard, or SHOTS_DIR.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { freePort } from "../../sim/sim-server.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createApp, type App } from "../../src/app.ts";
import { silentLogger } from "../../src/log.ts";
import { plexFilesFor, plexPathFor } from "../../src/demo.ts";
import { DEFAULT_INSTANCE_ID, sceneRef } from "../../src/domain/ref.ts";
import { ADMIN_TOKEN, IDENTIFIER, tempDir, testEnv, waitFor } from "../helpers.ts";
import { browserAvailable, distinctColours, launch, SCREENSHOTS } from "../browser.ts";

const available = browserAvailable("the TV and write-back browser tests");
const TV_IDENTIFIER = `${IDENTIFIER}.tv`;
const HOOK_TOKEN = "plex-hook-token-321";
const SHOTS = process.env.SHOTS_DIR ?? SCREENSHOTS;

let stash: StashSim;
let pms: PmsSim;
let app: App;
let folder: string;
let browser: Browser;
let page: Page;
let link: string; // one link of the episode folder: a TV scene's path
let linkScene: string;
const violations: string[] = [];

/** The first link (file) under a folder, depth first. */
function firstFile(dir: string): string | undefined {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const found = firstFile(p);
      if (found) return found;
    } else return p;
  }
}

/** The movie and episode items of a scene in PMS. */
const itemsOfScene = (id: string) =>
  [...pms.items.values()].filter(
    (i) => i.guid === `${IDENTIFIER}://movie/${id}` || i.guid === `${TV_IDENTIFIER}://episode/st-${id}`,
  );

/** Table cells of one short word that the browser broke over two lines ("owne r"). Runs in the page. */
const BROKEN_WORDS = `[...document.querySelectorAll("main td, main th")].flatMap((cell) => {
  const text = cell.innerText.trim();
  if (!/^\\S{1,16}$/.test(text)) return [];
  const range = document.createRange();
  range.selectNodeContents(cell);
  const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
  return lines.size > 1 ? [text] : [];
})`;
const brokenWords = (p: Page) => p.evaluate<string[]>(BROKEN_WORDS);

/** Elements of main whose content is cut off in a sideways scroll of their own (a table in .scroll). */
const CLIPPED = `[...document.querySelectorAll("main *")]
  .filter((e) => !e.matches("input, textarea, select") && e.clientWidth > 1
    && /auto|scroll|hidden|clip/.test(getComputedStyle(e).overflowX) && e.scrollWidth > e.clientWidth + 1)
  .map((e) => e.tagName + "#" + e.id)`;

/** Cells labelled twice on a phone: a row's own header (th) above, and the column's name before it. */
const RELABELLED = `[...document.querySelectorAll("main tbody th + td")]
  .filter((td) => !["none", "normal", ""].includes(getComputedStyle(td, "::before").content))
  .map((td) => td.previousElementSibling.innerText.trim())`;

/** The page's width beyond the viewport (0: nothing scrolls sideways). */
const overflow = (p: Page) =>
  p.evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth");

const PAGES = [
  ["overview", "/ui"],
  ["paths-tv", ""], // the link's path, set once the folder is written
  ["writeback", "/ui/writeback"],
  ["scene-writeback", ""],
  ["jobs", "/ui/jobs"],
  ["queue", "/ui/queue"],
  ["gaps", "/ui/gaps"],
  ["outages", "/ui/outages"],
  ["settings", "/ui/settings"],
] as const;
const pathOf = (name: string, path: string) =>
  name === "paths-tv"
    ? `/ui/paths?path=${encodeURIComponent(link)}`
    : name === "scene-writeback"
      ? `/ui/scenes/${linkScene}`
      : path;

describe.skipIf(!available)("TV libraries and write-back in Chromium", () => {
  beforeAll(async () => {
    stash = new StashSim({ scenes: 40, seed: 3, windowsShare: 0 }).start();
    pms = new PmsSim().start();
    pms.addSection(
      { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes"] },
      plexFilesFor(stash),
    );
    folder = tempDir("s2p-tvb-");
    pms.addSection({ key: "2", title: "Sites", type: "show", agent: TV_IDENTIFIER, locations: [folder] });
    const env = testEnv(stash, pms, {
      TV_LIBRARIES: JSON.stringify([{ id: "sites", layout: "studio", folder, plexFolder: folder }]),
      WRITEBACK_ENABLED: "true",
      WRITEBACK_WEBHOOK_TOKEN: HOOK_TOKEN,
      WRITEBACK_NOTIFICATIONS: "false",
      // A failed write waits minutes for its next try: the page shows it waiting.
      SYNC_RETRY_BASE_SECONDS: "600",
    });
    app = createApp(loadConfig(env, undefined), { log: silentLogger });
    const port = freePort();
    pms.providers.set(IDENTIFIER, `http://127.0.0.1:${port}`);
    pms.providers.set(TV_IDENTIFIER, `http://127.0.0.1:${port}/tv`);
    await app.start(port, "127.0.0.1");
    await pms.registerProvider(app.url!);
    await pms.registerProvider(`${app.url}/tv`);
    await pms.scan("1", { concurrency: 8 });
    await app.stashIndex.refresh();
    expect(
      await waitFor(() => Boolean(app.scheduler.list().find((j) => j.id === "tv-sync")?.lastSuccessAt), 60_000),
    ).toBe(true);
    await pms.idle();
    await app.plexIndex.refresh(await app.plex.sections());
    link = firstFile(folder)!;
    linkScene = /\{s2p-st-(\d+)\}/.exec(link)![1]!;

    // Write-back: the scene watched as a movie and as an episode (Plex Pass webhooks), rated.
    pms.watch.webhooks = [`${app.url}/hooks/plex?token=${HOOK_TOKEN}`];
    const [movie, episode] = [
      itemsOfScene(linkScene).find((i) => i.guid.includes("://movie/")),
      itemsOfScene(linkScene).find((i) => i.guid.includes("://episode/")),
    ];
    if (movie) pms.watch.view(movie.ratingKey);
    if (episode) pms.watch.view(episode.ratingKey, { toFraction: 0.4 });
    if (movie) pms.watch.rate(movie.ratingKey, 8);
    await pms.watch.idle();
    const events = app.writeback.events;
    // One that fails for good: a scene Stash does not have.
    const base = { source: "webhook" as const, ratingKey: "999999", account: { id: "1", name: "owner" } };
    events.record({
      ...base,
      key: "gone-1",
      kind: "play",
      ref: sceneRef(DEFAULT_INSTANCE_ID, "99999"),
      at: Date.now(),
    });
    // One that waits: its write failed once (as when Stash answers 502) and is due again later.
    events.record({
      ...base,
      key: "wait-1",
      kind: "rate",
      rating: 6,
      ref: sceneRef(DEFAULT_INSTANCE_ID, "3"),
      at: Date.now(),
    });
    events.fail("wait-1", "Stash answered 502 Bad Gateway");
    // Its backoff is drawn at random (full jitter): fixed here to 10 minutes, so it surely waits.
    events.release("wait-1", 10 * 60_000);
    expect(await waitFor(() => events.counts().failed === 1 && events.counts().done >= 2, 20_000)).toBe(true);

    browser = await launch();
    page = await (await browser.newContext()).newPage();
    page.on(
      "console",
      (m) =>
        void (/Content.Security.Policy|Refused to/i.test(m.text()) && violations.push(`${page.url()}: ${m.text()}`)),
    );
    await page.goto(`${app.url}/ui/sign-in`);
    await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await pms?.stop();
    await stash?.stop();
  });

  test("the overview's TV table and the path tester's TV rows render", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${app.url}/ui`);
    const row = page.locator('#tv tr[data-tv="sites"]');
    expect(await row.count()).toBe(1);
    const cells = await row.locator("td").allInnerTexts();
    expect(cells[0]).toContain("sites");
    expect(Number(cells[2])).toBeGreaterThan(0); // shows
    expect(Number(cells[3])).toBeGreaterThan(0); // episodes
    expect(await page.locator("#tv-card").innerText()).toMatch(/\d+ episodes in \d+ shows?/);

    await page.goto(`${app.url}${pathOf("paths-tv", "")}`);
    const tv = await page.locator("#tv-landing tbody tr").first().innerText();
    expect(tv).toContain(`scene ${linkScene}`);
    expect(tv).toContain("sites");
    expect(tv).toContain(link);
    // The movie ladder below does not read the token: the page says the TV provider does.
    expect(await page.locator("#tv-link-note").innerText()).toContain(`the TV library sites`);

    // A scene without a studio, tested by its movie path: the row says why it has no episode.
    const loose = [...stash.library.scenes.values()].find((s) => !s.studio && s.files.length)!;
    await page.goto(`${app.url}/ui/paths?path=${encodeURIComponent(plexPathFor(loose.files[0]!.path))}`);
    expect(await page.locator("#tv-landing tbody tr").first().innerText()).toMatch(
      new RegExp(`scene ${loose.id}\\s+sites\\s+not placed \\(no file or no studio`),
    );
    expect(await page.locator("#tv-link-note").count()).toBe(0);
  }, 30_000);

  test("the write-back page lists what waits, what failed and what was done; the scene's page its own", async () => {
    await page.goto(`${app.url}/ui/writeback`);
    // PUBLIC_URL is not set: the webhook URL shown is its default, and the page says to set it.
    expect(await page.locator("#public-url-unset").innerText()).toContain(
      "set PUBLIC_URL to the address Plex reaches stash2plex at",
    );
    // The waiting one says when it is tried next (in about 10 minutes), and so does its card.
    const waiting = await page.locator('#writeback-waiting tr[data-key="wait-1"]').innerText();
    expect(waiting).toContain("502");
    expect(waiting).toMatch(/waiting: next try in (9|10) min/);
    expect(await page.locator("#writeback-waiting-card").innerText()).toMatch(/1\s+next try in (9|10) min/);
    const failed = page.locator('#writeback-failed tr[data-key="gone-1"]');
    expect(await failed.count()).toBe(1);
    expect(await failed.getByRole("button").allInnerTexts()).toEqual(["Retry", "Discard"]);
    expect(await failed.innerText()).toContain("movie");
    expect(await page.locator('#writeback-recent tr[data-state="done"]').count()).toBeGreaterThanOrEqual(2);
    // Outcomes in words: the rating out of 100 with its stars, the play with the count and the page's time format.
    const recent = await page.locator("#writeback-recent").innerText();
    expect(recent).toContain("rating 80/100 (4 stars)");
    expect(recent).toMatch(/play added \(played 1 time in all\), at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(recent).not.toMatch(/\d\.\d+ s played|rating100|T\d\d:\d\d:\d\d/);
    // Where each came from: the episode names its show and TV library.
    expect(recent).toMatch(/episode in .+ \(sites\)/);

    await page.goto(`${app.url}/ui/scenes/${linkScene}`);
    const rows = await page.locator("#scene-writeback tbody tr").allInnerTexts();
    expect(rows.join("\n")).toContain("rated 8");
    // The scene's own page says movie or episode instead of repeating the scene.
    expect(await page.locator("#scene-writeback thead").innerText()).toContain("as");
    expect(rows.join("\n")).not.toContain(`scene ${linkScene}`);
    expect(rows.find((r) => r.includes("stopped at"))).toMatch(/episode in .+ \(sites\)/);
    // One viewing to the end is one row: the play, with the stop that ended it folded in.
    const viewing = rows.filter((r) => /watched to the end|finished/.test(r));
    expect(viewing).toHaveLength(1);
    expect(viewing[0]).toMatch(/^\S.*movie/);
    expect(viewing[0]).toContain("and its stop");
    expect(viewing[0]).toMatch(/stop:\s+done/);
    // The scene's page also says where it lands in the TV library: its show, season, episode and link.
    const landing = await page.locator("#tv-landing tbody tr").first().innerText();
    expect(landing).toContain("sites");
    expect(landing).toContain(link);
    expect(landing).not.toContain(`scene ${linkScene}`);
    await page.goto(`${app.url}/ui/jobs`);
    const jobs = await page.locator("main").innerText();
    expect(jobs).toContain("Sync the TV libraries' episode folders");
    expect(jobs).toContain("Write what was watched in Plex to Stash");
  }, 30_000);

  test("at 1280 px and 360 px: no page scrolls sideways, nothing is cut off, no short word is broken, no CSP violation (screenshots saved)", async () => {
    const wide: string[] = [];
    for (const width of [1280, 360]) {
      await page.setViewportSize({ width, height: width === 360 ? 780 : 900 });
      for (const [name, path] of PAGES) {
        const res = await page.goto(`${app.url}${pathOf(name, path)}`);
        expect([name, res!.status()]).toEqual([name, 200]);
        const file = join(SHOTS, `${name}-${width}.png`);
        await page.screenshot({ path: file, fullPage: true });
        expect(distinctColours(file)).toBeGreaterThan(8);
        const over = await overflow(page);
        if (over > 0) wide.push(`${name} at ${width} px: ${over} px too wide`);
        for (const th of await page.evaluate<string[]>(RELABELLED))
          wide.push(`${name} at ${width} px: "${th}" labelled twice`);
        const cut = await page.evaluate<string[]>(CLIPPED);
        if (cut.length) wide.push(`${name} at ${width} px: ${cut.join(", ")} cut off`);
        for (const word of await brokenWords(page))
          wide.push(`${name} at ${width} px: "${word}" broken over two lines`);
      }
    }
    expect(wide).toEqual([]);
    expect(violations).toEqual([]);
  }, 60_000);
});
