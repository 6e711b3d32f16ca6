/**
 * The TV provider end to end: the real routes (movie and TV provider of one Stash instance)
 * over HTTP, backed by the Stash simulator and a real TV catalog (SQLite) built from it. Every
 * answer is checked against the provider contract as the PMS simulator checks it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { containerProblems, pmsRequestHeaders, providerRequestUrl } from "../../sim/plex/scan.ts";
import { loadConfig } from "../../src/config/load.ts";
import { instancesOf } from "../../src/config/instances.ts";
import { createInstanceProvider, tvProviderSide } from "../../src/provider/plugin.ts";
import { httpBasics } from "../../src/http.ts";
import { silentLogger } from "../../src/log.ts";
import { openStore } from "../../src/store/db.ts";
import { createTvCatalog } from "../../src/tv/catalog.ts";
import { refKey, type Ref } from "../../src/domain/ref.ts";
import type { PlexMetadata } from "../../src/schema/plex.ts";
import { IDENTIFIER, post, tempDir, testEnv } from "../helpers.ts";

const TV = `${IDENTIFIER}.tv`;
const PMS = { machineIdentifier: "feedfacefeedfacefeedfacefeedfacefeedface", version: "1.43.0.sim" };

let stash: StashSim;
let server: ReturnType<typeof Bun.serve>;
let base: string;
let catalog: ReturnType<typeof createTvCatalog>;
let store: ReturnType<typeof openStore>;
let provider: ReturnType<typeof createInstanceProvider>;
const served: { ref: string; client?: string }[] = [];

beforeAll(async () => {
  stash = new StashSim({ scenes: 400, seed: 3 }).start();
  // A group named like a studio: a name two shows share must never be matched by name alone.
  stash.library.groups.get("1")!.name = "Vixenia";
  const config = loadConfig(testEnv(stash, undefined), undefined);
  provider = createInstanceProvider(config, instancesOf(config)[0]!, { log: silentLogger });
  await provider.index.refresh();
  store = openStore(tempDir());
  catalog = createTvCatalog({ db: store.db, instance: "default", schemes: ["st", "sn", "gr"] });
  await catalog.build(provider.stash);
  const tv = tvProviderSide({
    stash: provider.stash,
    index: provider.index,
    ctx: provider.ctx,
    title: provider.title,
    catalog,
    log: silentLogger,
    mount: provider.mount,
    onServed: (ref: Ref, caller) => served.push({ ref: refKey(ref), client: caller.clientIdentifier }),
  });
  const app = new Elysia().use(httpBasics(silentLogger)).use(provider.routes).use(tv.plugin);
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => app.handle(req) });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server.stop(true);
  await stash.stop();
  provider.index.close();
  store.close();
});

const get = async (path: string, headers: Record<string, string> = {}) => {
  const res = await fetch(`${base}/tv${path}`, { headers: { ...pmsRequestHeaders(PMS), ...headers } });
  const body = (await res.json()) as any;
  if (res.status === 200) expect(containerProblems(`GET ${path}`, res.status, body, TV)).toEqual([]);
  return {
    status: res.status,
    body,
    mc: body.MediaContainer,
    items: (body.MediaContainer?.Metadata ?? []) as PlexMetadata[],
  };
};
const match = async (body: Record<string, unknown>) => {
  const res = await post(`${base}/tv/library/metadata/matches`, body);
  const json = (await res.json()) as any;
  expect(res.status).toBe(200);
  expect(containerProblems("match", res.status, json, TV)).toEqual([]);
  return json.MediaContainer.Metadata as PlexMetadata[];
};

/** The biggest studio show with dated and undated seasons and a name no other show has. */
const studioShow = () => {
  const show = catalog
    .shows()
    .filter((s) => s.id.startsWith("st") && s.title !== "Vixenia" && catalog.seasons(s.id).some((x) => x.season === 0))
    .sort((a, b) => b.episodes - a.episodes)[0]!;
  return show;
};

describe("discovery", () => {
  test("the TV provider declares show, season and episode under its own identifier; the movie one is unchanged", async () => {
    const tv = (await (await fetch(`${base}/tv/?includePreferences=1`)).json()) as any;
    expect(tv.MediaProvider.identifier).toBe(TV);
    expect(tv.MediaProvider.Types).toEqual([2, 3, 4].map((type) => ({ type, Scheme: [{ scheme: TV }] })));
    expect(tv.MediaProvider.Feature.map((f: any) => f.type).sort()).toEqual(["match", "metadata"]);
    const movie = (await (await fetch(`${base}/?includePreferences=1`)).json()) as any;
    expect(movie.MediaProvider.identifier).toBe(IDENTIFIER);
    expect(movie.MediaProvider.Types).toEqual([{ type: 1, Scheme: [{ scheme: IDENTIFIER }] }]);
    const scene = (await (await fetch(`${base}/library/metadata/1`)).json()) as any;
    expect(scene.MediaContainer.Metadata[0].guid).toBe(`${IDENTIFIER}://movie/1`);
  });

  test("the registered URL itself answers too, without a slash before ?includePreferences=1 (as PMS 1.43 asks)", async () => {
    const res = await fetch(`${base}/tv?includePreferences=1`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).MediaProvider.identifier).toBe(TV);
  });
});

describe("metadata", () => {
  test("a studio show: its name, poster through our proxy, seasons and episodes counted", async () => {
    const show = studioShow();
    const studio = stash.library.studios.find((s) => `st${s.id}` === show.id)!;
    const { status, items } = await get(`/library/metadata/${show.id}`);
    expect(status).toBe(200);
    const m = items[0]!;
    expect(m).toMatchObject({
      type: "show",
      ratingKey: show.id,
      guid: `${TV}://show/${show.id}`,
      title: studio.name,
      childCount: catalog.seasons(show.id).length,
      leafCount: catalog.episodes(show.id).length,
    });
    // Stash's image version (its `t=`) rides along: a new studio image is a new URL for PMS.
    if (studio.image_path) expect(m.thumb).toBe(`${provider.ctx.publicUrl}/images/studio/${studio.id}?t=1735689600`);
    else expect(m.thumb).toBeUndefined();
    expect(m.summary).toBe(studio.details ?? undefined);
    expect(m.Children).toBeUndefined();
  });

  test("a network show (a studio with its sub-studios): the parent studio's description and poster", async () => {
    const network = stash.library.studios.find((s) => s.id === "100")!;
    const { items } = await get("/library/metadata/sn100");
    expect(items[0]).toMatchObject({
      type: "show",
      title: network.name,
      summary: network.details!,
      thumb: `${provider.ctx.publicUrl}/images/studio/100?t=1735689600`,
    });
  });

  test("a group show: the group's name, synopsis and front image", async () => {
    const group = stash.library.groups.get("1")!;
    const { items } = await get("/library/metadata/gr1");
    expect(items[0]).toMatchObject({
      type: "show",
      title: group.name,
      thumb: `${provider.ctx.publicUrl}/images/group/1?t=1735689600`,
    });
    expect(items[0]!.summary).toBe(group.synopsis ?? undefined);
  });

  test("includeChildren=1 on a show lists every season inside; on a season every episode", async () => {
    const show = studioShow();
    const { items } = await get(`/library/metadata/${show.id}?includeChildren=1`);
    const seasons = items[0]!.Children!.Metadata as PlexMetadata[];
    expect(seasons.map((s) => s.index)).toEqual(catalog.seasons(show.id).map((s) => s.season));
    expect(seasons.find((s) => s.index === 0)?.title).toBe("Specials");
    const year = seasons.find((s) => (s.index ?? 0) > 0)!;
    expect(year.title).toBe(`Season ${year.index}`);
    expect(year).toMatchObject({ parentRatingKey: show.id, parentTitle: show.title, parentType: "show" });

    const season = await get(`/library/metadata/${year.ratingKey}?includeChildren=1`);
    const episodes = season.items[0]!.Children!.Metadata as PlexMetadata[];
    const placed = catalog.episodes(show.id, year.index);
    expect(episodes.map((e) => e.ratingKey)).toEqual(placed.map((p) => `st-${p.sceneId}`));
    expect(episodes.map((e) => e.index)).toEqual(placed.map((p) => p.episode));
  });

  test("an episode says what its scene says, where it sits, and tells the push side it was served", async () => {
    const scene = [...stash.library.scenes.values()].find(
      (s) => s.studio && s.date && s.title && s.performers.length && s.tags.length && s.hasScreenshot && s.rating100,
    )!;
    const placement = catalog.placementOf("st", scene.id)!;
    await Bun.sleep(20); // the earlier tests' answers are all confirmed
    served.length = 0;
    const { items } = await get(`/library/metadata/st-${scene.id}`);
    const m = items[0]!;
    expect(m).toMatchObject({
      type: "episode",
      guid: `${TV}://episode/st-${scene.id}`,
      title: scene.title!,
      originallyAvailableAt: scene.date!,
      summary: scene.details ?? undefined,
      index: placement.episode,
      parentIndex: placement.season,
      parentRatingKey: `${placement.showId}-${placement.season}`,
      parentTitle: `Season ${placement.season}`,
      grandparentRatingKey: placement.showId,
      grandparentTitle: scene.studio!.name,
      grandparentGuid: `${TV}://show/${placement.showId}`,
      thumb: `${provider.ctx.publicUrl}/images/scene/${scene.id}`,
      contentRating: provider.ctx.contentRating,
    });
    expect(m.Role?.map((r) => r.tag)).toEqual(scene.performers.map((p) => p.name));
    expect(m.Genre?.map((g) => g.tag)).toEqual(scene.tags.map((t) => t.name));
    expect(m.Rating?.[0]?.value).toBe(scene.rating100! / 10);
    expect(m.duration).toBe(Math.round(Math.max(...scene.files.map((f) => f.duration)) * 1000));
    expect(m.Collection).toBeUndefined();
    await Bun.sleep(20);
    expect(served).toEqual([{ ref: `default:episode:st-${scene.id}`, client: PMS.machineIdentifier }]);
  });

  test("the same scene in a group show is another item with its own parent", async () => {
    const placed = catalog.placements("gr").find((p) => p.season === 1)!;
    const { items } = await get(`/library/metadata/gr-${placed.sceneId}`);
    expect(items[0]).toMatchObject({
      guid: `${TV}://episode/gr-${placed.sceneId}`,
      grandparentRatingKey: placed.showId,
      parentIndex: 1,
      index: placed.episode,
    });
  });

  test("images of an episode and a show", async () => {
    const show = studioShow();
    const first = catalog.episodes(show.id).find((p) => stash.library.scenes.get(p.sceneId)!.hasScreenshot)!;
    const ep = await get(`/library/metadata/st-${first.sceneId}/images`);
    expect(ep.mc.Image.map((i: any) => i.type)).toEqual(["snapshot", "background"]);
    const sh = await get("/library/metadata/gr1/images");
    expect(sh.mc.Image[0]).toMatchObject({
      type: "coverPoster",
      url: `${provider.ctx.publicUrl}/images/group/1?t=1735689600`,
    });
  });
});

describe("children and grandchildren, paged", () => {
  test("a show's grandchildren page by page (headers) are all its episodes in order, one Stash request per page", async () => {
    const show = studioShow();
    const all = catalog.episodes(show.id);
    expect(all.length).toBeGreaterThan(45);
    const keys: string[] = [];
    await Bun.sleep(20);
    served.length = 0;
    for (let start = 0; ; start += 20) {
      const before = stash.operations.length;
      const page = await get(`/library/metadata/${show.id}/grandchildren`, {
        "X-Plex-Container-Start": String(start),
        "X-Plex-Container-Size": "20",
      });
      expect(stash.operations.length - before).toBe(1);
      expect(page.mc).toMatchObject({ offset: start, totalSize: all.length, size: Math.min(20, all.length - start) });
      keys.push(...page.items.map((e) => e.ratingKey));
      expect(page.items.every((e) => e.grandparentRatingKey === show.id)).toBe(true);
      if (start + 20 >= all.length) break;
    }
    expect(keys).toEqual(all.map((p) => `st-${p.sceneId}`));
    await Bun.sleep(20);
    // A listing confirms no episode to the push side: a scan may read it to place other files,
    // and PMS may keep the episodes it has as they are (tv-routes.ts; tv.test.ts shows the case).
    expect(served).toEqual([]);
  });

  test("a season's children by query parameters; no paging is the first 20", async () => {
    const show = studioShow();
    const season = catalog.seasons(show.id).find((s) => s.episodes > 5)!;
    const key = `${show.id}-${season.season}`;
    const placed = catalog.episodes(show.id, season.season);
    const page = await get(`/library/metadata/${key}/children?X-Plex-Container-Start=2&X-Plex-Container-Size=3`);
    expect(page.mc).toMatchObject({ offset: 2, totalSize: placed.length, size: 3 });
    expect(page.items.map((e) => e.index)).toEqual(placed.slice(2, 5).map((p) => p.episode));
    const whole = await get(`/library/metadata/${show.id}/children`);
    expect(whole.mc.totalSize).toBe(catalog.seasons(show.id).length);
    expect(whole.items.every((s) => s.type === "season")).toBe(true);
    const big = catalog.shows().sort((a, b) => b.episodes - a.episodes)[0]!;
    const first = await get(`/library/metadata/${big.id}/grandchildren`);
    expect(first.mc).toMatchObject({ offset: 0, size: 20, totalSize: big.episodes });
  });
});

describe("children and grandchildren, counted from 0 or from 1", () => {
  /** Every item of a listing, read as a PMS counting from `base` reads it; checks each page's offset. */
  const readAll = async (path: string, base: 0 | 1, size: number) => {
    const keys: string[] = [];
    for (let seen = 0, total = 1; seen < total; ) {
      const page = await get(`${path}?X-Plex-Container-Start=${base + seen}&X-Plex-Container-Size=${size}`);
      expect(page.status).toBe(200);
      // The offset says where the page served begins, counted from 0.
      expect(page.mc.offset).toBe(seen);
      if (!page.items.length) break;
      keys.push(...page.items.map((m) => m.ratingKey));
      seen += page.items.length;
      total = page.mc.totalSize;
    }
    return keys;
  };

  test("a PMS asking 1, 21, 41… gets every episode of a show exactly once, as one asking 0, 20, 40… does", async () => {
    const show = studioShow();
    const all = catalog.episodes(show.id).map((p) => `st-${p.sceneId}`);
    expect(all.length).toBeGreaterThan(45);
    for (const base of [0, 1] as const)
      expect(await readAll(`/library/metadata/${show.id}/grandchildren`, base, 20)).toEqual(all);
  });

  test("a season's episodes and a show's seasons, in small pages, from 0 or from 1", async () => {
    const show = studioShow();
    const season = catalog.seasons(show.id).find((s) => s.episodes > 5)!;
    const episodes = catalog.episodes(show.id, season.season).map((p) => `st-${p.sceneId}`);
    const seasons = catalog.seasons(show.id).map((s) => `${show.id}-${s.season}`);
    expect(seasons.length).toBeGreaterThan(2);
    for (const base of [0, 1] as const) {
      expect(await readAll(`/library/metadata/${show.id}-${season.season}/children`, base, 3)).toEqual(episodes);
      expect(await readAll(`/library/metadata/${show.id}/children`, base, 2)).toEqual(seasons);
    }
  });
});

describe("extras, language and country", () => {
  test("extras: an empty container for a show, a season and an episode, without asking Stash; 400 for a key of no TV form", async () => {
    const show = studioShow();
    const season = catalog.seasons(show.id)[0]!;
    const episode = catalog.episodes(show.id)[0]!;
    const before = stash.operations.length;
    for (const key of [show.id, `${show.id}-${season.season}`, `st-${episode.sceneId}`, "st-999999"]) {
      const { status, mc } = await get(`/library/metadata/${key}/extras`);
      expect(status).toBe(200);
      expect(mc).toEqual({ offset: 0, totalSize: 0, size: 0, identifier: TV, Metadata: [] });
    }
    expect(stash.operations.length).toBe(before);
    expect((await get("/library/metadata/st12-x/extras")).status).toBe(400);
  });

  test("language and country in headers, in the query or absent change no answer", async () => {
    const show = studioShow();
    const episode = catalog.episodes(show.id)[0]!;
    const answer = async (path: string, via: "header" | "query" | "none", init: RequestInit = {}) => {
      const pms = { ...PMS, localeVia: via };
      const res = await fetch(providerRequestUrl(`${base}/tv${path}`, pms), {
        ...init,
        headers: { ...pmsRequestHeaders(pms), ...(init.body ? { "content-type": "application/json" } : {}) },
      });
      return [res.status, await res.json()];
    };
    const calls: [string, RequestInit?][] = [
      [`/library/metadata/${show.id}?includeChildren=1`],
      [`/library/metadata/st-${episode.sceneId}`],
      [`/library/metadata/${show.id}/grandchildren`],
      [`/library/metadata/${show.id}/images`],
      ["/library/metadata/matches", { method: "POST", body: JSON.stringify({ type: 2, title: show.title }) }],
    ];
    for (const [path, init] of calls) {
      const header = await answer(path, "header", init);
      expect(header[0]).toBe(200);
      expect(await answer(path, "query", init)).toEqual(header);
      expect(await answer(path, "none", init)).toEqual(header);
    }
  });
});

describe("status codes", () => {
  test("400 for a key of no TV form, 404 for an unknown show, season or episode", async () => {
    for (const key of ["42", "abc", "st12-x", "xx-1", "st-"])
      expect((await get(`/library/metadata/${key}`)).status).toBe(400);
    expect((await get("/library/metadata/st999999")).status).toBe(404);
    expect((await get(`/library/metadata/${studioShow().id}-1850`)).status).toBe(404);
    expect((await get("/library/metadata/st-999999")).status).toBe(404);
    expect((await get("/library/metadata/st999999/grandchildren")).status).toBe(404);
    expect((await get(`/library/metadata/st-1/children`)).status).toBe(404);
  });

  test("Stash down: metadata 503, match an empty container", async () => {
    const show = studioShow();
    const ep = catalog.episodes(show.id)[0]!;
    stash.faults.errorPage = 502;
    try {
      expect((await get(`/library/metadata/st-${ep.sceneId}`)).status).toBe(503);
      expect((await get(`/library/metadata/${show.id}/grandchildren`)).status).toBe(503);
      const list = await match({ type: 3, parentTitle: show.title, index: ep.season, includeChildren: 1 });
      expect(list).toEqual([]);
    } finally {
      stash.faults.errorPage = null;
    }
  });
});

describe("match", () => {
  test("a show by the token in its folder, by its exact name, never by a name two shows share", async () => {
    const show = studioShow();
    const link = catalog.episodes(show.id)[0]!.link;
    const byToken = await match({ type: 2, title: "whatever", filename: `TV/${link}`, includeChildren: 1 });
    expect(byToken.map((m) => m.ratingKey)).toEqual([show.id]);
    expect((byToken[0]!.Children!.Metadata as PlexMetadata[]).length).toBe(catalog.seasons(show.id).length);
    expect((await match({ type: 2, title: show.title.toUpperCase() })).map((m) => m.ratingKey)).toEqual([show.id]);
    // "Vixenia" is a studio (st2, and its own network sn2) and a group (gr1) here.
    expect(await match({ type: 2, title: "Vixenia" })).toEqual([]);
    const fix = await match({ type: 2, title: "Vixenia", manual: 1 });
    expect(fix.map((m) => m.ratingKey).sort()).toEqual(["gr1", "sn2", "st2"]);
    expect(await match({ type: 2, title: "No Such Show" })).toEqual([]);
  });

  test("a re-match with our GUID names the item, whatever the title; a movie GUID names no show", async () => {
    const show = studioShow();
    const p = catalog.episodes(show.id)[3]!;
    const again = await match({ type: 2, title: "renamed by hand", guid: `${TV}://show/${show.id}` });
    expect(again.map((m) => m.ratingKey)).toEqual([show.id]);
    const episode = await match({ type: 4, title: "x", guid: `${TV}://episode/st-${p.sceneId}` });
    expect(episode.map((m) => m.ratingKey)).toEqual([`st-${p.sceneId}`]);
    expect(await match({ type: 2, title: "renamed by hand", guid: `${IDENTIFIER}://movie/${p.sceneId}` })).toEqual([]);
  });

  test("a season by its show and number", async () => {
    const show = studioShow();
    const season = catalog.seasons(show.id).find((s) => s.season > 0)!;
    const found = await match({ type: 3, parentTitle: show.title, index: season.season });
    expect(found.map((m) => m.ratingKey)).toEqual([`${show.id}-${season.season}`]);
    const link = catalog.episodes(show.id, season.season)[0]!.link;
    const byFolder = await match({ type: 3, filename: `TV/${link}` });
    expect(byFolder.map((m) => m.ratingKey)).toEqual([`${show.id}-${season.season}`]);
  });

  test("an episode by the token in its file name, exactly; else by its show's and its own numbers", async () => {
    const show = studioShow();
    const p = catalog.episodes(show.id).at(-1)!;
    const byToken = await match({ type: 4, title: "wrong title", filename: `TV/${p.link}` });
    expect(byToken.map((m) => m.ratingKey)).toEqual([`st-${p.sceneId}`]);
    const byNumbers = await match({ type: 4, grandparentTitle: show.title, parentIndex: p.season, index: p.episode });
    expect(byNumbers.map((m) => m.ratingKey)).toEqual([`st-${p.sceneId}`]);
    expect(await match({ type: 4, title: "nothing like it" })).toEqual([]);
  });

  test("Fix Match on an episode: by typed title words, by typed scene id, with show, season and episode", async () => {
    const scene = [...stash.library.scenes.values()].find((s) => s.title && s.studio && s.groups.length)!;
    const words = scene.title!.split(" ");
    const byTitle = await match({ type: 4, title: words.join(" "), manual: 1 });
    const keys = byTitle.map((m) => m.ratingKey);
    expect(keys).toContain(`st-${scene.id}`);
    const st = byTitle.find((m) => m.ratingKey === `st-${scene.id}`)!;
    const placement = catalog.placementOf("st", scene.id)!;
    expect(st.title).toBe(`${scene.title} (${scene.studio!.name} · S${placement.season}E${placement.episode})`);
    expect(st.score).toBeGreaterThanOrEqual(90);

    const byId = await match({ type: 4, title: scene.id, manual: 1 });
    expect(byId.map((m) => m.ratingKey).sort()).toEqual(
      ["st", "sn", "gr"]
        .filter((s) => catalog.placementOf(s as any, scene.id))
        .map((s) => `${s}-${scene.id}`)
        .sort(),
    );
    const inShow = await match({
      type: 4,
      title: scene.id,
      manual: 1,
      filename: `TV/${catalog.placementOf("gr", scene.id)!.link}`,
    });
    expect(inShow.map((m) => m.ratingKey)[0]).toBe(`gr-${scene.id}`);
  });
});

describe("another Stash instance", () => {
  test("its TV provider is below its own path, under its own identifier, and names its own references", async () => {
    const vaultServed: string[] = [];
    const vault = tvProviderSide({
      stash: provider.stash,
      index: provider.index,
      ctx: {
        ...provider.ctx,
        identifier: `${IDENTIFIER}.vault`,
        publicUrl: `${provider.ctx.publicUrl}/instances/vault`,
      },
      title: "Stash (Vault)",
      catalog,
      log: silentLogger,
      mount: { id: "vault", path: "/instances/vault" },
      onServed: (ref) => vaultServed.push(refKey(ref)),
    });
    expect(vault.path).toBe("/instances/vault/tv");
    const app = new Elysia().use(httpBasics(silentLogger)).use(vault.plugin);
    const one = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => app.handle(req) });
    try {
      const url = `http://127.0.0.1:${one.port}/instances/vault/tv`;
      const discovery = (await (await fetch(`${url}/`)).json()) as any;
      expect(discovery.MediaProvider).toMatchObject({
        identifier: `${IDENTIFIER}.vault.tv`,
        title: "Stash (Vault) TV",
      });
      // As PMS asks: the registered URL itself, no slash before the query.
      const asked = await fetch(`${url}?includePreferences=1`);
      expect([asked.status, ((await asked.json()) as any).MediaProvider.identifier]).toEqual([
        200,
        `${IDENTIFIER}.vault.tv`,
      ]);
      const p = catalog.placements("st").find((x) => stash.library.scenes.get(x.sceneId)!.hasScreenshot)!;
      const body = (await (await fetch(`${url}/library/metadata/st-${p.sceneId}`)).json()) as any;
      const m = body.MediaContainer.Metadata[0];
      expect(m.guid).toBe(`${IDENTIFIER}.vault.tv://episode/st-${p.sceneId}`);
      expect(m.thumb).toBe(`${provider.ctx.publicUrl}/instances/vault/images/scene/${p.sceneId}`);
      await Bun.sleep(20);
      expect(vaultServed).toEqual([`vault:episode:st-${p.sceneId}`]);
    } finally {
      await one.stop(true);
    }
  });
});

describe("a TV section scanned by the PMS simulator", () => {
  test("every show matched, every file of the episode folder placed on its episode with Stash's metadata", async () => {
    const pms = new PmsSim().start();
    try {
      const files = catalog.placements("st").map((p) => `/media/TV/${p.link}`);
      pms.addSection({ key: "7", title: "Studios", type: "show", agent: TV, locations: ["/media/TV"] }, files);
      expect(await pms.registerProvider(`${base}/tv`)).toBe(TV);
      await Bun.sleep(20);
      served.length = 0;
      const report = await pms.scanTv("7");
      expect(report.violations).toEqual([]);
      expect(report.ignored).toEqual([]);
      expect(report.unmatched).toEqual([]);
      expect(report.placed.length).toBe(files.length);
      const shows = pms.tv.itemsOf("7", "show");
      expect(shows.map((s) => s.guid).sort()).toEqual(
        catalog
          .shows()
          .filter((s) => s.id.startsWith("st"))
          .map((s) => `${TV}://show/${s.id}`)
          .sort(),
      );
      const episodes = pms.tv.itemsOf("7", "episode");
      expect(episodes.length).toBe(files.length);
      for (const ep of episodes) {
        const sceneId = /\/episode\/st-(\d+)$/.exec(ep.guid)?.[1];
        const scene = stash.library.scenes.get(sceneId!)!;
        const placement = catalog.placementOf("st", sceneId!)!;
        expect(ep.files).toEqual([`/media/TV/${placement.link}`]);
        expect(ep.index).toBe(placement.episode);
        expect(ep.title).toBe(scene.title ?? scene.files[0]!.basename.replace(/\.[^.]+$/, ""));
        if (scene.date) expect(ep.fields.originallyAvailableAt).toBe(scene.date);
        expect((ep.fields.Role ?? []).length).toBe(scene.performers.length);
      }
      await Bun.sleep(20);
      // The listing PMS placed the files from confirms no episode to the push side (a push
      // waiting on a placed episode reads it back); shows a scan fetched by their key are told.
      expect(served.filter((s) => s.ref.includes(":episode:"))).toEqual([]);
      expect(served.some((s) => s.ref.includes(":show:"))).toBe(true);
    } finally {
      await pms.stop();
    }
  });

  test("a PMS counting from 1, paging by headers and query in turn, language in the query: every file placed, every refresh's extras answered", async () => {
    const pms = Object.assign(new PmsSim(), { localeVia: "query" as const }).start();
    try {
      // Small pages: many page boundaries, each asked as 1, 8, 15…
      Object.assign(pms.tv, { pagingStartsAt: 1, pagingVia: "alternate", seasonsVia: "children", pageSize: 7 });
      const files = catalog.placements("st").map((p) => `/media/TV/${p.link}`);
      pms.addSection({ key: "7", title: "Studios", type: "show", agent: TV, locations: ["/media/TV"] }, files);
      expect(await pms.registerProvider(`${base}/tv`)).toBe(TV);
      const report = await pms.scanTv("7");
      expect([report.violations, report.ignored, report.unmatched]).toEqual([[], [], []]);
      expect(report.placed.length).toBe(files.length);
      const episodes = pms.tv.itemsOf("7", "episode");
      expect(episodes.filter((e) => e.guid.startsWith("local://"))).toEqual([]);
      expect(new Set(episodes.map((e) => e.guid)).size).toBe(files.length);
      // A refresh of an episode, its season and its show: each asks for its extras after its metadata.
      const episode = episodes[0]!;
      const season = pms.items.get(episode.parentRatingKey!)!;
      const show = pms.items.get(season.parentRatingKey!)!;
      for (const item of [episode, season, show]) {
        const res = await fetch(`${pms.url}/library/metadata/${item.ratingKey}/refresh`, {
          method: "PUT",
          headers: { "X-Plex-Token": pms.token },
        });
        expect(res.status).toBe(200);
        await pms.idle();
      }
      const key = (guid: string) => guid.replace(/^.*\//, "");
      expect(pms.tv.extras).toEqual(
        [episode, season, show].map((i) => ({
          provider: `${base}/tv`,
          path: `/library/metadata/${key(i.guid)}/extras`,
          status: 200,
        })),
      );
      expect(pms.violations).toEqual([]);
    } finally {
      await pms.stop();
    }
  });
});
