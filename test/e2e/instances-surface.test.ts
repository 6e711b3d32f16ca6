/**
 * The operator's surface with two Stash instances (issue 19, item 6): every dashboard page shows
 * both and names them; a dead letter of the second is shown, retried and discarded from the
 * dashboard without touching the first's scene with the same id; /api/status, /readyz and
 * /metrics list both. The service is the real one (createApp) against two Stash simulators
 * whose scene ids overlap, and a PMS simulator.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { loadConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import { silentLogger } from "../../src/log.ts";
import { createApp, type App } from "../../src/app.ts";
import { sceneRef } from "../../src/domain/ref.ts";
import { createBreaker, type Breaker } from "../../src/sync/breaker.ts";
import { ADMIN_TOKEN, adminAuth, tempDir, twoStashInstances } from "../helpers.ts";
import { browserAvailable, distinctColours, launch, SCREENSHOTS } from "../browser.ts";
import { SimPlugins } from "../../sim/stash/plugins.ts";

const PLUGIN_DIR = join(import.meta.dir, "../../deploy/stash-plugin");
const python = Bun.which("python3");

const VAULT_KEY = "vault-api-key-secret-789";
let main: StashSim;
let vault: StashSim;
let pms: PmsSim;
let config: Config;
let app: App;
let url: string;

const get = (path: string) => fetch(`${url}${path}`, { headers: adminAuth, redirect: "manual" });
const page = async (path: string) => {
  const res = await get(path);
  expect([path, res.status]).toEqual([path, 200]);
  return res.text();
};
const postForm = (path: string, fields: Record<string, string>) =>
  fetch(`${url}${path}`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...adminAuth },
    body: new URLSearchParams(fields),
  });
/** A dead letter written as the worker writes one (the ref key names the instance). */
const bury = (key: string, error: string) =>
  app.store.db
    .query(
      "INSERT INTO dead_letters (ref, reason, attempts, first_queued_at, died_at, last_error) VALUES (?, 'test', 7, ?, ?, ?)",
    )
    .run(key, Date.now() - 60_000, Date.now(), error);
const deadKeys = () =>
  app.queue
    .deadLetters()
    .map((d) => d.ref)
    .sort();

beforeAll(async () => {
  main = new StashSim({ scenes: 20, seed: 31, root: "/data/main", windowsShare: 0 }).start();
  vault = new StashSim({ scenes: 20, seed: 32, root: "/data/vault", windowsShare: 0 }).start();
  vault.faults.apiKey = VAULT_KEY;
  pms = new PmsSim().start();
  config = loadConfig(
    {
      DATA_DIR: tempDir(),
      SYNC_POLL_SECONDS: "0",
      ADMIN_TOKEN,
      PUBLIC_URL: "http://stash2plex.lan:8787",
      PLEX_URL: pms.url,
      PLEX_TOKEN: pms.token,
      STASH_INSTANCES: twoStashInstances(main, vault, { apiKey: VAULT_KEY, rule: "vaultrule" }),
    },
    undefined,
  );
  app = createApp(config, { log: silentLogger });
  await app.start(0, "127.0.0.1");
  url = app.url!;
  await Promise.all([app.stashIndex.refresh(), ...app.instanceProviders.map((p) => p.index.refresh())]);
});

afterAll(async () => {
  await app?.stop();
  await pms.stop();
  await main.stop();
  await vault.stop();
  rmSync(config.dataDir, { recursive: true, force: true });
});

describe("two Stash instances on the operator's surface", () => {
  test("the overview has a row per instance: its Stash answers, its breaker, queue and index", async () => {
    bury("vault:scene:4", "vault's item is gone");
    const html = await page("/ui");
    const rows = html.match(/<tr data-instance="[^"]+">[\s\S]*?<\/tr>/g) ?? [];
    expect(rows.length).toBe(2);
    expect(rows[0]).toContain("Main (default)");
    expect(rows[1]).toContain("Vault (vault)");
    for (const row of rows) expect(row).toContain("answers");
    // vault's row counts its own dead letter and its own 20 scenes; main's has none.
    const cells = (row: string) =>
      row
        .replace(/<[^>]+>/g, "|")
        .replace(/\s+/g, "")
        .replace(/\|+/g, "|");
    expect(cells(rows[1]!)).toContain("|closed|0|1|20|");
    expect(cells(rows[0]!)).toContain("|closed|0|0|20|");
    expect(html).toContain("2 of 2</span> answer");
    expect(html).toContain("40 Stash scenes");
  });

  test("queue: a vault dead letter is named and linked in its instance; retry and discard leave main's scene 4 alone", async () => {
    bury("default:scene:4", "main's item is gone");
    const html = await page("/ui/queue");
    expect(html).toContain("<th>Stash</th>");
    expect(html).toContain('<td data-label="Stash" data-instance="vault">Vault (vault)</td>');
    expect(html).toContain('<td data-label="Stash" data-instance="default">Main (default)</td>');
    expect(html).toContain('href="/ui/scenes/4?instance=vault"');
    expect(html).toContain('href="/ui/scenes/4"');
    // The row's title is vault's scene 4, from vault's own index (not main's scene 4).
    const vaultTitle = vault.library.scenes.get("4")!.title!;
    const mainTitle = main.library.scenes.get("4")!.title!;
    expect(vaultTitle).not.toBe(mainTitle);
    const vaultRow =
      html.match(/<tr><td data-label="select"><input[^>]*value="vault:scene:4"[\s\S]*?<\/tr>/)?.[0] ?? "";
    expect(vaultRow).toContain(vaultTitle);

    // A search finds scenes in each Stash: by title in vault's index, by id in both.
    const byTitle = await page(`/ui/queue?q=${encodeURIComponent(vault.library.scenes.get("7")!.title!)}`);
    expect(byTitle).toContain('<a href="/ui/scenes/7?instance=vault">Scene 7 (Vault (vault))</a>');
    const byId = await page("/ui/queue?q=7");
    expect(byId).toContain('<a href="/ui/scenes/7">Scene 7 (Main (default))</a>');
    expect(byId).toContain('<a href="/ui/scenes/7?instance=vault">Scene 7 (Vault (vault))</a>');

    // Its scene page is vault's scene 4: its title and its dead letter.
    const scene = await page("/ui/scenes/4?instance=vault");
    expect(scene).toContain("Scene 4 of Vault (vault)");
    expect(scene).toContain(vaultTitle);
    expect(scene).toContain("vault&#39;s item is gone");
    expect(scene).not.toContain("main&#39;s item is gone");
    expect(scene).toContain('hx-get="/ui/live/scenes/4?instance=vault"');
    expect(await page("/ui/live/scenes/4?instance=vault")).toContain(vaultTitle);
    expect((await get("/ui/scenes/4?instance=nosuch")).status).toBe(404);
    expect((await get("/ui/scenes/4?instance=Bad!")).status).toBe(400);

    // Retry from vault's row: vault's job is queued again, main's dead letter untouched.
    const retried = await postForm("/ui/actions/dead-letters/retry", { one: "vault:scene:4" });
    expect(retried.headers.get("location")).toContain(encodeURIComponent("1 scene queued again"));
    const requeued = (ref: ReturnType<typeof sceneRef>) =>
      app.queue.history(ref).some((h) => h.event === "queued" && h.detail === "requeue");
    expect(requeued(sceneRef("vault", "4"))).toBe(true);
    expect(requeued(sceneRef("default", "4"))).toBe(false);
    expect(deadKeys()).toContain("default:scene:4");

    // Discard from vault's row (buried again, as a retry that failed once more would): main's stays.
    app.queue.discardDead([sceneRef("vault", "4")]);
    bury("vault:scene:4", "vault's item is gone");
    expect((await postForm("/ui/actions/dead-letters/discard", { one: "vault:scene:4" })).status).toBe(303);
    expect(deadKeys()).not.toContain("vault:scene:4");
    expect(deadKeys()).toContain("default:scene:4");
  });

  test("outages: one section per instance, each its own breaker's history", async () => {
    const html = await page("/ui/outages");
    expect(html).toContain('<section data-instance="default"><h2>Pushes of Stash Main (default)</h2>');
    expect(html).toContain('<section data-instance="vault"><h2>Pushes of Stash Vault (vault)</h2>');
    expect(await page("/ui/live/outages")).toContain('data-instance="vault"');
  });

  test("vault's breaker opens: the overview names it, vault's row and outages show it, main's stay closed", async () => {
    // The push side's own breaker for vault when it runs one loop per instance, else the one kept on disk.
    const loops = (app as { instanceLoops?: { instance: string; breaker: Breaker }[] }).instanceLoops;
    const breaker =
      loops?.find((l) => l.instance === "vault")?.breaker ??
      createBreaker(app.store, { instance: "vault", threshold: 3, probeBaseMs: 60_000, probeCapMs: 60_000 });
    for (let i = 0; i < 10 && breaker.state !== "open"; i++) breaker.failed("vault's pushes: connection refused", 2);
    try {
      const overview = await page("/ui");
      expect(overview).toContain(
        '<span class="big" id="breaker-state">open</span> <span class="muted">(Vault (vault))</span>',
      );
      const row = (id: string) => overview.match(new RegExp(`<tr data-instance="${id}">[\\s\\S]*?</tr>`))?.[0] ?? "";
      expect(row("vault")).toContain('<td data-label="breaker">open</td>');
      expect(row("default")).toContain('<td data-label="breaker">closed</td>');
      const outages = await page("/ui/outages");
      const part = (id: string) =>
        outages.match(new RegExp(`<section data-instance="${id}">[\\s\\S]*?</section>`))?.[0] ?? "";
      expect(part("vault")).toContain("vault&#39;s pushes: connection refused");
      expect(part("vault")).toContain("<strong>ongoing</strong>");
      expect(part("default")).toContain("Plex has not been down");
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toContain('stash2plex_breaker_state{stash_instance="vault",state="open"} 1');
      expect(metrics).toContain('stash2plex_breaker_state{stash_instance="default",state="closed"} 1');
    } finally {
      breaker.succeeded();
    }
  });

  test("gaps: a gap names its instance and links to its scene there", async () => {
    const at = Date.now();
    app.reconciler.reports.save(
      {
        startedAt: at - 1000,
        finishedAt: at,
        status: "done",
        trigger: "test",
        error: null,
        scenes: 40,
        items: 38,
        counts: { "missing-in-plex": 2 },
        healed: {},
      },
      [
        {
          kind: "missing-in-plex",
          sceneId: "9",
          instance: "vault",
          plexPaths: [],
          stashPaths: ["/data/vault/x.mp4"],
          reason: "Plex has no item for this scene",
        },
        {
          kind: "missing-in-plex",
          sceneId: "9",
          instance: "default",
          plexPaths: [],
          stashPaths: ["/data/main/y.mp4"],
          reason: "Plex has no item for this scene",
        },
      ],
    );
    const html = await page("/ui/gaps");
    expect(html).toContain(
      '<a href="/ui/scenes/9?instance=vault">scene 9</a> <span class="instance" data-instance="vault">of Vault (vault)</span>',
    );
    expect(html).toContain(
      '<a href="/ui/scenes/9">scene 9</a> <span class="instance" data-instance="default">of Main (default)</span>',
    );
  });

  test("settings: each instance's Stash URL, its key only as set, its rules and the provider URL to paste in Plex", async () => {
    const html = await page("/ui/settings");
    const vaultPart = html.match(/<section class="instance" data-instance="vault">[\s\S]*?<\/section>/)?.[0] ?? "";
    expect(vaultPart).toContain(vault.url);
    expect(vaultPart).toContain("(set)");
    expect(vaultPart).toContain("vaultrule");
    expect(vaultPart).toContain('<code class="provider-url">http://stash2plex.lan:8787/instances/vault</code>');
    expect(vaultPart).toContain("tv.plex.agents.custom.stash2plex.vault");
    expect(html).toContain('<code class="provider-url">http://stash2plex.lan:8787</code>');
    expect(html).not.toContain(VAULT_KEY);
  });

  test("/api/status keeps the default's fields and lists each instance", async () => {
    const status = (await (await get("/api/status")).json()) as any;
    expect(status.breaker).toBe("closed"); // the default's, as before
    expect(status.queue.pending).toBeNumber();
    expect(status.instances.map((i: any) => [i.id, i.name, i.default, i.providerUrl])).toEqual([
      ["default", "Main", true, "http://stash2plex.lan:8787"],
      ["vault", "Vault", false, "http://stash2plex.lan:8787/instances/vault"],
    ]);
    for (const i of status.instances) {
      expect(i.stash.ok).toBe(true);
      expect(i.indexedScenes).toBe(20);
      expect(i.breaker).toBe("closed");
    }
    expect(JSON.stringify(status)).not.toContain(VAULT_KEY);
  });

  test("/metrics: each Stash's up, latency and errors, breaker and index under its stash_instance", async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain('stash2plex_upstream_up{upstream="stash",stash_instance="default"} 1');
    expect(text).toContain('stash2plex_upstream_up{upstream="stash",stash_instance="vault"} 1');
    expect(text).toMatch(/stash2plex_upstream_request_seconds_count\{upstream="stash",stash_instance="vault"\} [1-9]/);
    expect(text).toMatch(
      /stash2plex_upstream_request_seconds_count\{upstream="stash",stash_instance="default"\} [1-9]/,
    );
    expect(text).toContain('stash2plex_upstream_errors_total{upstream="stash",stash_instance="vault"} 0');
    expect(text).toContain('stash2plex_breaker_state{stash_instance="vault",state="closed"} 1');
    expect(text).toContain('stash2plex_breaker_state{stash_instance="default",state="closed"} 1');
    expect(text).toContain('stash2plex_index_entries{index="stash_scenes",stash_instance="vault"} 20');
  });

  test("/readyz checks each Stash: anyone sees ok per part; vault down names only vault", async () => {
    const open = (await (await fetch(`${url}/readyz`)).json()) as any;
    expect(open).toEqual({
      ok: true,
      checks: { stash: { ok: true }, "stash:vault": { ok: true }, plex: { ok: true }, database: { ok: true } },
    });
    vault.faults.errorPage = 503;
    try {
      await Bun.sleep(5100); // /readyz keeps its answer 5 s
      const res = await fetch(`${url}/readyz`);
      expect(res.status).toBe(503);
      const down = (await res.json()) as any;
      expect(down.checks.stash).toEqual({ ok: true });
      expect(down.checks["stash:vault"]).toEqual({ ok: false });
      const overview = await page("/ui");
      expect(overview).toContain("1 of 2</span> answer");
      expect(overview).toMatch(/Stash does not answer \(Vault \(vault\): /);
      // The upstream errors counted under vault's label.
      const scrape = await (await fetch(`${url}/metrics`)).text();
      expect(scrape).toMatch(/stash2plex_upstream_errors_total\{upstream="stash",stash_instance="vault"\} [1-9]/);
    } finally {
      vault.faults.errorPage = null;
    }
  }, 30_000);

  test.skipIf(!browserAvailable("the two-instance overview screenshot"))(
    "a screenshot of the overview with two instances",
    async () => {
      await Bun.sleep(5100); // vault answers again (the checks are kept 5 s)
      const browser = await launch();
      try {
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        await context.setExtraHTTPHeaders(adminAuth);
        const tab = await context.newPage();
        await tab.goto(`${url}/ui`);
        await tab.locator("#instances").waitFor();
        const file = join(SCREENSHOTS, "overview-two-instances.png");
        await tab.screenshot({ path: file, fullPage: true });
        expect(distinctColours(file)).toBeGreaterThan(20);
        expect(await tab.locator("#instances tbody tr").count()).toBe(2);
      } finally {
        await browser.close();
      }
    },
    60_000,
  );
});

/** Settings → Tasks → run in the vault Stash, through its GraphQL mutation (as Stash runs a plugin task). */
async function runVaultTask(task: string) {
  const res = await fetch(`${vault.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      query: "mutation($p: ID!, $t: String) { runPluginTask(plugin_id: $p, task_name: $t) }",
      variables: { p: "stash2plex", t: task },
    }),
  });
  const body = (await res.json()) as { data?: { runPluginTask: string }; errors?: { message: string }[] };
  if (!body.data) throw new Error(body.errors?.[0]?.message ?? "runPluginTask failed");
  const job = vault.plugins!.jobs.find((j) => j.id === body.data!.runPluginTask)!;
  await job.done;
  return { job, log: job.log.map(([level, text]) => `${level} ${text}`).join("\n") };
}

describe.skipIf(!python)("the Stash plugin's tasks act on the Stash they run in", () => {
  beforeAll(() => {
    vault.faults.apiKey = null; // the plugin reads its settings from this Stash with its session
    const own = new URL(vault.url);
    vault.plugins = new SimPlugins(PLUGIN_DIR, () => ({
      Scheme: "http",
      Host: own.hostname,
      Port: Number(own.port),
      SessionCookie: { Name: "session", Value: "abc" },
    }));
    vault.pluginSettings = { stash2plex: { url, adminToken: ADMIN_TOKEN, instance: "vault" } };
  });

  test("dead letters: the vault Stash's tasks retry and discard vault's scene 6, never main's scene 6", async () => {
    app.queue.discardDead("vault"); // whatever vault left from the tests above (a retried push may have died again)
    bury("default:scene:6", "main's six is gone");
    bury("vault:scene:6", "vault's six is gone");
    const discard = await runVaultTask("Discard dead letters");
    expect(discard.log).toContain("discarded 1 dead letter: a later edit or sync of those scenes pushes them again");
    expect(discard.log).toContain("scene 6");
    expect(discard.log).toContain("vault's six is gone");
    expect(discard.log).not.toContain("main's six is gone");
    expect(deadKeys()).toContain("default:scene:6");
    expect(deadKeys()).not.toContain("vault:scene:6");

    bury("vault:scene:6", "vault's six is gone");
    const retry = await runVaultTask("Retry dead letters");
    expect(retry.log).toContain("retrying 1 dead letter: stash2plex pushes them again now");
    const requeued = (ref: ReturnType<typeof sceneRef>) =>
      app.queue.history(ref).some((h) => h.event === "queued" && h.detail === "requeue");
    expect(requeued(sceneRef("vault", "6"))).toBe(true);
    expect(requeued(sceneRef("default", "6"))).toBe(false);
    expect(deadKeys()).toContain("default:scene:6");
  }, 30_000);

  test("status names this Stash's part; its sync queues this Stash's scenes, never the default's", async () => {
    const status = await runVaultTask("Show status");
    expect(status.log).toContain("this Stash (Vault, instance vault): ");
    const defaultBefore = app.queue.pending({ except: ["vault"] });
    const sync = await runVaultTask("Sync all scenes to Plex");
    expect(sync.log).toContain(`queued ${vault.library.scenes.size} scene(s)`);
    expect(app.queue.pending({ except: ["vault"] })).toBe(defaultBefore);
    expect(app.queue.job(sceneRef("vault", "1"))).toMatchObject({ reason: "sync: all scenes" });
    // A wrong instance id in the settings is named.
    vault.pluginSettings = { stash2plex: { url, adminToken: ADMIN_TOKEN, instance: "nosuch" } };
    const wrong = await runVaultTask("Show status");
    expect(wrong.log).toContain("this Stash (instance 'nosuch') is not one of stash2plex's: default, vault");
  }, 30_000);
});
