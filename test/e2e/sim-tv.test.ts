/**
 * The PMS simulator's TV libraries, before anything is built on them: the TV scanner's reading
 * of file names, a scan through a minimal TV provider defined here (match the show, read it with
 * its seasons, page through its episodes, place each file by its numbers), partial scans that
 * add, remove and move files on a real folder of symbolic links, the listings PMS answers for
 * shows, seasons and episodes, and refresh / Fix Match of TV items.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PmsSim } from "../../sim/plex/server.ts";
import { StashSim } from "../../sim/stash/server.ts";
import { parseEpisodePath } from "../../sim/plex/tv-scanner.ts";
import { discover } from "../../sim/plex/scan.ts";
import { servedStart } from "../../src/provider/envelope.ts";

const ID = "tv.plex.agents.custom.simtest.tv";

interface Ep {
  key: string;
  season: number;
  index: number;
  title: string;
  date?: string;
}
/** The test provider's catalog: one show, "Mega Network", with 45 episodes in 2023 and 2 specials. */
const show = { key: "sh1", title: "Mega Network", year: 2019 };
const episodes: Ep[] = [
  ...Array.from({ length: 45 }, (_, i) => ({
    key: `ep${i + 1}`,
    season: 2023,
    index: i + 1,
    title: `Episode ${i + 1}`,
    date: `2023-${String(1 + Math.floor(i / 4)).padStart(2, "0")}-${String(1 + (i % 4) * 7).padStart(2, "0")}`,
  })),
  { key: "sp1", season: 0, index: 1, title: "Special One" },
  { key: "sp2", season: 0, index: 2, title: "Special Two" },
];
const seasonNumbers = () => [...new Set(episodes.map((e) => e.season))].sort((a, b) => a - b);
const guid = (type: string, key: string) => `${ID}://${type}/${key}`;
const seasonKey = (n: number) => `${show.key}-${n}`;
const showMeta = () => ({
  ratingKey: show.key,
  key: `/library/metadata/${show.key}`,
  guid: guid("show", show.key),
  type: "show",
  title: show.title,
  year: show.year,
  summary: "A network.",
});
const seasonMeta = (n: number) => ({
  ratingKey: seasonKey(n),
  key: `/library/metadata/${seasonKey(n)}`,
  guid: guid("season", seasonKey(n)),
  type: "season",
  title: n === 0 ? "Specials" : `${n}`,
  index: n,
  parentRatingKey: show.key,
  parentKey: `/library/metadata/${show.key}`,
  parentGuid: guid("show", show.key),
  parentType: "show",
  parentTitle: show.title,
});
const episodeMeta = (e: Ep) => ({
  ratingKey: e.key,
  key: `/library/metadata/${e.key}`,
  guid: guid("episode", e.key),
  type: "episode",
  title: e.title,
  index: e.index,
  parentIndex: e.season,
  ...(e.date ? { originallyAvailableAt: e.date } : {}),
  summary: `About ${e.title}.`,
  Role: [{ tag: "Ann" }, { tag: "Bea" }, { tag: "Cid" }, { tag: "Dee" }],
  parentRatingKey: seasonKey(e.season),
  parentKey: `/library/metadata/${seasonKey(e.season)}`,
  parentGuid: guid("season", seasonKey(e.season)),
  parentType: "season",
  parentTitle: seasonMeta(e.season).title,
  grandparentRatingKey: show.key,
  grandparentKey: `/library/metadata/${show.key}`,
  grandparentGuid: guid("show", show.key),
  grandparentType: "show",
  grandparentTitle: show.title,
});
const container = (items: unknown[], offset = 0, totalSize = items.length) =>
  Response.json({ MediaContainer: { offset, totalSize, size: items.length, identifier: ID, Metadata: items } });

/** What the provider was asked, for the assertions: paging and language as they came (header or query). */
const asked: {
  method: string;
  path: string;
  search: string;
  start?: string;
  size?: string;
  pagingIn?: "header" | "query";
  language: { header?: string; query?: string };
  body?: any;
}[] = [];
/** When true the provider ignores paging and answers every episode at once (a contract violation). */
let ignorePaging = false;
/** When set, metadata requests answer this status (503: the provider's Stash is down). */
let metadataStatus = 0;
/** When true the show comes without Children and episodes without their show's title (both required). */
let sloppy = false;
/** When false the provider answers 404 to `/extras` (as providers did before they learnt PMS asks). */
let serveExtras = true;
/** When true a listing's start is read counted from 0 or 1 (src/provider/envelope.ts servedStart); else from 0. */
let eitherBase = false;

const provider = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    const url = new URL(req.url);
    const p = url.pathname;
    const param = (n: string) => req.headers.get(n) ?? url.searchParams.get(n) ?? undefined;
    const body = req.method === "POST" ? ((await req.json()) as any) : undefined;
    asked.push({
      method: req.method,
      path: p,
      search: url.search,
      start: param("X-Plex-Container-Start"),
      size: param("X-Plex-Container-Size"),
      ...(param("X-Plex-Container-Start") === undefined
        ? {}
        : { pagingIn: req.headers.has("X-Plex-Container-Start") ? "header" : "query" }),
      language: {
        header: req.headers.get("X-Plex-Language") ?? undefined,
        query: url.searchParams.get("X-Plex-Language") ?? undefined,
      },
      body,
    });
    // At the root, or below a path as an instance's provider is: asked for without a trailing slash.
    if (p === "/" || p === "/mounted")
      return Response.json({
        MediaProvider: {
          identifier: ID,
          title: "Sim test TV",
          version: "1",
          Types: [2, 3, 4].map((type) => ({ type, Scheme: [{ scheme: ID }] })),
          Feature: [
            { type: "metadata", key: "/library/metadata" },
            { type: "match", key: "/library/metadata/matches" },
          ],
        },
      });
    if (p === "/library/metadata/matches") {
      // Fix Match on an episode: every episode whose title holds the typed words.
      if (body?.type === 4 && body.manual === 1)
        return container(
          episodes.filter((e) => e.title.toLowerCase().includes(String(body.title).toLowerCase())).map(episodeMeta),
        );
      return body?.type === 2 && body.title === show.title ? container([showMeta()]) : container([]);
    }
    if (serveExtras && /^\/library\/metadata\/[\w-]+\/extras$/.test(p)) return container([]);
    const m = /^\/library\/metadata\/([\w-]+)(?:\/(children|grandchildren))?$/.exec(p);
    if (!m) return new Response("no", { status: 404 });
    if (metadataStatus) return new Response("Stash is down", { status: metadataStatus });
    const [, key, sub] = m;
    const page = (all: unknown[]) => {
      const size = ignorePaging ? all.length : Number(param("X-Plex-Container-Size") ?? 20);
      const requested = Number(param("X-Plex-Container-Start") ?? 0);
      const start = eitherBase ? servedStart(requested, size) : requested;
      return container(all.slice(start, start + size), start, all.length);
    };
    if (key === show.key) {
      if (sub === "grandchildren")
        return page(
          episodes.map((e) => {
            const { grandparentTitle: _, ...rest } = episodeMeta(e);
            return sloppy ? rest : episodeMeta(e);
          }),
        );
      if (sub === "children") return page(seasonNumbers().map(seasonMeta));
      const children = url.searchParams.get("includeChildren") === "1" && !sloppy;
      const seasons = seasonNumbers().map(seasonMeta);
      return container([
        { ...showMeta(), ...(children ? { Children: { size: seasons.length, Metadata: seasons } } : {}) },
      ]);
    }
    const season = seasonNumbers().find((n) => seasonKey(n) === key);
    if (season !== undefined) return container([seasonMeta(season)]);
    const ep = episodes.find((e) => e.key === key);
    return ep && !sub ? container([episodeMeta(ep)]) : new Response("no", { status: 404 });
  },
});
const providerUrl = `http://127.0.0.1:${provider.port}`;

let pms: PmsSim;
beforeAll(async () => {
  pms = new PmsSim().start();
  expect(await pms.registerProvider(providerUrl)).toBe(ID);
});
afterAll(async () => {
  await pms.stop();
  provider.stop(true);
});

const plex = (path: string, init: RequestInit = {}) =>
  fetch(`${pms.url}${path}`, {
    ...init,
    headers: { "X-Plex-Token": pms.token, accept: "application/json", ...(init.headers ?? {}) },
  });
const json = async (path: string, headers: Record<string, string> = {}) =>
  ((await (await plex(path, { headers })).json()) as any).MediaContainer;

describe("the TV scanner reads names as PMS does", () => {
  const root = "/tv";
  const read = (rel: string) => {
    const p = parseEpisodePath(`${root}/${rel}`, root);
    return p && { show: p.show.title, season: p.season, episodes: p.episodes, date: p.date };
  };
  test("season and episode numbers, year seasons, specials, ranges and dates", () => {
    expect(read("Mega Network/Season 2023/Mega Network - S2023E05 - Pass 2 Events [st-42].mp4")).toEqual({
      show: "Mega Network",
      season: 2023,
      episodes: [5],
      date: undefined,
    });
    expect(read("Mega Network/Specials/Mega Network - S00E02 - Extra.mkv")?.season).toBe(0);
    expect(read("Show/Season 1/Show - s01e02-e03.mkv")?.episodes).toEqual([2, 3]);
    expect(read("Show/Season 2/Show - 2x04 - Title.avi")).toMatchObject({ season: 2, episodes: [4] });
    expect(read("Show/Season 1/Show - SP02.mkv")).toMatchObject({ season: 0, episodes: [2] });
    expect(read("Show/Season 2/05 - Only A Number.avi")).toMatchObject({ season: 2, episodes: [5] });
    expect(read("Show/Season 2023/Show - 2023-05-01 - Daily.mp4")).toEqual({
      show: "Show",
      season: 2023,
      episodes: [],
      date: "2023-05-01",
    });
    // A season/episode pattern wins over a date in the same name.
    expect(read("Show/Season 1/Show - S01E07 - 2023-05-01.mp4")).toMatchObject({ season: 1, episodes: [7] });
    // A file straight under the root names its own show.
    expect(read("Loose Show - S03E04.mkv")).toMatchObject({ show: "Loose Show", season: 3, episodes: [4] });
  });
  test("the show folder's year and id hint are not part of the title", () => {
    const p = parseEpisodePath(`${root}/Mega Network (2019) {tvdb-123}/Season 01/x - S01E01.mkv`, root)!;
    expect(p.show).toMatchObject({ title: "Mega Network", year: 2019, guid: "tvdb://123" });
    expect(p.show.folder).toBe(`${root}/Mega Network (2019) {tvdb-123}`);
  });
  test("names it ignores: no numbers, not a video, samples, trailers, extras folders, hidden files", () => {
    for (const rel of [
      "Show/Season 1/Title without numbers.mp4",
      "Show/Season 1/Show (2019) - Title.mkv",
      "Show/Season 1/Show - S01E01.nfo",
      "Show/Season 1/Show - S01E01.jpg",
      "Show/Season 1/Show - S01E01-trailer.mkv",
      "Show/Season 1/Show - S01E01-featurette.mkv",
      "Show/Extras/Show - S01E01.mkv",
      "Show/Season 1/.Show - S01E01.mkv",
      "Show/Season 1/Featurettes/Show - S01E01.mkv",
      // Skipped folders are matched at the start of any folder's name, the show's too.
      "Scenes/Season 1/Scenes - S01E01.mkv",
      "Extras Studio/Season 1/Extras Studio - S01E01.mkv",
      "Bonus Films/Season 1/Bonus Films - S01E01.mkv",
    ])
      expect(read(rel)).toBeNull();
    expect(read("Scenes {s2p-st1}/Season 1/Scenes - S01E01.mkv")).toMatchObject({ show: "Scenes", season: 1 });
    expect(read("Extrasensory/Season 1/Extrasensory - S01E01.mkv")).toMatchObject({ show: "Extrasensory" });
  });
  test("a name with 'sample' in its path is a sample only when the file is under 300 MB", () => {
    const path = `${root}/Show/Season 1/Show - S01E01 - Sample Scene.mkv`;
    expect(parseEpisodePath(path, root, 200 * 1024 * 1024)).toBeNull();
    expect(parseEpisodePath(path, root, 2 * 1024 ** 3)).toMatchObject({ season: 1, episodes: [1] });
    expect(parseEpisodePath(`${root}/Sample Studio/Season 1/x - S01E01.mkv`, root, 1000)).toBeNull();
  });
});

describe("a TV section scanned through a TV provider", () => {
  const root = "/media/TV";
  const file = (season: number, ep: number, title = `Ep ${ep}`) =>
    `${root}/Mega Network/${season === 0 ? "Specials" : `Season ${season}`}/Mega Network - S${String(season).padStart(2, "0")}E${String(ep).padStart(2, "0")} - ${title}.mp4`;
  const files = [
    ...Array.from({ length: 45 }, (_, i) => file(2023, i + 1)),
    file(0, 2),
    file(2023, 99, "Not Listed"),
    `${root}/Mega Network/Season 2023/folder.jpg`,
    `${root}/Mega Network/Season 2023/No Numbers Here.mp4`,
    `${root}/Unknown Show/Season 1/Unknown Show - S01E01 - Lost.mp4`,
  ];
  beforeAll(() => {
    pms.addSection({ key: "7", title: "Networks", type: "show", agent: ID, locations: [root] }, files);
  });

  test("matches the show once, pages its episodes 20 at a time, places every file by its numbers", async () => {
    asked.length = 0;
    const report = await pms.scanTv("7");
    expect(report.violations).toEqual([]);
    expect(pms.violations).toEqual([]);
    // One match per show folder, for type 2, with the title, year-less folder and first file.
    const matches = asked.filter((a) => a.path === "/library/metadata/matches");
    expect(matches.map((a) => a.body)).toEqual([
      {
        type: 2,
        title: "Mega Network",
        filename: "TV/Mega Network/Season 2023/Mega Network - S2023E01 - Ep 1.mp4",
        includeChildren: 1,
      },
      {
        type: 2,
        title: "Unknown Show",
        filename: "TV/Unknown Show/Season 1/Unknown Show - S01E01 - Lost.mp4",
        includeChildren: 1,
      },
    ]);
    const pages = asked.filter((a) => a.path === "/library/metadata/sh1/grandchildren");
    expect(pages.map((a) => [a.start, a.size])).toEqual([
      ["0", "20"],
      ["20", "20"],
      ["40", "20"],
    ]);
    // The episodes come from the listing: PMS does not fetch each one during a scan.
    expect(asked.filter((a) => /^\/library\/metadata\/(ep|sp)\d+$/.test(a.path))).toEqual([]);
    expect(report.placed.length).toBe(46);
    expect(report.unmatched.sort()).toEqual([file(2023, 99, "Not Listed"), files.at(-1)!].sort());
    expect(report.ignored.sort()).toEqual([files[47]!, files[48]!].sort());

    const shows = pms.tv.itemsOf("7", "show");
    expect(shows.map((s) => [s.title, s.guid])).toEqual([
      ["Mega Network", guid("show", "sh1")],
      ["Unknown Show", `local://${shows[1]!.ratingKey}`],
    ]);
    const seasons = pms.tv.childrenOf(shows[0]!);
    expect(seasons.map((s) => [s.index, s.title, s.guid])).toEqual([
      [0, "Specials", guid("season", "sh1-0")],
      [2023, "2023", guid("season", "sh1-2023")],
    ]);
    const ep7 = pms.itemByFile(file(2023, 7))!;
    expect([ep7.type, ep7.title, ep7.guid, ep7.index]).toEqual(["episode", "Episode 7", guid("episode", "ep7"), 7]);
    expect(ep7.fields.summary).toBe("About Episode 7.");
    const special = pms.itemByFile(file(0, 2))!;
    expect([special.title, special.parentRatingKey]).toEqual(["Special Two", seasons[0]!.ratingKey]);
    // A file whose numbers the provider does not list: an unmatched episode, titled from its name.
    const lost = pms.itemByFile(file(2023, 99, "Not Listed"))!;
    expect([lost.guid, lost.title, lost.index]).toEqual([
      `local://${lost.ratingKey}`,
      "Mega Network - S2023E99 - Not Listed",
      99,
    ]);
  });

  test("a rescan with nothing new asks the provider nothing", async () => {
    asked.length = 0;
    const report = await pms.scanTv("7");
    expect([report.placed, report.unmatched, report.removed]).toEqual([[], [], []]);
    expect(asked).toEqual([]);
  });

  test("lists shows, seasons and episodes as PMS does", async () => {
    const showsList = await json("/library/sections/7/all");
    expect(showsList.Metadata.map((m: any) => [m.type, m.title])).toEqual([
      ["show", "Mega Network"],
      ["show", "Unknown Show"],
    ]);
    const mega = showsList.Metadata[0];
    expect([mega.key, mega.childCount, mega.leafCount, mega.Media]).toEqual([
      `/library/metadata/${mega.ratingKey}/children`,
      2,
      47,
      undefined,
    ]);
    const seasons = await json("/library/sections/7/all?type=3");
    expect(seasons.Metadata.map((m: any) => [m.type, m.index, m.parentTitle])).toEqual([
      ["season", 2023, "Mega Network"],
      ["season", 0, "Mega Network"],
      ["season", 1, "Unknown Show"],
    ]);
    const eps = await json("/library/sections/7/all?type=4&X-Plex-Container-Size=100");
    expect(eps.totalSize).toBe(48);
    const ep7 = eps.Metadata.find((m: any) => m.Media[0].Part[0].file === file(2023, 7));
    expect(ep7).toMatchObject({
      type: "episode",
      title: "Episode 7",
      guid: guid("episode", "ep7"),
      grandparentTitle: "Mega Network",
      grandparentRatingKey: mega.ratingKey,
      parentTitle: "2023",
      parentIndex: 2023,
      index: 7,
    });
    // A listing shows the first three roles only; the item itself has all four.
    expect(ep7.Role.length).toBe(3);
    const one = await json(`/library/metadata/${ep7.ratingKey}`);
    expect(one.Metadata[0].Role.length).toBe(4);
    expect(one.Metadata[0].parentKey).toBe(`/library/metadata/${ep7.parentRatingKey}`);
    // children of a show: its seasons; of a season: its episodes; grandchildren: every episode, paged.
    const kids = await json(`/library/metadata/${mega.ratingKey}/children`);
    expect(kids.Metadata.map((m: any) => m.index)).toEqual([0, 2023]);
    const season2023 = kids.Metadata[1];
    const inSeason = await json(`/library/metadata/${season2023.ratingKey}/children?X-Plex-Container-Size=100`);
    expect(inSeason.Metadata.map((m: any) => m.index)).toEqual([...Array.from({ length: 45 }, (_, i) => i + 1), 99]);
    const page = await json(`/library/metadata/${mega.ratingKey}/grandchildren`, {
      "X-Plex-Container-Start": "10",
      "X-Plex-Container-Size": "5",
    });
    expect([page.offset, page.size, page.totalSize]).toEqual([10, 5, 47]);
    // The specials come first (season 0), then 2023's episodes 1, 2, …
    expect(page.Metadata.map((m: any) => m.index)).toEqual([10, 11, 12, 13, 14]);
    // allLeaves: a show's episodes, a section's episodes.
    expect((await json(`/library/metadata/${mega.ratingKey}/allLeaves`)).totalSize).toBe(47);
    expect((await json("/library/sections/7/allLeaves")).totalSize).toBe(48);
    // updatedAt> keeps only items changed since.
    const later = await json(`/library/sections/7/all?type=4&updatedAt>=${Math.floor(Date.now() / 1000) + 5}`);
    expect(later.totalSize).toBe(0);
  });

  test("refresh of an episode re-pulls it from the provider, keeping a locked title", async () => {
    const ep3 = pms.itemByFile(file(2023, 3))!;
    const ep4 = pms.itemByFile(file(2023, 4))!;
    episodes[2]!.title = "Episode 3, renamed";
    episodes[3]!.title = "Episode 4, renamed";
    asked.length = 0;
    const lock = await plex(
      `/library/sections/7/all?type=4&id=${ep4.ratingKey}&title.value=${encodeURIComponent("My Four")}&title.locked=1`,
      { method: "PUT" },
    );
    expect(lock.status).toBe(200);
    for (const e of [ep3, ep4])
      expect((await plex(`/library/metadata/${e.ratingKey}/refresh`, { method: "PUT" })).status).toBe(200);
    await pms.idle();
    const paths = asked.map((a) => a.path);
    expect(paths.filter((p) => /^\/library\/metadata\/ep\d+$/.test(p))).toEqual([
      "/library/metadata/ep3",
      "/library/metadata/ep4",
    ]);
    // Each refresh asks for the episode's extras once its metadata came.
    for (const key of ["ep3", "ep4"])
      expect(paths.indexOf(`/library/metadata/${key}/extras`)).toBeGreaterThan(
        paths.indexOf(`/library/metadata/${key}`),
      );
    expect(paths.filter((p) => p.endsWith("/extras")).length).toBe(2);
    expect(pms.items.get(ep3.ratingKey)!.title).toBe("Episode 3, renamed");
    expect(pms.items.get(ep4.ratingKey)!.title).toBe("My Four");
    const listed = await json(`/library/metadata/${ep3.ratingKey}`);
    expect(listed.Metadata[0]).toMatchObject({ title: "Episode 3, renamed", index: 3, parentIndex: 2023 });
    expect(pms.violations).toEqual([]);
  });

  test("Fix Match searches and binds an unmatched episode; a show's refresh renames the show and re-lists its episodes", async () => {
    const lost = pms.itemByFile(file(2023, 99, "Not Listed"))!;
    // The user searches with the words they type; PMS asks the provider with what it knows of the episode.
    asked.length = 0;
    const search = await plex(`/library/metadata/${lost.ratingKey}/matches?manual=1&title=special`, { method: "PUT" });
    const found = ((await search.json()) as any).MediaContainer.Metadata;
    expect(found.map((m: any) => m.guid)).toEqual([guid("episode", "sp1"), guid("episode", "sp2")]);
    expect(asked.find((a) => a.path === "/library/metadata/matches")!.body).toEqual({
      type: 4,
      title: "special",
      grandparentTitle: "Mega Network",
      parentIndex: 2023,
      index: 99,
      filename: "TV/Mega Network/Season 2023/Mega Network - S2023E99 - Not Listed.mp4",
      manual: 1,
    });
    const fix = await plex(`/library/metadata/${lost.ratingKey}/match?guid=${encodeURIComponent(found[0].guid)}`, {
      method: "PUT",
    });
    expect(fix.status).toBe(200);
    await pms.idle();
    expect([pms.items.get(lost.ratingKey)!.guid, pms.items.get(lost.ratingKey)!.title]).toEqual([
      guid("episode", "sp1"),
      "Special One",
    ]);
    show.title = "Mega Network HD";
    episodes[4]!.title = "Episode 5, renamed";
    const mega = pms.tv.itemsOf("7", "show")[0]!;
    asked.length = 0;
    await plex(`/library/metadata/${mega.ratingKey}/refresh`, { method: "PUT" });
    await pms.idle();
    expect(asked.map((a) => a.path)).toContain("/library/metadata/sh1/grandchildren");
    expect(pms.items.get(mega.ratingKey)!.title).toBe("Mega Network HD");
    const ep5 = await json(`/library/metadata/${pms.itemByFile(file(2023, 5))!.ratingKey}`);
    expect(ep5.Metadata[0]).toMatchObject({ title: "Episode 5, renamed", grandparentTitle: "Mega Network HD" });
    // The title locked by hand stays; the Fix-Matched episode keeps the GUID the user chose.
    expect(pms.itemByFile(file(2023, 4))!.title).toBe("My Four");
    expect(pms.items.get(lost.ratingKey)!.guid).toBe(guid("episode", "sp1"));
    show.title = "Mega Network";
    expect(pms.violations).toEqual([]);
  });

  test("a refresh while the provider answers 503 keeps what PMS has, and is no contract violation", async () => {
    const ep6 = pms.itemByFile(file(2023, 6))!;
    episodes[5]!.title = "Episode 6, renamed";
    const statuses: number[] = [];
    pms.pullHooks.after = (_item, status) => statuses.push(status);
    metadataStatus = 503;
    try {
      await plex(`/library/metadata/${ep6.ratingKey}/refresh`, { method: "PUT" });
      await pms.idle();
    } finally {
      metadataStatus = 0;
      pms.pullHooks.after = undefined;
    }
    expect(statuses).toEqual([503]);
    expect(pms.items.get(ep6.ratingKey)!.title).toBe("Episode 6");
    expect(pms.tv.failures.at(-1)).toEqual({ path: "/library/metadata/ep6", status: 503 });
    expect(pms.violations).toEqual([]);
    episodes[5]!.title = "Episode 6";
  });

  test("a refresh of an unmatched show matches it again", async () => {
    const unknown = pms.tv.itemsOf("7", "show").find((s) => s.title === "Unknown Show")!;
    expect(unknown.guid).toStartWith("local://");
    await plex(`/library/metadata/${unknown.ratingKey}/refresh`, { method: "PUT" });
    await pms.idle();
    expect(pms.items.get(unknown.ratingKey)!.guid).toStartWith("local://");
    // The provider now knows the show by that name: the refresh matches it and reads it.
    show.title = "Unknown Show";
    asked.length = 0;
    await plex(`/library/metadata/${unknown.ratingKey}/refresh`, { method: "PUT" });
    await pms.idle();
    show.title = "Mega Network";
    expect(asked.filter((a) => a.path === "/library/metadata/matches").map((a) => a.body.filename)).toEqual([
      "TV/Unknown Show/Season 1/Unknown Show - S01E01 - Lost.mp4",
    ]);
    expect([pms.items.get(unknown.ratingKey)!.guid, pms.items.get(unknown.ratingKey)!.title]).toEqual([
      guid("show", "sh1"),
      "Unknown Show",
    ]);
    expect(pms.violations).toEqual([]);
  });

  test("paging sent as query parameters is honoured too; a provider leaving out required TV fields is caught", async () => {
    const sim = new PmsSim().start();
    try {
      await sim.registerProvider(providerUrl);
      sim.addSection({ key: "1", title: "TV", type: "show", agent: ID, locations: [root] }, [
        file(2023, 1),
        file(2023, 45),
      ]);
      sim.tv.pagingVia = "query";
      asked.length = 0;
      const clean = await sim.scanTv("1");
      expect([clean.violations, clean.placed.length]).toEqual([[], 2]);
      expect(asked.filter((a) => a.path.endsWith("/grandchildren")).map((a) => [a.start, a.size])).toEqual([
        ["0", "20"],
        ["20", "20"],
        ["40", "20"],
      ]);
      sim.addSection({ key: "2", title: "TV2", type: "show", agent: ID, locations: [root] }, [file(2023, 2)]);
      sloppy = true;
      const report = await sim.scanTv("2");
      expect(report.violations).toContain("show sh1 answered without Children although includeChildren=1");
      expect(report.violations.some((v) => /episode ep1 lacks grandparentTitle/.test(v))).toBe(true);
    } finally {
      sloppy = false;
      await sim.stop();
    }
  });

  test("a provider that ignores paging is caught", async () => {
    const sim = new PmsSim().start();
    try {
      await sim.registerProvider(providerUrl);
      sim.addSection({ key: "1", title: "TV", type: "show", agent: ID, locations: [root] }, [file(2023, 1)]);
      ignorePaging = true;
      const report = await sim.scanTv("1");
      expect(report.violations.some((v) => /47 items for X-Plex-Container-Size 20/.test(v))).toBe(true);
    } finally {
      ignorePaging = false;
      await sim.stop();
    }
  });
});

describe("what PMS asks that a scan alone does not show", () => {
  const root = "/media/TV";
  const file = (season: number, ep: number) =>
    `${root}/Mega Network/${season === 0 ? "Specials" : `Season ${season}`}/Mega Network - S${String(season).padStart(2, "0")}E${String(ep).padStart(2, "0")} - Ep ${ep}.mp4`;
  /** A PMS of its own with one TV section of these files, its provider registered. */
  const simWith = async (files: string[], options: { localeVia?: "header" | "query" | "none" } = {}) => {
    const sim = Object.assign(new PmsSim(), options).start();
    await sim.registerProvider(providerUrl);
    sim.addSection({ key: "1", title: "TV", type: "show", agent: ID, locations: [root] }, files);
    return sim;
  };
  const refresh = async (sim: PmsSim, ratingKey: string) => {
    const res = await fetch(`${sim.url}/library/metadata/${ratingKey}/refresh`, {
      method: "PUT",
      headers: { "X-Plex-Token": sim.token },
    });
    expect(res.status).toBe(200);
    await sim.idle();
  };
  const starts = (listing: string) => asked.filter((a) => a.path.endsWith(`/${listing}`)).map((a) => a.start);

  test("discovery asks for the registered URL itself with includePreferences=1, no slash before the query", async () => {
    asked.length = 0;
    const found = await discover(`${providerUrl}/mounted`);
    expect([found.identifier, found.violations]).toEqual([ID, []]);
    expect(asked.map((a) => `${a.method} ${a.path}${a.search}`)).toEqual(["GET /mounted?includePreferences=1"]);
  });

  test("language and country go as headers, as query parameters, or not at all, on every request", async () => {
    for (const [via, sent] of [
      ["header", { header: "en-US" }],
      ["query", { query: "en-US" }],
      ["none", {}],
    ] as const) {
      const sim = await simWith([file(2023, 1)], { localeVia: via });
      try {
        asked.length = 0;
        const report = await sim.scanTv("1");
        await refresh(sim, sim.itemByFile(file(2023, 1))!.ratingKey);
        expect([report.violations, report.placed.length, sim.violations]).toEqual([[], 1, []]);
        // Discovery, match, the show, three pages of episodes, the episode and its extras.
        expect(asked.length).toBe(8);
        expect(asked.map((a) => ({ ...a.language }))).toEqual(
          asked.map(() => ({ header: undefined, query: undefined, ...sent })),
        );
      } finally {
        await sim.stop();
      }
    }
  });

  test("a PMS counting from 1 loses a listing's first item to a provider counting from 0, and says so", async () => {
    const sim = await simWith([file(2023, 1), file(2023, 45), file(0, 2)]);
    try {
      sim.tv.pagingStartsAt = 1;
      asked.length = 0;
      const report = await sim.scanTv("1");
      expect(starts("grandchildren")).toEqual(["1", "21", "41", "47"]);
      expect(report.violations).toEqual(["grandchildren of sh1 from 47: an empty page before totalSize 47"]);
      expect(report.unmatched).toEqual([file(2023, 1)]);
    } finally {
      await sim.stop();
    }
  });

  test("a provider reading the start either way gives a PMS counting from 1 every season and episode", async () => {
    const sim = await simWith([file(2023, 1), file(2023, 45), file(0, 2)]);
    eitherBase = true;
    try {
      Object.assign(sim.tv, { pagingStartsAt: 1, seasonsVia: "children", pagingVia: "alternate" });
      asked.length = 0;
      const report = await sim.scanTv("1");
      expect([report.violations, report.unmatched, report.placed.length]).toEqual([[], [], 3]);
      expect(starts("children")).toEqual(["1"]);
      expect(starts("grandchildren")).toEqual(["1", "21", "41"]);
      // Paging in headers and in the query, page by page; the show read without includeChildren.
      const pages = asked.filter((a) => a.path.endsWith("/grandchildren"));
      expect(pages.map((a) => a.pagingIn)).toEqual(["header", "query", "header"]);
      expect(asked.find((a) => a.path === "/library/metadata/sh1")!.search).toBe("");
      const show = sim.tv.itemsOf("1", "show")[0]!;
      expect(sim.tv.childrenOf(show).map((s) => [s.index, s.guid])).toEqual([
        [0, guid("season", "sh1-0")],
        [2023, guid("season", "sh1-2023")],
      ]);
    } finally {
      eitherBase = false;
      await sim.stop();
    }
  });

  test("every refresh asks for the item's extras after its metadata; a provider without them is a violation", async () => {
    const sim = await simWith([file(2023, 8)]);
    try {
      await sim.scanTv("1");
      const ep = sim.itemByFile(file(2023, 8))!;
      const show = sim.tv.itemsOf("1", "show")[0]!;
      asked.length = 0;
      await refresh(sim, ep.ratingKey);
      await refresh(sim, show.ratingKey);
      const paths = asked.map((a) => a.path);
      expect(paths.indexOf("/library/metadata/ep8/extras")).toBeGreaterThan(paths.indexOf("/library/metadata/ep8"));
      expect(paths.at(-1)).toBe("/library/metadata/sh1/extras");
      expect(sim.tv.extras).toEqual([
        { provider: providerUrl, path: "/library/metadata/ep8/extras", status: 200 },
        { provider: providerUrl, path: "/library/metadata/sh1/extras", status: 200 },
      ]);
      expect(sim.violations).toEqual([]);
      serveExtras = false;
      await refresh(sim, ep.ratingKey);
      expect(sim.tv.extras.at(-1)).toEqual({
        provider: providerUrl,
        path: "/library/metadata/ep8/extras",
        status: 404,
      });
      expect(sim.violations).toEqual(["extras of ep8 answered 404"]);
    } finally {
      serveExtras = true;
      await sim.stop();
    }
  });
});

describe("partial scans of a real folder of symbolic links", () => {
  let dir: string;
  let tv: string;
  const link = (rel: string, target = "../../../stash/scene.mp4") => {
    const path = join(tv, rel);
    mkdirSync(dirname(path), { recursive: true });
    symlinkSync(target, path);
    return path;
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sim-tv-"));
    tv = join(dir, "tv");
    link("Mega Network/Season 2023/Mega Network - S2023E01 - One.mp4");
    link("Mega Network/Season 2023/Mega Network - S2023E02 - Two.mp4");
    pms.addSection({ key: "8", title: "Links", type: "show", agent: ID, locations: [tv] });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const refresh = async (folder?: string) => {
    const q = folder ? `?path=${encodeURIComponent(folder)}` : "";
    expect((await plex(`/library/sections/8/refresh${q}`, { method: "POST" })).status).toBe(200);
    await pms.idle();
  };
  const placed = () =>
    pms.tv
      .itemsOf("8", "episode")
      .map(
        (e) =>
          `${e.files.map((f) => f.slice(tv.length + 1)).join("+")} ${e.guid.startsWith("local://") ? "local" : e.guid.replace(/^.*\//, "")}`,
      )
      .sort();

  test("a full scan lists the links as files and places them; a small real file named 'sample' is skipped", async () => {
    // A real 11-byte file: under 300 MB, so its "Sample" makes it a sample to PMS.
    const small = join(tv, "Mega Network/Season 2023/Mega Network - S2023E09 - Sample Day.mp4");
    writeFileSync(small, "not a film");
    const report = await pms.scanTv("8");
    expect(report.ignored).toEqual([small]);
    unlinkSync(small);
    expect(placed()).toEqual([
      "Mega Network/Season 2023/Mega Network - S2023E01 - One.mp4 ep1",
      "Mega Network/Season 2023/Mega Network - S2023E02 - Two.mp4 ep2",
    ]);
    // The same through PMS's HTTP API: nothing more to place.
    await refresh();
    expect(placed().length).toBe(2);
  });

  test("a scan of one folder adds new files, removes gone ones and takes a moved file for a new episode", async () => {
    const before = pms.itemByFile(join(tv, "Mega Network/Season 2023/Mega Network - S2023E01 - One.mp4"))!;
    link("Mega Network/Season 2023/Mega Network - S2023E03 - Three.mp4");
    unlinkSync(join(tv, "Mega Network/Season 2023/Mega Network - S2023E02 - Two.mp4"));
    // Moved to the specials: same link target, new name and season.
    mkdirSync(join(tv, "Mega Network/Specials"));
    renameSync(
      join(tv, "Mega Network/Season 2023/Mega Network - S2023E01 - One.mp4"),
      join(tv, "Mega Network/Specials/Mega Network - S00E01 - One.mp4"),
    );
    await refresh(join(tv, "Mega Network"));
    expect(placed()).toEqual([
      "Mega Network/Season 2023/Mega Network - S2023E03 - Three.mp4 ep3",
      "Mega Network/Specials/Mega Network - S00E01 - One.mp4 sp1",
    ]);
    expect(pms.items.has(before.ratingKey)).toBe(false);
    const show = pms.tv.itemsOf("8", "show")[0]!;
    expect(pms.tv.childrenOf(show).map((s) => s.index)).toEqual([0, 2023]);
  });

  test("a scan of another folder leaves this one alone; a show whose files are all gone is removed", async () => {
    link("Second Show/Season 1/Second Show - S01E01.mp4");
    await refresh(join(tv, "Second Show"));
    expect(placed().length).toBe(3);
    rmSync(join(tv, "Mega Network"), { recursive: true });
    await refresh(join(tv, "Mega Network"));
    expect(placed()).toEqual(["Second Show/Season 1/Second Show - S01E01.mp4 local"]);
    expect(pms.tv.itemsOf("8", "show").map((s) => s.title)).toEqual(["Second Show"]);
  });
});

describe("the Stash simulator answers what TV libraries read", () => {
  let stash: StashSim;
  beforeAll(() => {
    stash = new StashSim({ scenes: 60, seed: 3, windowsShare: 0.2 }).start();
  });
  afterAll(() => stash.stop());
  const gql = async (query: string) => {
    const res = await fetch(`${stash.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query }),
    });
    const body = (await res.json()) as any;
    expect(body.errors).toBeUndefined();
    return body.data;
  };

  test("its library folders, as Settings → Library lists them", async () => {
    const data = await gql("{ configuration { general { stashes { path excludeVideo excludeImage } } } }");
    expect(data.configuration.general.stashes).toEqual([
      { path: "/data/stash", excludeVideo: false, excludeImage: false },
      { path: "D:\\Scenes", excludeVideo: false, excludeImage: false },
    ]);
    // Every scene's file lies in one of them.
    const folders = data.configuration.general.stashes.map((s: any) => s.path);
    for (const scene of stash.library.scenes.values())
      for (const f of scene.files) expect(folders.some((d: string) => f.path.startsWith(d))).toBe(true);
  });

  test("studios with their parent studio (image always a URL, details), groups with each scene's index", async () => {
    const data = await gql(
      "{ findScenes(filter: { per_page: -1 }) { scenes { id studio { id name details image_path parent_studio { id name details image_path } } groups { scene_index group { id name } } } } }",
    );
    const scenes = data.findScenes.scenes as any[];
    const child = scenes.find((s) => s.studio?.parent_studio)!.studio;
    expect(child.parent_studio).toEqual({
      id: "100",
      name: "Mega Network",
      details: "Every studio of the network.",
      image_path: `${stash.url}/studio/100/image?t=1735689600`,
    });
    expect(scenes.some((s) => s.studio && !s.studio.parent_studio)).toBe(true);
    expect(scenes.some((s) => s.studio?.details === null)).toBe(true);
    const own = await fetch(child.parent_studio.image_path);
    expect([own.status, own.headers.get("content-type")]).toEqual([200, "image/png"]);
    // Stash's image_path is never null: a studio without an image gets `&default=true`, and that
    // URL (like the plain one) answers Stash's default picture, not a 404.
    const bare = scenes.find((s) => s.studio?.image_path.endsWith("&default=true"))!.studio;
    expect(stash.library.studios.find((s) => s.id === bare.id)!.image_path).toBeNull();
    for (const url of [bare.image_path, bare.image_path.replace(/\?.*$/, "")]) {
      const res = await fetch(url);
      expect([res.status, res.headers.get("content-type")]).toEqual([200, "image/svg+xml"]);
    }
    // A group's front image likewise (group 5 has none).
    const groups = (await gql('{ findGroups(ids: ["1", "5"]) { groups { id front_image_path } } }')).findGroups.groups;
    expect(groups.map((g: any) => g.front_image_path)).toEqual([
      `${stash.url}/group/1/frontimage?t=1735689600`,
      `${stash.url}/group/5/frontimage?t=1735689600&default=true`,
    ]);
    const front = await fetch(groups[1].front_image_path);
    expect([front.status, front.headers.get("content-type")]).toEqual([200, "image/svg+xml"]);
    const inGroups = scenes.filter((s) => s.groups.length);
    expect(inGroups.length).toBeGreaterThan(0);
    for (const s of inGroups) expect(s.groups[0].scene_index).toBe(Math.floor(Number(s.id) / 10));
  });
});
