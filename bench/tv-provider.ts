/**
 * TV provider benchmark (issue 20, figure 2): a TV scan through the provider at 20,000 episodes
 * against a movie scan of the same 20,000 scenes, side by side in one run, through the real
 * service (its own process) over a Stash simulator (its own process). Rounds alternate (movie,
 * TV, movie, TV, …) so both see the same machine; medians over the rounds.
 *
 * The movie scan is PMS's: per file a match and the metadata of the match (sim/plex/scan.ts),
 * 32 requests at once. The TV scan is PMS's too (sim/plex/tv.ts): per show folder a type-2
 * match with the folder's first file and includeChildren=1, the show with includeChildren=1,
 * then its /grandchildren page by page (20 per page, X-Plex-Container-Start/-Size headers);
 * shows are scanned at once, each show's pages one after another, as PMS places a show's files
 * from its listing. Every answer is checked against the contract (containerProblems).
 *
 *   bun bench/tv-provider.ts [--scenes 20000] [--rounds 3] [--concurrency 32]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimLibrary } from "../sim/stash/library.ts";
import { containerProblems, pmsRequestHeaders, scanFiles, type ScanFile } from "../sim/plex/scan.ts";
import { DEMO_RULES, plexPathFor } from "../src/demo.ts";
import { openStore } from "../src/store/db.ts";
import { createTvCatalog } from "../src/tv/catalog.ts";
import type { PlexMetadata } from "../src/schema/plex.ts";
import {
  commandLine,
  fmt,
  freePort,
  indexed,
  machine,
  median,
  numberArg,
  percentile,
  report,
  startService,
  startStashSim,
} from "./lib.ts";

const SCENES = numberArg("scenes", 20_000);
const ROUNDS = numberArg("rounds", 3);
const CONCURRENCY = numberArg("concurrency", 32);
const PAGE = 20;
const SEED = 11;
const IDENTIFIER = "tv.plex.agents.custom.stash2plex";
const TV = `${IDENTIFIER}.tv`;
const PMS = { machineIdentifier: "be0cbe0cbe0cbe0cbe0cbe0cbe0cbe0cbe0cbe0c", version: "1.43.0.bench" };
const headers = pmsRequestHeaders(PMS);

// The library the simulator process builds from the same seed: the movie scan's files, and the
// shows a TV scan meets (each show folder's first file, as PMS sends it).
const library = new SimLibrary(() => "", { scenes: SCENES, seed: SEED });
const scenes = [...library.scenes.values()];
const movieFiles: ScanFile[] = scenes.map((s) => {
  const path = plexPathFor(s.files[0]!.path);
  return { path, root: path.startsWith("/media/Windows/") ? "/media/Windows" : "/media/Scenes" };
});
const store = openStore(":memory:");
const catalog = createTvCatalog({ db: store.db, instance: "default", schemes: ["st"] });
catalog.buildFrom(scenes);
const shows = catalog.shows().map((show) => ({ show, first: catalog.episodes(show.id)[0]! }));
const episodes = catalog.size();

console.log(`starting the Stash simulator (${SCENES} scenes) and the service …`);
const stash = await startStashSim(SCENES, SEED);
const dataDir = mkdtempSync(join(tmpdir(), "s2p-bench-tv-"));
const service = await startService(
  {
    STASH_URL: stash.url,
    DATA_DIR: dataDir,
    PATHS_RULES: JSON.stringify(DEMO_RULES),
    TV_LIBRARIES: JSON.stringify([{ id: "studios", layout: "studio", folder: join(dataDir, "episodes") }]),
  },
  freePort(),
);

const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as any });

interface TvScan {
  seconds: number;
  placed: number;
  requestMs: number[];
  violations: string[];
}

/**
 * One TV scan as PMS does it: every show matched, read with its seasons, and its episodes listed
 * page by page; all shows at once, or one after another (as the PMS simulator scans a section).
 */
async function tvScan(together: boolean): Promise<TvScan> {
  const t0 = performance.now();
  const requestMs: number[] = [];
  const violations: string[] = [];
  let placed = 0;
  const timed = async (url: string, init?: RequestInit) => {
    const t = performance.now();
    const out = await json(await fetch(url, { ...init, headers: { ...headers, ...(init?.headers ?? {}) } }));
    requestMs.push(performance.now() - t);
    violations.push(...containerProblems(url, out.status, out.body, TV));
    if (out.status !== 200) violations.push(`${url} answered ${out.status}`);
    return out.body?.MediaContainer;
  };
  const scanShow = async ({ show, first }: (typeof shows)[number]) => {
    const matched = await timed(`${service.url}/tv/library/metadata/matches`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: 2, title: show.title, filename: `TV/${first.link}`, includeChildren: 1 }),
    });
    const key = (matched?.Metadata?.[0] as PlexMetadata | undefined)?.ratingKey;
    if (key !== show.id) return void violations.push(`show ${show.id} matched ${key}`);
    await timed(`${service.url}/tv/library/metadata/${key}?includeChildren=1`);
    for (let start = 0; ; start += PAGE) {
      const page = await timed(`${service.url}/tv/library/metadata/${key}/grandchildren`, {
        headers: { "X-Plex-Container-Start": String(start), "X-Plex-Container-Size": String(PAGE) },
      });
      placed += page?.Metadata?.length ?? 0;
      if (!page?.Metadata?.length || start + PAGE >= page.totalSize) break;
    }
  };
  if (together) await Promise.all(shows.map(scanShow));
  else for (const show of shows) await scanShow(show);
  return { seconds: (performance.now() - t0) / 1000, placed, requestMs, violations };
}

try {
  await indexed(service.url, SCENES);
  // The service builds its TV catalog at start-up: wait until every show answers.
  for (const t0 = performance.now(); ; ) {
    const res = await fetch(`${service.url}/tv/library/metadata/${shows.at(-1)!.show.id}`, { headers });
    if (res.status === 200) break;
    if (performance.now() - t0 > 120_000) throw new Error(`the TV provider never served ${shows.at(-1)!.show.id}`);
    await Bun.sleep(200);
  }

  const movie: { seconds: number; matched: number; requestMs: number[]; violations: number }[] = [];
  const tv: TvScan[] = [];
  const tvOneByOne: TvScan[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const m = await scanFiles(service.url, movieFiles, { concurrency: CONCURRENCY, as: PMS });
    movie.push({
      seconds: m.seconds,
      matched: m.results.filter((r) => r.metadata).length,
      requestMs: m.results.flatMap((r) => [r.matchMs, ...(r.metadataMs === undefined ? [] : [r.metadataMs])]),
      violations: m.violations.length,
    });
    tv.push(await tvScan(true));
    tvOneByOne.push(await tvScan(false));
    console.log(
      `round ${round + 1}: movie ${fmt(movie.at(-1)!.seconds, 1)} s, TV ${fmt(tv.at(-1)!.seconds, 1)} s, TV show by show ${fmt(tvOneByOne.at(-1)!.seconds, 1)} s`,
    );
  }

  const rate = (scans: TvScan[]) => median(scans.map((t) => t.placed / t.seconds));
  const movieRate = median(movie.map((m) => m.matched / m.seconds));
  const movieMs = movie.flatMap((m) => m.requestMs);
  const columns = [tv, tvOneByOne];
  const cells = (f: (scans: TvScan[]) => string) => columns.map(f);
  const rows = [
    [
      "items",
      `${movie[0]!.matched} movies matched of ${movieFiles.length} files`,
      ...cells((t) => `${t[0]!.placed} episodes listed in ${shows.length} shows (catalog: ${episodes})`),
    ],
    [
      "scan wall time, median",
      `${fmt(median(movie.map((m) => m.seconds)), 2)} s`,
      ...cells((t) => `${fmt(median(t.map((x) => x.seconds)), 2)} s`),
    ],
    ["items per second, median", fmt(movieRate, 0), ...cells((t) => fmt(rate(t), 0))],
    ["throughput ÷ movie scan's", "1", ...cells((t) => `**${fmt(rate(t) / movieRate)}**`)],
    ["requests per scan", String(movie[0]!.requestMs.length), ...cells((t) => String(t[0]!.requestMs.length))],
    [
      "request latency p50 / p99",
      `${fmt(median(movieMs))} / ${fmt(percentile(movieMs, 99))} ms`,
      ...cells((t) => {
        const ms = t.flatMap((x) => x.requestMs);
        return `${fmt(median(ms))} / ${fmt(percentile(ms, 99))} ms`;
      }),
    ],
    [
      "contract violations",
      String(movie.reduce((n, m) => n + m.violations, 0)),
      ...cells((t) => String(t.reduce((n, x) => n + x.violations.length, 0))),
    ],
  ];
  const worst = Math.min(rate(tv), rate(tvOneByOne)) / movieRate;
  const markdown = [
    "## TV provider: a TV scan vs a movie scan of the same scenes (issue 20)",
    "",
    `Command: \`${commandLine("bench/tv-provider.ts")}\` (${SCENES} scenes, studio layout, ${ROUNDS} rounds, each a movie scan then both TV scans; movie scan ${CONCURRENCY} requests at once; TV scans with every show at once or show by show, each show's /grandchildren pages of ${PAGE} one after another).`,
    `Machine: ${machine()}. Stash simulator and service each in their own process; scan driver in a third.`,
    "",
    "| measure | movie scan | TV scan, shows at once | TV scan, show by show |",
    "|---|---|---|---|",
    ...rows.map((r) => `| ${r.join(" | ")} |`),
    "",
    `**Slower TV scan's throughput ÷ movie scan's: ${fmt(worst)}** (target ≥ 0.5: a TV scan within 2× of a movie scan).`,
    "",
    "Both drivers send only the provider requests PMS sends (sim/plex/scan.ts for movies; for TV the",
    "requests sim/plex/tv.ts makes, without its library bookkeeping, which is not the provider's cost).",
    "A movie scan costs two requests per file (match, metadata), metadata lookups arriving together",
    "coalesced into `findScenes(ids:)` queries. A TV scan matches each show once and reads its episodes",
    `${PAGE} at a time from /grandchildren: each page is one \`findScenes(ids:)\` query for its scenes and reads`,
    "only the seasons it spans from the catalog. Scenes without a studio have no show in the studio",
    "layout, so the TV scans list fewer items than the movie scan (throughput is per item).",
  ].join("\n");
  report("tv-provider", markdown);
  for (const t of [...tv, ...tvOneByOne]) if (t.violations.length) console.log(t.violations.slice(0, 10));
} finally {
  service.proc.kill("SIGTERM");
  stash.proc.kill("SIGTERM");
  store.close();
}
