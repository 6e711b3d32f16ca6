/**
 * Two Stash instances, one service, each its own provider in Plex (issue 19). The two Stash
 * libraries use the same scene ids for different scenes; PMS has one section per instance,
 * each on its own provider (registered separately, as in Plex), and scans through it. Every
 * file must be matched to the scene of its own Stash: none answered from the other. The
 * service is the real one (createApp), with push on.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import type { ScanReport } from "../../sim/plex/scan.ts";
import { loadConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import { silentLogger } from "../../src/log.ts";
import { createApp, type App } from "../../src/app.ts";
import { refKey, type Ref } from "../../src/domain/ref.ts";
import { IDENTIFIER, spawnMain, tempDir, twoStashInstances, waitFor } from "../helpers.ts";

const VAULT = `${IDENTIFIER}.vault`;
const plexPath = (stashPath: string, root: string, plexRoot: string) => `${plexRoot}${stashPath.slice(root.length)}`;
const filesOf = (stash: StashSim) => [...stash.library.scenes.values()].flatMap((s) => s.files.map((f) => f.path));
/** The scene of a Stash that holds this (Stash) path: the truth a match is judged by. */
const sceneWith = (stash: StashSim, path: string) =>
  [...stash.library.scenes.values()].find((s) => s.files.some((f) => f.path === path))?.id;

let main: StashSim;
let vault: StashSim;
let pms: PmsSim;
let config: Config;
let env: Record<string, string>;
let app: App;
let service: { url: string };
/** Each scene a provider told the push side it served (what confirms a push), by reference key. */
const served: string[] = [];

beforeAll(async () => {
  // Same ids (1..50) in both, different scenes (another seed) in different folders.
  main = new StashSim({ scenes: 50, seed: 21, root: "/data/main", windowsShare: 0 }).start();
  vault = new StashSim({ scenes: 50, seed: 22, root: "/data/vault", windowsShare: 0 }).start();
  pms = new PmsSim().start();
  env = {
    DATA_DIR: tempDir(),
    SYNC_POLL_SECONDS: "0",
    PUBLIC_URL: "http://stash2plex.lan:8787",
    PLEX_URL: pms.url,
    PLEX_TOKEN: pms.token,
    STASH_INSTANCES: twoStashInstances(main, vault),
  };
  config = loadConfig(env, undefined);
  app = createApp(config, { log: silentLogger });
  // What a provider reports as fetched by PMS is what confirms a push (sync/plugin.ts).
  const confirmPull = app.queue.confirmPull;
  app.queue.confirmPull = Object.assign((ref: Ref) => {
    served.push(refKey(ref));
    return confirmPull(ref);
  }, confirmPull);
  await app.start(0, "127.0.0.1");
  service = { url: app.url! };
  // Both indexes built before the scans (start-up only triggers them).
  await Promise.all([app.stashIndex.refresh(), ...app.instanceProviders.map((p) => p.index.refresh())]);
  pms.addSection(
    { key: "1", title: "Main", type: "movie", agent: IDENTIFIER, locations: ["/media/Main"] },
    filesOf(main).map((p) => plexPath(p, "/data/main", "/media/Main")),
  );
  pms.addSection(
    { key: "2", title: "Vault", type: "movie", agent: VAULT, locations: ["/media/Vault"] },
    filesOf(vault).map((p) => plexPath(p, "/data/vault", "/media/Vault")),
  );
});

afterAll(async () => {
  await app?.stop();
  await pms.stop();
  await main.stop();
  await vault.stop();
  rmSync(config.dataDir, { recursive: true, force: true });
});

/** Matched files, and those matched to a scene that does not hold the file in that Stash. */
function judge(report: ScanReport, stash: StashSim, identifier: string, root: string, plexRoot: string) {
  const matched = report.results.filter((r) => r.metadata);
  const wrong = matched.filter((r) => {
    const truth = sceneWith(stash, `${root}${r.file.path.slice(plexRoot.length)}`);
    return r.metadata!.guid !== `${identifier}://movie/${truth}`;
  });
  return {
    files: report.results.length,
    matched: matched.length,
    wrong: wrong.map((r) => `${r.file.path} → ${r.metadata!.guid}`),
  };
}

describe("two Stash instances, one service, a provider each", () => {
  test("the scene ids overlap: what tells the two apart is the provider", () => {
    expect(main.library.scenes.get("7")?.files[0]?.path).toStartWith("/data/main/");
    expect(vault.library.scenes.get("7")?.files[0]?.path).toStartWith("/data/vault/");
  });

  test("PMS adds each provider by its URL and learns its own identifier", async () => {
    expect(await pms.registerProvider(service.url)).toBe(IDENTIFIER);
    expect(await pms.registerProvider(`${service.url}/instances/vault`)).toBe(VAULT);
    const vaultDoc = (await (await fetch(`${service.url}/instances/vault`)).json()) as any;
    expect(vaultDoc.MediaProvider).toMatchObject({
      identifier: VAULT,
      title: "Stash (Vault)",
      Types: [{ type: 1, Scheme: [{ scheme: VAULT }] }],
    });
  });

  test("a scan of each section matches every file to its own Stash's scene, none wrong", async () => {
    const a = await pms.scan("1");
    const b = await pms.scan("2");
    expect(a.violations).toEqual([]);
    expect(b.violations).toEqual([]);
    const ja = judge(a, main, IDENTIFIER, "/data/main", "/media/Main");
    const jb = judge(b, vault, VAULT, "/data/vault", "/media/Vault");
    expect(ja.files).toBeGreaterThan(50);
    expect(ja).toEqual({ files: ja.files, matched: ja.files, wrong: [] });
    expect(jb).toEqual({ files: jb.files, matched: jb.files, wrong: [] });
  }, 60_000);

  test("images of the second instance are served below its own URL, from its own Stash", async () => {
    const item = [...pms.items.values()].find((i) => i.sectionId === "2" && i.fields.thumb)!;
    expect(item.fields.thumb).toStartWith(`${config.publicUrl}/instances/vault/images/scene/`);
    const res = await fetch(`${service.url}${new URL(item.fields.thumb).pathname}`);
    expect(res.status).toBe(200);
  });

  test("one Stash down: its provider answers 503 (PMS keeps what it has), the other's goes on", async () => {
    await vault.stop();
    try {
      const down = await fetch(`${service.url}/instances/vault/library/metadata/7`);
      expect(down.status).toBe(503);
      expect(((await down.json()) as { error?: unknown }).error).toBeDefined();
      const up = (await (await fetch(`${service.url}/library/metadata/7`)).json()) as any;
      expect(up.MediaContainer.Metadata[0].guid).toBe(`${IDENTIFIER}://movie/7`);
      expect((await fetch(`${service.url}/instances/vault/library/metadata/bad%20key`)).status).toBe(400);
    } finally {
      vault.start();
    }
  });

  test("a refresh re-pulls from the provider the item's GUID names", async () => {
    const item = [...pms.items.values()].find((i) => i.sectionId === "2")!;
    const id = item.guid.split("/").at(-1)!;
    vault.library.scenes.get(id)!.title = "Renamed in the vault";
    main.library.scenes.get(id)!.title = "Renamed in main";
    served.length = 0;
    const res = await fetch(`${pms.url}/library/metadata/${item.ratingKey}/refresh`, {
      method: "PUT",
      headers: { "X-Plex-Token": pms.token },
    });
    expect(res.status).toBe(200);
    await pms.idle();
    expect(pms.items.get(item.ratingKey)!.title).toBe("Renamed in the vault");
    // What confirms a push names the vault's scene, not main's scene with the same id.
    expect(await waitFor(() => served.length > 0)).toBe(true);
    expect(served).toEqual([`vault:scene:${id}`]);
  });

  test("`stash2plex check` checks each instance and prints the URL to paste for each", async () => {
    const p = spawnMain({ ...env, PLEX_URL: pms.url, PLEX_TOKEN: pms.token }, ["check"]);
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    expect(out).not.toContain("FAIL");
    expect(code).toBe(0);
    expect(out).toMatch(/^ok {3}stash "default": reached http:\/\/127\.0\.0\.1:\d+ \(Stash .*, 50 scenes\)$/m);
    expect(out).toMatch(/^ok {3}stash "vault": reached http:\/\/127\.0\.0\.1:\d+ \(Stash .*, 50 scenes\)$/m);
    expect(out).toContain(
      `ok   provider "default": add http://stash2plex.lan:8787 in Plex (Settings → Metadata Agents → Add Provider); identifier ${IDENTIFIER}`,
    );
    expect(out).toContain(
      `ok   provider "vault": add http://stash2plex.lan:8787/instances/vault in Plex (Settings → Metadata Agents → Add Provider); identifier ${VAULT}`,
    );
    // Each instance's coverage counts the files of its own section only: all of them map.
    const main = /^ok {3}path coverage "default": (\d+) of (\d+) Plex files map/m.exec(out);
    const vault = /^ok {3}path coverage "vault": (\d+) of (\d+) Plex files map/m.exec(out);
    expect(main?.[1]).toBe(main?.[2]);
    expect(vault?.[1]).toBe(vault?.[2]);
    expect(Number(main?.[2])).toBe(pms.disk.get("1")!.length);
    expect(Number(vault?.[2])).toBe(pms.disk.get("2")!.length);
  }, 60_000);

  test("check: PATHS_AUTO applies to the default instance only; another one is told where to paste its rules", async () => {
    const list = JSON.parse(env.STASH_INSTANCES!);
    delete list[1].paths;
    const p = spawnMain(
      { ...env, STASH_INSTANCES: JSON.stringify(list), PATHS_AUTO: "true", PLEX_URL: pms.url, PLEX_TOKEN: pms.token },
      ["check"],
    );
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    expect(code).toBe(0);
    const vaultNote = out.slice(out.indexOf(`note path rules proposed "vault"`));
    expect(vaultNote).toContain(
      `paste these under this Stash ("vault") in the stash list of config.yaml, as its paths:`,
    );
    expect(vaultNote).not.toContain("PATHS_AUTO is on");
  }, 60_000);
});
