/**
 * stash2plex as a Stash plugin source (issue 30): the Stash simulator installs the plugin from
 * the service's own index as Stash's plugin manager does (download, sha256, unzip into its
 * plugins folder, its manifest), and the installed files are byte for byte the package. The
 * panel the plugin adds to Stash's scene page, in headless Chromium on a page standing in for
 * Stash's (with Stash's Content-Security-Policy): the scene's state in Plex, switching from
 * waiting to delivered when the push lands; its Push now button; a foreign origin refused by
 * CORS; the read-only token refused everywhere but the scene status (every POST 403).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { installPackage } from "../../sim/stash/packages.ts";
import { stashPages } from "../../sim/stash/pages.ts";
import { SimPlugins } from "../../sim/stash/plugins.ts";
import { pluginPackage } from "../../src/admin/stash-plugin-package.ts";
import { VERSION } from "../../src/version.ts";
import { browserAvailable, distinctColours, launch, SCREENSHOTS } from "../browser.ts";
import { ADMIN_TOKEN, IDENTIFIER, WEBHOOK_TOKEN, scene, startWorld, tempDir, waitFor, type World } from "../helpers.ts";
import { createIdentityState } from "../../src/sync/identity-state.ts";

const READ_TOKEN = "test-read-token-789";
const SOURCE = join(import.meta.dir, "../../deploy/stash-plugin");
const python = Bun.which("python3");
let w: World;
let pluginsDir: string;
const readAuth = { authorization: `Bearer ${READ_TOKEN}` };

beforeAll(async () => {
  w = await startWorld({
    env: { ADMIN_READ_TOKEN: READ_TOKEN, SYNC_DRAIN_PER_SECOND: "1000", SYNC_RETRY_BASE_SECONDS: "0.2" },
  });
  await w.pms.scan("1", { concurrency: 8 });
  await w.app.plexIndex.refresh(await w.app.plex.sections());
  pluginsDir = tempDir("s2p-stash-plugins-");
}, 60_000);
afterAll(() => w.close());

describe("stash2plex is a Stash plugin source", () => {
  test("Stash installs the plugin from the service's index: sha256 checked, files byte for byte the package", async () => {
    const indexUrl = `${w.app.url}/stash-plugin/index.yml`;
    const index = parse(await (await fetch(indexUrl)).text()) as Record<string, unknown>[];
    expect(index).toHaveLength(1);
    expect(index[0]).toMatchObject({
      id: "stash2plex",
      name: "stash2plex",
      version: VERSION,
      path: "/stash-plugin/stash2plex.zip",
    });
    expect(String(index[0]!.sha256)).toMatch(/^[0-9a-f]{64}$/);
    expect(String(index[0]!.date)).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);

    const files = await installPackage(indexUrl, "stash2plex", pluginsDir);
    const pkg = pluginPackage(w.app.url);
    expect(files.sort()).toEqual(pkg.files.map((f) => f.name).sort());
    for (const file of pkg.files)
      expect(Buffer.compare(readFileSync(join(pluginsDir, "stash2plex", file.name)), Buffer.from(file.data))).toBe(0);
    // The plugin's code is the shipped code; its YAML names this version and lets Stash's pages reach us.
    for (const name of ["stash2plex.py", "s2p_http.py", "s2p_tasks.py", "stash2plex.css"])
      expect(readFileSync(join(pluginsDir, "stash2plex", name), "utf8")).toBe(readFileSync(join(SOURCE, name), "utf8"));
    const yml = parse(readFileSync(join(pluginsDir, "stash2plex", "stash2plex.yml"), "utf8"));
    expect(yml.version).toBe(VERSION);
    expect(yml.ui.csp["connect-src"]).toEqual([w.app.url]);
    expect(yml.ui.javascript).toEqual(["stash2plex.js"]);
    const manifest = parse(readFileSync(join(pluginsDir, "stash2plex", "manifest"), "utf8"));
    expect(manifest).toMatchObject({ id: "stash2plex", version: VERSION, source_repository: indexUrl });
    // Public and without a secret: no token of any kind in the index or the package.
    const zip = Buffer.from(await (await fetch(`${w.app.url}/stash-plugin/stash2plex.zip`)).arrayBuffer()).toString(
      "latin1",
    );
    for (const secret of [ADMIN_TOKEN, WEBHOOK_TOKEN, READ_TOKEN, w.pms.token]) expect(zip).not.toContain(secret);
  });

  test("a package whose bytes are not the ones its index names is refused, as Stash refuses it", async () => {
    const real = await (await fetch(`${w.app.url}/stash-plugin/stash2plex.zip`)).arrayBuffer();
    const fake = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req) =>
        new URL(req.url).pathname.endsWith(".yml")
          ? new Response(`- id: stash2plex\n  name: stash2plex\n  path: pkg.zip\n  sha256: ${"0".repeat(64)}\n`)
          : new Response(real),
    });
    try {
      await expect(installPackage(`http://127.0.0.1:${fake.port}/index.yml`, "stash2plex", tempDir())).rejects.toThrow(
        "does not match expected SHA256",
      );
    } finally {
      fake.stop(true);
    }
  });
});

describe.skipIf(!python)("the installed plugin", () => {
  test("its status task says which stash2plex it talks to, and warns when the plugin is the older", async () => {
    const dir = join(pluginsDir, "stash2plex");
    if (!Bun.file(join(dir, "stash2plex.yml")).size)
      await installPackage(`${w.app.url}/stash-plugin/index.yml`, "stash2plex", pluginsDir);
    const url = new URL(w.stash.url);
    w.stash.plugins = new SimPlugins(dir, () => ({ Scheme: "http", Host: url.hostname, Port: Number(url.port) }));
    w.stash.pluginSettings = { stash2plex: { url: w.app.url!, adminToken: ADMIN_TOKEN } };
    const status = async () => {
      const id = w.stash.plugins!.run("stash2plex", "Show status");
      const job = w.stash.plugins!.jobs.find((j) => j.id === id)!;
      await job.done;
      return job.log.map(([, text]) => text).join("\n");
    };
    expect(await status()).toContain(`stash2plex ${VERSION} (plugin ${VERSION})`);
    const yml = join(dir, "stash2plex.yml");
    const shipped = readFileSync(yml, "utf8");
    try {
      writeFileSync(yml, shipped.replace(/^version: .*$/m, "version: 0.0.1"));
      expect(await status()).toContain(
        `stash2plex ${VERSION} (this plugin is 0.0.1, older: update it in Settings → Plugins`,
      );
    } finally {
      writeFileSync(yml, shipped);
    }
  }, 30_000);
});

describe("the read-only token", () => {
  test("reads a scene's state and nothing else: every POST route is 403, as are the other reads", async () => {
    const ok = await fetch(`${w.app.url}/api/scene-status/12`, { headers: readAuth });
    expect(ok.status).toBe(200);
    const posts = w.app.http.routes.filter((r) => r.method === "POST").map((r) => r.path.replace(/:[^/]+/g, "1"));
    expect(posts.length).toBeGreaterThan(10);
    for (const path of posts) {
      const res = await fetch(`${w.app.url}${path}`, {
        method: "POST",
        headers: { ...readAuth, "content-type": "application/json" },
        body: "{}",
      });
      expect(`${path} ${res.status}`).toBe(`${path} 403`);
    }
    for (const path of ["/api/status", "/api/scenes/12", "/api/dead-letters", "/ui", "/api/backups"])
      expect((await fetch(`${w.app.url}${path}`, { headers: readAuth, redirect: "manual" })).status).toBe(403);
    expect((await fetch(`${w.app.url}/api/scene-status/12`)).status).toBe(401);
  });

  test("CORS answers only the Stash origins configured", async () => {
    const stashOrigin = new URL(w.stash.url).origin;
    const preflight = (origin: string) =>
      fetch(`${w.app.url}/api/scene-status/12`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
      });
    const allowed = await preflight(stashOrigin);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(stashOrigin);
    const foreign = await preflight("http://evil.example:8080");
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
    const read = await fetch(`${w.app.url}/api/scene-status/12`, {
      headers: { ...readAuth, origin: "http://evil.example" },
    });
    expect(read.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe.skipIf(!python || !browserAvailable("the Stash scene page's Plex panel"))(
  "the panel on Stash's scene page",
  () => {
    test("shows the scene's state in Plex, waiting then delivered when the push lands; Push now; phone and desktop", async () => {
      if (!Bun.file(join(pluginsDir, "stash2plex", "stash2plex.yml")).size)
        await installPackage(`${w.app.url}/stash-plugin/index.yml`, "stash2plex", pluginsDir);
      const url = new URL(w.stash.url);
      w.stash.plugins = new SimPlugins(join(pluginsDir, "stash2plex"), () => ({
        Scheme: "http",
        Host: url.hostname,
        Port: Number(url.port),
        SessionCookie: { Name: "session", Value: "abc" },
      }));
      w.stash.pluginSettings = { stash2plex: { url: w.app.url!, readToken: READ_TOKEN, token: WEBHOOK_TOKEN } };
      w.stash.ui = stashPages(pluginsDir, ["stash2plex"]);

      // Plex is down while scene 12 is edited: its push waits.
      await w.pms.stop();
      w.stash.library.update("12", { title: "Edited while Plex was down" });
      await fetch(`${w.app.url}/hooks/stash`, {
        method: "POST",
        headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ sceneIds: ["12"] }),
      });
      expect(await waitFor(() => w.app.queue.job(scene("12")) !== undefined)).toBe(true);

      const browser = await launch();
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        const blocked: string[] = [];
        page.on("console", (m) => {
          if (/Content Security Policy/i.test(m.text())) blocked.push(m.text());
        });
        await page.goto(`${w.stash.url}/scenes/12`);
        const panel = page.locator(".s2p-panel");
        await panel.locator(".s2p-state").waitFor({ timeout: 10_000 });
        expect(await panel.textContent()).toContain("Waiting since");
        await page.screenshot({ path: join(SCREENSHOTS, "stash-scene-panel-waiting.png") });

        // Plex is back: the push lands and the panel says so by itself.
        w.pms.start();
        await page.waitForFunction('document.querySelector(".s2p-panel")?.textContent?.includes("delivered")', null, {
          timeout: 30_000,
        });
        const text = (await panel.textContent()) ?? "";
        expect(text).toContain("In Plex: delivered");
        expect(text).not.toContain("found by");
        // An item whose name told nothing says how it was found (recorded as the binder records it: test/e2e/identity.test.ts).
        const itemKey = w.app.plexIndex.byGuid(`${IDENTIFIER}://movie/12`)[0]!.rating_key;
        createIdentityState(w.app.store).bound(itemKey, "/media/Tidy/x.mp4", scene("12"), "size+duration");
        await page.goto(`${w.stash.url}/scenes/12`); // a delivered scene's panel is read once, not polled
        await panel.locator(".s2p-items").waitFor({ timeout: 10_000 });
        expect(await panel.locator(".s2p-items").textContent()).toContain("(found by its size and duration)");
        const link = panel.locator(".s2p-items a").first();
        expect(await link.getAttribute("href")).toMatch(
          new RegExp(
            `^https://app\\.plex\\.tv/desktop/#!/server/${w.pms.machineIdentifier}/details\\?key=%2Flibrary%2Fmetadata%2F\\d+$`,
          ),
        );
        expect(blocked).toEqual([]);
        const desktop = join(SCREENSHOTS, "stash-scene-panel-desktop.png");
        await page.screenshot({ path: desktop });
        expect(distinctColours(desktop)).toBeGreaterThan(20);

        // Push now: through Stash's own plugin operation (no token that changes anything in the browser).
        const before = w.app.queue.history(scene("12")).length;
        await panel.locator(".s2p-push").click();
        expect(await waitFor(() => w.app.queue.history(scene("12")).length > before, 15_000)).toBe(true);

        const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
        await phone.goto(`${w.stash.url}/scenes/12`);
        await phone.locator(".s2p-panel .s2p-state").waitFor({ timeout: 10_000 });
        const phoneShot = join(SCREENSHOTS, "stash-scene-panel-phone.png");
        await phone.screenshot({ path: phoneShot, fullPage: true });
        expect(await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")).toBe(true);

        // A page of another origin cannot read a scene's state, even with the token.
        const foreign = Bun.serve({
          port: 0,
          hostname: "127.0.0.1",
          fetch: () => new Response("<!doctype html><p>elsewhere</p>", { headers: { "content-type": "text/html" } }),
        });
        try {
          await page.goto(`http://127.0.0.1:${foreign.port}/`);
          const target = JSON.stringify(`${w.app.url}/api/scene-status/12`);
          const outcome = await page.evaluate(
            `fetch(${target}, { headers: { authorization: "Bearer ${READ_TOKEN}" } }).then(() => "read", () => "refused")`,
          );
          expect(outcome).toBe("refused");
        } finally {
          foreign.stop(true);
        }

        // Stash's plugin settings: which stash2plex the plugin talks to; a warning when the plugin is older.
        const settingsPage = await browser.newPage();
        await settingsPage.goto(`${w.stash.url}/settings`);
        await settingsPage.waitForFunction(
          'document.querySelector(".s2p-version")?.textContent?.includes("stash2plex ")',
          null,
          {
            timeout: 10_000,
          },
        );
        expect(await settingsPage.locator(".s2p-version").textContent()).toBe(
          `Talks to stash2plex ${VERSION} (plugin ${VERSION})`,
        );
        const js = join(pluginsDir, "stash2plex", "stash2plex.js");
        const shipped = readFileSync(js, "utf8");
        writeFileSync(js, shipped.replace(`var PLUGIN_VERSION = "${VERSION}"`, 'var PLUGIN_VERSION = "0.0.1"'));
        try {
          await settingsPage.reload();
          await settingsPage.waitForFunction(
            'document.querySelector(".s2p-version")?.textContent?.includes("older")',
            null,
            {
              timeout: 10_000,
            },
          );
          expect(await settingsPage.locator(".s2p-version").textContent()).toContain(
            `This plugin (0.0.1) is older than stash2plex ${VERSION}`,
          );
          await settingsPage.screenshot({ path: join(SCREENSHOTS, "stash-settings-version.png") });
        } finally {
          writeFileSync(js, shipped);
        }

        // stash2plex not answering: one quiet line.
        w.stash.pluginSettings = { stash2plex: { url: "http://127.0.0.1:9", readToken: READ_TOKEN } };
        const quiet = await browser.newPage();
        await quiet.goto(`${w.stash.url}/scenes/12`);
        await quiet.waitForFunction(
          'document.querySelector(".s2p-panel")?.textContent?.includes("unreachable")',
          null,
          {
            timeout: 10_000,
          },
        );
      } finally {
        await browser.close();
      }
    }, 90_000);
  },
);
