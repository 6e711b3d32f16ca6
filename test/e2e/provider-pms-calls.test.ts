/**
 * What a real PMS calls that our own scans did not (issue 25; ../shared/plex/real-pms-evidence.md):
 * discovery at the registered URL itself (`{URL}?includePreferences=1`, no slash before the
 * query) under every mount, `/extras` after the metadata on every refresh, `/children` and
 * `/grandchildren` paged from 1, language and country in the query string. The real service
 * (two Stash instances, a TV library each: providers at `/`, `/tv`, `/instances/vault` and
 * `/instances/vault/tv`) against a PMS simulator that does all of these at once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim, type SimItem } from "../../sim/plex/server.ts";
import { loadConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import { createApp, type App } from "../../src/app.ts";
import { silentLogger } from "../../src/log.ts";
import { IDENTIFIER, tempDir, twoStashInstances, waitFor } from "../helpers.ts";

const VAULT = `${IDENTIFIER}.vault`;
const TV = `${IDENTIFIER}.tv`;
const VAULT_TV = `${VAULT}.tv`;

let main: StashSim;
let vault: StashSim;
let pms: PmsSim;
let config: Config;
let app: App;

/** A port nothing listens on now. */
function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

/** A Stash simulator's files as Plex sees them (its /data/<name> under /media/<Name>). */
const plexFiles = (stash: StashSim, root: string, plexRoot: string) =>
  [...stash.library.scenes.values()].flatMap((s) => s.files.map((f) => `${plexRoot}${f.path.slice(root.length)}`));
/** The scenes a studio-layout TV library places: those with a studio and a file. */
const placeable = (stash: StashSim) => [...stash.library.scenes.values()].filter((s) => s.studio && s.files.length);
const itemsOf = (section: string, type: string) =>
  [...pms.items.values()].filter((i) => i.sectionId === section && (i.type ?? "movie") === type);

beforeAll(async () => {
  main = new StashSim({ scenes: 80, seed: 41, root: "/data/main", windowsShare: 0 }).start();
  vault = new StashSim({ scenes: 80, seed: 42, root: "/data/vault", windowsShare: 0 }).start();
  // A PMS that counts listings from 1 in pages of 7, pages by headers and query in turn, reads a
  // show's seasons from /children and sends language and country in the query string.
  pms = Object.assign(new PmsSim(), { localeVia: "query" as const }).start();
  Object.assign(pms.tv, { pagingStartsAt: 1, pagingVia: "alternate", seasonsVia: "children", pageSize: 7 });
  const mainTv = tempDir("s2p-tv-main-");
  const vaultTv = tempDir("s2p-tv-vault-");
  pms.addSection(
    { key: "1", title: "Main", type: "movie", agent: IDENTIFIER, locations: ["/media/Main"] },
    plexFiles(main, "/data/main", "/media/Main"),
  );
  pms.addSection(
    { key: "2", title: "Vault", type: "movie", agent: VAULT, locations: ["/media/Vault"] },
    plexFiles(vault, "/data/vault", "/media/Vault"),
  );
  pms.addSection({ key: "3", title: "Main sites", type: "show", agent: TV, locations: [mainTv] });
  pms.addSection({ key: "4", title: "Vault sites", type: "show", agent: VAULT_TV, locations: [vaultTv] });
  config = loadConfig(
    {
      DATA_DIR: tempDir(),
      PLEX_URL: pms.url,
      PLEX_TOKEN: pms.token,
      SYNC_POLL_SECONDS: "0",
      STASH_INSTANCES: twoStashInstances(main, vault),
      TV_LIBRARIES: JSON.stringify([
        { id: "sites", folder: mainTv, plexFolder: mainTv },
        { id: "vaultsites", instance: "vault", folder: vaultTv, plexFolder: vaultTv },
      ]),
    },
    undefined,
  );
  app = createApp(config, { log: silentLogger });
  // PMS knows the providers before the service starts (as after set-up): the start-up pass's TV
  // scans go through them, discovery included.
  const port = freePort();
  for (const [id, path] of [
    [IDENTIFIER, ""],
    [TV, "/tv"],
    [VAULT, "/instances/vault"],
    [VAULT_TV, "/instances/vault/tv"],
  ] as const)
    pms.providers.set(id, `http://127.0.0.1:${port}${path}`);
  await app.start(port, "127.0.0.1");
  await Promise.all([app.stashIndex.refresh(), ...app.instanceProviders.map((p) => p.index.refresh())]);
  const synced = await waitFor(() => {
    const jobs = app.scheduler.list().filter((j) => j.id.startsWith("tv-sync"));
    return jobs.length === 2 && jobs.every((j) => j.lastSuccessAt);
  }, 60_000);
  if (!synced) throw new Error("the TV libraries' start-up pass did not finish");
  await pms.idle();
}, 90_000);

afterAll(async () => {
  await app?.stop();
  await pms?.stop();
  await main?.stop();
  await vault?.stop();
  if (config) rmSync(config.dataDir, { recursive: true, force: true });
});

describe("a PMS asking the way the evidence says, against every mount", () => {
  test("PMS adds each of the four providers by its URL itself, no slash before ?includePreferences=1", async () => {
    expect(await pms.registerProvider(app.url!)).toBe(IDENTIFIER);
    expect(await pms.registerProvider(`${app.url}/tv`)).toBe(TV);
    expect(await pms.registerProvider(`${app.url}/instances/vault`)).toBe(VAULT);
    expect(await pms.registerProvider(`${app.url}/instances/vault/tv`)).toBe(VAULT_TV);
  });

  test("counting from 1, paging by headers and query in turn: every episode of both TV libraries placed", () => {
    expect(pms.violations).toEqual([]);
    for (const [section, stash, scheme] of [
      ["3", main, TV],
      ["4", vault, VAULT_TV],
    ] as const) {
      const episodes = itemsOf(section, "episode");
      expect(episodes.map((e) => e.guid).sort()).toEqual(
        placeable(stash)
          .map((s) => `${scheme}://episode/st-${s.id}`)
          .sort(),
      );
    }
  });

  test("language and country in the query: every movie file of both instances matched to its scene", async () => {
    for (const [section, stash, scheme, root, plexRoot] of [
      ["1", main, IDENTIFIER, "/data/main", "/media/Main"],
      ["2", vault, VAULT, "/data/vault", "/media/Vault"],
    ] as const) {
      const report = await pms.scan(section);
      expect(report.violations).toEqual([]);
      const truth = (path: string) =>
        [...stash.library.scenes.values()].find((s) =>
          s.files.some((f) => f.path === `${root}${path.slice(plexRoot.length)}`),
        )?.id;
      const wrong = report.results.filter((r) => r.metadata?.guid !== `${scheme}://movie/${truth(r.file.path)}`);
      expect(report.results.length).toBeGreaterThan(50);
      expect(wrong.map((r) => r.file.path)).toEqual([]);
    }
  });

  test("every refresh asks for the item's extras after its metadata: movies, shows, seasons and episodes of both instances", async () => {
    const refreshed: SimItem[] = [];
    for (const section of ["1", "2"]) refreshed.push(itemsOf(section, "movie")[0]!);
    for (const section of ["3", "4"]) {
      const episode = itemsOf(section, "episode")[0]!;
      const season = pms.items.get(episode.parentRatingKey!)!;
      refreshed.push(episode, season, pms.items.get(season.parentRatingKey!)!);
    }
    for (const item of refreshed) {
      const res = await fetch(`${pms.url}/library/metadata/${item.ratingKey}/refresh`, {
        method: "PUT",
        headers: { "X-Plex-Token": pms.token },
      });
      expect(res.status).toBe(200);
    }
    await pms.idle();
    const expected = refreshed.map((item) => {
      const [, scheme, key] = /^(.*):\/\/\w+\/(.*)$/.exec(item.guid)!;
      return { provider: pms.providerFor(scheme!)!, path: `/library/metadata/${key}/extras`, status: 200 };
    });
    expect(new Set(expected.map((e) => e.provider)).size).toBe(4);
    for (const e of expected) expect(pms.tv.extras).toContainEqual(e);
    expect(pms.tv.extras.filter((e) => e.status !== 200)).toEqual([]);
    expect(pms.violations).toEqual([]);
  });
});
