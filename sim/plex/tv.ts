/**
 * TV sections of the PMS simulator: the scan that matches shows through a TV metadata provider
 * and places episode files by their season and episode numbers, the show → season → episode
 * tree, and the refresh of TV items.
 *
 * What the real PMS does, and where it is written down (read before changing this file):
 *
 * - Plex's provider docs (the Plex Media Provider documentation, mirrored in
 *   github.com/pekempy/EncoraPlexProvider docs/API Endpoints.md and docs/Metadata.md; announced at
 *   https://forums.plex.tv/t/announcement-custom-metadata-providers/934384):
 *   types are 1 movie, 2 show, 3 season, 4 episode; a GUID is `{scheme}://{type}/{ratingKey}`.
 *   A match request carries `type`, `title` (show), `parentTitle` (season), `grandparentTitle`
 *   (episode), `index`/`parentIndex`, `year`, `date` (an episode without numbers), `guid` (an
 *   external id hint), `includeChildren` (shows and seasons), `manual`, and `filename`: "the
 *   relative path for the underlying media file. For TV Shows and Seasons this will return the
 *   first file found". Shows and seasons must answer `includeChildren=1` with a `Children`
 *   object holding every child (unpaged), and `/children` and `/grandchildren`, which MUST be
 *   paged by `X-Plex-Container-Start`/`-Size` (headers or query; default size 20: "passing no
 *   paging headers here will only return the first 20"). Seasons and episodes carry
 *   parentRatingKey/parentKey/parentGuid/parentType/parentTitle and `index`; episodes also
 *   grandparentRatingKey/Key/Guid/Type/Title and `parentIndex` (all marked required).
 * - An existing TV provider: ShokoRelay (github.com/natyusha/ShokoRelay,
 *   Controllers/MetadataController.cs, Controllers/BaseController.cs, Meta/VfsBuilder.cs)
 *   declares types 2, 3 and 4 under one identifier, matches a *show* from the `filename` of its
 *   first file (an id in the folder name of a symlink tree it writes as
 *   `<series id>/Season N/[file id] - S01E02.ext`), serves show/season with `Children` on
 *   includeChildren=1, pages /children and /grandchildren from both headers and query, and lists
 *   every episode of a show in /grandchildren as a full metadata item.
 * - The TV scanner's naming rules: Plex's series scanner (the "Plex Series Scanner.py" of the
 *   legacy scanner bundle, copied in many public repositories, e.g. the ones the code search
 *   finds under "episode_regexps"), Plex's naming guide as summarised in
 *   https://probsee.com/p/Plex_TV_series_folder_structure and the Plex forum thread
 *   https://forums.plex.tv/t/feature-request-allow-for-tv-folder-hierarchy-to-be-more-flexible/200879:
 *   the show is the first folder under the library root (`Name (Year) {tvdb-123}`: year and id
 *   hints in the folder name); `SxxEyy` in the file name (any number of digits: `S2023E05` puts
 *   the file in season 2023; `S01E01-E02` is one file holding two episodes); `1x02`; `SP01`
 *   (season 0); a bare `.102.`; date-based names `YYYY-MM-DD` (season = the year, the episode
 *   found by air date); a season folder (`Season 3`, `Season 2023`, `Specials` = season 0) gives
 *   the season to names with an episode number only. Files named none of these ways are skipped
 *   ("Got nothing for …"); so are non-video files, trailers and extras (`-trailer.`), samples
 *   ("sample" in the path AND under 300 MB), and folders whose name starts like an extras folder
 *   (VideoFiles.py's ignore_dirs with re.match: the show folder too, so a studio "Extras …" or
 *   "Bonus …" is skipped whole).
 *   Two files with the same numbers in one show become two versions (Media) of one episode.
 * - Partial scans (`/library/sections/X/refresh?path=`) scan that folder; PMS's setting "Empty
 *   trash automatically after every scan" (on by default) removes an item whose file was deleted
 *   at the next scan (https://support.plex.tv/hc/en-us/articles/200289526-Library).
 *
 * Decided here (not documented by Plex): during a scan PMS places each file from the show's
 * /grandchildren listing and does NOT then fetch each episode with GET /library/metadata/{key}.
 * The docs describe children listings as full metadata items and ShokoRelay serves them so; a
 * provider that put sparse episodes in /grandchildren would show sparse episodes in Plex, and the
 * stricter simulator catches that. An episode's refresh (or Fix Match) does GET the episode.
 * A scan leaves the episodes it already has as they are, listed or not: whether a real PMS
 * updates them from the listing is UNKNOWN, and the product takes no listing as the fetch of an
 * episode it refreshed (provider/tv-routes.ts), so it works either way.
 * Paging is sent as headers by default (`pagingVia`), 20 per request (`pageSize`).
 *
 * UNKNOWN, so options (../shared/plex/real-pms-evidence.md §2): whether PMS counts
 * X-Plex-Container-Start from 0 or from 1. The docs say the default start is "1 (the first
 * item)" while every example answers `offset: 0`; `pagingStartsAt` (0 by default) makes this PMS
 * ask 0, 20, 40… or 1, 21, 41…. Which listing PMS reads a show's seasons from is unknown too:
 * `seasonsVia` takes them from `includeChildren=1` (default) or pages `/children`.
 * Every refresh (movie, show, season, episode) asks for the item's `/extras` after its metadata,
 * as PMS does (providers that did not serve it saw PMS log failed queries); anything but a 200
 * MediaContainer is a violation.
 */
import { type Dirent, lstatSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { PlexMetadata } from "../../src/schema/plex.ts";
import {
  containerProblems,
  discover,
  fetchExtras,
  parsedTitle,
  pmsRequestHeaders,
  providerRequestUrl,
  relativeFilename,
  timed,
} from "./scan.ts";
import type { PmsSim, SimItem, SimSection } from "./server.ts";
import { type ParsedEpisode, parseEpisodePath } from "./tv-scanner.ts";
import { TvTree, type TvType } from "./tv-tree.ts";

export type { TvType };

export interface TvScanReport {
  /** Files placed as episodes the provider lists. */
  placed: string[];
  /** Files placed as unmatched episodes (a local GUID, the title from the file name). */
  unmatched: string[];
  /** Files the TV scanner does not read as episodes. */
  ignored: string[];
  /** Files gone from disk whose episodes (or versions) were removed. */
  removed: string[];
  violations: string[];
  seconds: number;
}

/** Every file under a folder on the real disk, symbolic links included (not followed into folders). */
export function walkFolder(root: string): string[] {
  const out: string[] = [];
  const visit = (dir: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) visit(path);
      else if (e.isFile()) out.push(path);
      else if (e.isSymbolicLink()) {
        // A link to a folder is not followed (no loops); a link to a file, or one whose target is
        // not on this machine (the simulated Stash's files), is listed as a file.
        let dirTarget = false;
        try {
          dirTarget = statSync(path).isDirectory();
        } catch {}
        if (!dirTarget) out.push(path);
      }
    }
  };
  try {
    if (lstatSync(root).isDirectory()) visit(root);
  } catch {}
  return out.sort();
}

const under = (path: string, folder: string) => {
  const f = folder.replace(/[\\/]+$/, "");
  return path === f || path.startsWith(`${f}/`) || path.startsWith(`${f}\\`);
};
const now = () => Math.floor(Date.now() / 1000);
const TV_GUID = /^(tv\.plex\.agents\.custom\.[A-Za-z0-9.]+):\/\/(show|season|episode)\/([A-Za-z0-9_-]+)$/;

/** A show as its provider describes it: the show, its seasons and every episode. */
interface ShowTree {
  meta: PlexMetadata;
  seasons: PlexMetadata[];
  episodes: PlexMetadata[];
}

export class PlexTv {
  /** How many items PMS asks for per /grandchildren (or /children) request. */
  pageSize = 20;
  /** Whether PMS pages provider listings with headers, query parameters, or the two in turn (page by page). */
  pagingVia: "header" | "query" | "alternate" = "header";
  /** The X-Plex-Container-Start of a listing's first page: 0- or 1-based is unknown (header above). */
  pagingStartsAt: 0 | 1 = 0;
  /** Where a show's seasons are read from: its `includeChildren=1` answer, or its paged `/children`. */
  seasonsVia: "includeChildren" | "children" = "includeChildren";
  /**
   * The size taken for a file that is not on this machine (a listed file, a link to the
   * simulated Stash's files): a scene's usual size, so names with "sample" are not samples
   * unless a test says files are small. A real file (or link to one) counts with its own size.
   */
  assumedBytes = 1024 ** 3;
  /** The show item of each show folder PMS has scanned: `section\0folder` → ratingKey. */
  private showOfFolder = new Map<string, string>();
  private queue = new Map<string, Promise<unknown>>();
  /** The show → season → episode tree of every TV section, indexed. */
  readonly tree: TvTree;
  /** Provider GETs that did not answer 200 (status 0: no answer), oldest first. */
  failures: { path: string; status: number }[] = [];
  /** Every `/extras` request a refresh made (movie or TV): the provider's URL, the path, the status it got. */
  extras: { provider: string; path: string; status: number }[] = [];
  /** Provider identifiers learnt by discovery, by URL (PMS keeps what Add Provider read). */
  private identities = new Map<string, string>();

  constructor(readonly pms: PmsSim) {
    this.tree = new TvTree(pms.items);
  }

  /** A file's size as PMS's scanner sees it (a link's target's). */
  private sizeOf(path: string): number {
    try {
      return statSync(path).size;
    } catch {
      return this.assumedBytes;
    }
  }

  /** Scans a TV section (or one folder of it); scans of one section run one after another, as in PMS. */
  scan(section: SimSection, onlyUnder?: string): Promise<TvScanReport> {
    const before = this.queue.get(section.key) ?? Promise.resolve();
    const run = before.catch(() => {}).then(() => this.scanNow(section, onlyUnder));
    this.queue.set(section.key, run);
    return run;
  }

  private async scanNow(section: SimSection, onlyUnder?: string): Promise<TvScanReport> {
    const started = performance.now();
    const report: TvScanReport = { placed: [], unmatched: [], ignored: [], removed: [], violations: [], seconds: 0 };
    const inScope = (p: string) => !onlyUnder || under(p, onlyUnder);
    const onDisk = new Set(this.pms.filesOf(section.key).filter(inScope));
    this.emptyTrash(section.key, inScope, onDisk, report);

    const known = new Set(this.itemsOf(section.key, "episode").flatMap((e) => e.files));
    const groups = new Map<string, { parsed: ParsedEpisode; path: string; root: string }[]>();
    for (const path of [...onDisk].sort()) {
      if (known.has(path)) continue;
      const root = section.locations.find((l) => under(path, l));
      const parsed = root ? parseEpisodePath(path, root, this.sizeOf(path)) : null;
      if (!parsed || !root) {
        report.ignored.push(path);
        continue;
      }
      const list = groups.get(parsed.show.folder) ?? [];
      list.push({ parsed, path, root });
      groups.set(parsed.show.folder, list);
    }
    if (groups.size) {
      const provider = this.pms.providerFor(section.agent);
      const identity = provider ? await this.identify(provider, report.violations) : undefined;
      for (const [folder, files] of groups) {
        await this.placeShow(
          section,
          folder,
          files,
          provider && identity ? { url: provider, ...identity } : undefined,
          report,
        );
      }
    }
    report.seconds = (performance.now() - started) / 1000;
    this.pms.violations.push(...report.violations);
    return report;
  }

  /** Discovery, as PMS does before using a provider; a TV library needs a provider of type 2. */
  private async identify(url: string, violations: string[], cached = false) {
    const known = this.identities.get(url);
    if (cached && known) return { identifier: known };
    try {
      const { identifier, violations: found, types } = await discover(url, this.pms);
      violations.push(...found);
      if (!types.includes(2)) {
        violations.push(`discovery of ${url} declares no type 2 (show): PMS cannot use it for a TV library`);
        return undefined;
      }
      this.identities.set(url, identifier);
      return { identifier };
    } catch {
      // The provider is down (no answer): PMS cannot use it now, and places nothing through it.
      this.failures.push({ path: "/", status: 0 });
      return undefined;
    }
  }

  /** PMS's "empty trash after every scan": files gone from the scanned folders lose their episodes. */
  private emptyTrash(sectionId: string, inScope: (p: string) => boolean, onDisk: Set<string>, report: TvScanReport) {
    for (const ep of this.itemsOf(sectionId, "episode")) {
      const gone = ep.files.filter((f) => inScope(f) && !onDisk.has(f));
      if (!gone.length) continue;
      report.removed.push(...gone);
      ep.files = ep.files.filter((f) => !gone.includes(f));
      if (!ep.files.length) this.remove(ep);
      else ep.updatedAt = now();
    }
    for (const season of this.itemsOf(sectionId, "season")) if (!this.childrenOf(season).length) this.remove(season);
    for (const show of this.itemsOf(sectionId, "show")) {
      if (this.childrenOf(show).length) continue;
      this.remove(show);
      for (const [k, rk] of this.showOfFolder) if (rk === show.ratingKey) this.showOfFolder.delete(k);
    }
  }

  /** Matches a show folder's show if PMS does not know it yet, then places its new files. */
  private async placeShow(
    section: SimSection,
    folder: string,
    files: { parsed: ParsedEpisode; path: string; root: string }[],
    provider: { url: string; identifier: string } | undefined,
    report: TvScanReport,
  ) {
    const folderKey = `${section.key}\0${folder}`;
    let show = this.pms.items.get(this.showOfFolder.get(folderKey) ?? "");
    let tree: ShowTree | undefined;
    if (provider) {
      const ours = show && TV_GUID.exec(show.guid);
      if (ours && ours[1] === provider.identifier) tree = await this.fetchTree(provider, ours[3]!, report.violations);
      else if (!show) {
        const candidate = await this.matchShow(provider, files[0]!, report.violations);
        if (candidate) tree = await this.fetchTree(provider, candidate.ratingKey, report.violations);
      }
    }
    const info = files[0]!.parsed.show;
    if (!show) {
      show = this.pms.createItem(section.key, {
        type: "show",
        guid: tree?.meta.guid,
        title: tree?.meta.title ?? info.title,
        fields: tree ? strip(tree.meta) : { ...(info.year ? { year: info.year } : {}) },
      });
      this.showOfFolder.set(folderKey, show.ratingKey);
    }
    for (const { parsed, path } of files) {
      const season = this.seasonOf(show, parsed.season, tree);
      const listed = (n?: number) =>
        tree?.episodes.find((e) =>
          n === undefined
            ? e.originallyAvailableAt === parsed.date && (e.parentIndex ?? parsed.season) === parsed.season
            : e.parentIndex === parsed.season && e.index === n,
        );
      const numbers: (number | undefined)[] = parsed.episodes.length ? parsed.episodes : [undefined];
      let matched = false;
      for (const n of numbers) {
        const meta = listed(n);
        matched ||= !!meta;
        this.placeEpisode(section.key, season, n ?? meta?.index, parsed.date, path, meta);
      }
      (matched ? report.placed : report.unmatched).push(path);
    }
  }

  /** POST …/matches for a show, as PMS sends it: type 2, title, year, the first file, any id hint. */
  private async matchShow(
    provider: { url: string; identifier: string },
    first: { parsed: ParsedEpisode; path: string; root: string },
    violations: string[],
  ): Promise<PlexMetadata | undefined> {
    const { title, year, guid } = first.parsed.show;
    const body = {
      type: 2,
      title,
      ...(year ? { year } : {}),
      ...(guid ? { guid } : {}),
      filename: relativeFilename({ path: first.path, root: first.root }),
      includeChildren: 1,
    };
    const res = await timed(providerRequestUrl(`${provider.url}/library/metadata/matches`, this.pms), {
      method: "POST",
      headers: { ...pmsRequestHeaders(this.pms), "content-type": "application/json" },
      body: JSON.stringify(body),
    }).catch((e: Error) => ({ status: 0, body: e.message, ms: 0 }));
    const what = `match show ${first.parsed.show.folder}`;
    if (res.status !== 200) {
      violations.push(`${what} answered ${res.status}`);
      return undefined;
    }
    violations.push(...containerProblems(what, res.status, res.body, provider.identifier));
    const candidates: PlexMetadata[] = (res.body as any)?.MediaContainer?.Metadata ?? [];
    if (candidates.length > 1) violations.push(`${what}: ${candidates.length} candidates without manual`);
    const best = candidates[0];
    if (best && best.type !== "show") {
      violations.push(`${what}: the candidate is a ${best.type}, not a show`);
      return undefined;
    }
    return best;
  }

  /**
   * The show with its seasons (includeChildren=1, or its paged /children: `seasonsVia`) and
   * every episode (/grandchildren, paged).
   */
  private async fetchTree(
    provider: { url: string; identifier: string },
    key: string,
    violations: string[],
  ): Promise<ShowTree | undefined> {
    const viaChildren = this.seasonsVia === "children";
    const shown = await this.get(
      provider,
      `/library/metadata/${key}${viaChildren ? "" : "?includeChildren=1"}`,
      violations,
    );
    const meta = shown?.Metadata?.[0];
    if (!meta) return undefined;
    if (meta.type !== "show") violations.push(`show ${key} answered a ${meta.type}`);
    if (!viaChildren && !meta.Children)
      violations.push(`show ${key} answered without Children although includeChildren=1`);
    const seasons = viaChildren
      ? await this.pageAll(provider, key, "children", violations)
      : ((meta.Children?.Metadata ?? []) as PlexMetadata[]);
    const episodes = await this.pageAll(provider, key, "grandchildren", violations);
    // Two episodes with the same numbers: PMS could place only one of them.
    const seen = new Set<string>();
    for (const e of episodes) {
      if (e.parentIndex === undefined || e.index === undefined) continue;
      const at = `S${e.parentIndex}E${e.index}`;
      if (seen.has(at)) violations.push(`show ${key} lists two episodes as ${at}`);
      seen.add(at);
    }
    // Every episode's season is among the show's seasons (all of them, with includeChildren=1).
    if (viaChildren || meta.Children) {
      const season = new Map(seasons.map((s) => [s.index, s.ratingKey]));
      for (const e of episodes) {
        if (e.parentIndex === undefined) continue;
        if (!season.has(e.parentIndex))
          violations.push(`show ${key}: episode ${e.ratingKey}'s season ${e.parentIndex} is not among its Children`);
        else if (season.get(e.parentIndex) !== e.parentRatingKey)
          violations.push(
            `show ${key}: episode ${e.ratingKey} names season ${e.parentRatingKey}, not ${season.get(e.parentIndex)}`,
          );
      }
    }
    return { meta, seasons, episodes };
  }

  /**
   * Every item of a show's paged listing (its seasons, or its episodes), page by page as this
   * PMS asks: `pageSize` per page from `pagingStartsAt`. An item served twice (at a page
   * boundary) is one item; a page that ends the listing early is a violation (items were skipped).
   */
  private async pageAll(
    provider: { url: string; identifier: string },
    key: string,
    listing: "children" | "grandchildren",
    violations: string[],
  ): Promise<PlexMetadata[]> {
    const type = listing === "children" ? "season" : "episode";
    const parentOf = (m: PlexMetadata) => (listing === "children" ? m.parentRatingKey : m.grandparentRatingKey);
    const byKey = new Map<string, PlexMetadata>();
    for (let seen = 0, pages = 0; pages < 100_000; pages++) {
      const start = this.pagingStartsAt + seen;
      const page = await this.get(provider, `/library/metadata/${key}/${listing}`, violations, { start, page: pages });
      if (!page) break;
      const items = page.Metadata ?? [];
      const what = `${listing} of ${key} from ${start}`;
      // Counted from 1, the answer's offset may name the first item's place from 0 or echo the start: unknown.
      if (page.offset !== seen && page.offset !== start) violations.push(`${what}: offset ${page.offset}`);
      if (items.length > this.pageSize)
        violations.push(`${what}: ${items.length} items for X-Plex-Container-Size ${this.pageSize}`);
      for (const m of items) {
        if (m.type !== type) violations.push(`${what}: a ${m.type} among the ${type}s`);
        else if (parentOf(m) !== key) violations.push(`${what}: ${type} ${m.ratingKey} names show ${parentOf(m)}`);
        if (!byKey.has(m.ratingKey)) byKey.set(m.ratingKey, m);
      }
      seen += items.length;
      if (!items.length || seen >= page.totalSize) {
        if (seen < page.totalSize) violations.push(`${what}: an empty page before totalSize ${page.totalSize}`);
        break;
      }
    }
    return [...byKey.values()];
  }

  /**
   * A GET to the provider, checked against the contract; the MediaContainer when it answered 200.
   * A page of a listing carries X-Plex-Container-Start/-Size as `pagingVia` says.
   */
  private async get(
    provider: { url: string; identifier: string },
    path: string,
    violations: string[],
    paging?: { start: number; page: number },
  ) {
    const url = new URL(providerRequestUrl(`${provider.url}${path}`, this.pms));
    const headers = pmsRequestHeaders(this.pms);
    if (paging) {
      const values = { "X-Plex-Container-Start": String(paging.start), "X-Plex-Container-Size": String(this.pageSize) };
      const inQuery = this.pagingVia === "query" || (this.pagingVia === "alternate" && paging.page % 2 === 1);
      if (inQuery) for (const [k, v] of Object.entries(values)) url.searchParams.set(k, v);
      else Object.assign(headers, values);
    }
    const res = await timed(url.href, { headers }).catch((e: Error) => ({
      status: 0,
      body: e.message,
      ms: 0,
    }));
    if (res.status !== 200) {
      // Not a contract violation: a provider whose Stash is down answers 503 and PMS keeps what
      // it has (an item it was placing stays unmatched). Kept for the tests to see.
      this.failures.push({ path, status: res.status });
      return undefined;
    }
    const problems = containerProblems(`GET ${path}`, res.status, res.body, provider.identifier);
    violations.push(...problems);
    return (res.body as any)?.MediaContainer as
      | { offset: number; totalSize: number; size: number; Metadata?: PlexMetadata[] }
      | undefined;
  }

  /** The season item of a show, made from the provider's season (or a plain "Season N") on first use. */
  private seasonOf(show: SimItem, index: number, tree: ShowTree | undefined): SimItem {
    const found = this.childrenOf(show).find((s) => s.index === index);
    if (found) return found;
    const meta = tree?.seasons.find((s) => s.index === index);
    return this.pms.createItem(show.sectionId, {
      type: "season",
      parentRatingKey: show.ratingKey,
      index,
      guid: meta?.guid,
      title: meta?.title ?? (index === 0 ? "Specials" : `Season ${index}`),
      fields: meta ? strip(meta) : {},
    });
  }

  /**
   * An episode item for a file. A second file with the same numbers (or air date) in the same
   * season becomes another version of the same episode, as in PMS.
   */
  private placeEpisode(
    sectionId: string,
    season: SimItem,
    index: number | undefined,
    date: string | undefined,
    path: string,
    meta: PlexMetadata | undefined,
  ) {
    const same = this.tree.episodeAt(season, index, date);
    if (same) {
      if (!same.files.includes(path)) same.files.push(path);
      same.updatedAt = now();
      return same;
    }
    return this.pms.createItem(sectionId, {
      type: "episode",
      parentRatingKey: season.ratingKey,
      index,
      guid: meta?.guid,
      title: meta?.title ?? parsedTitle(path).title,
      fields: meta ? strip(meta) : date ? { originallyAvailableAt: date } : {},
      files: [path],
    });
  }

  /**
   * A refresh (or Fix Match) of a TV item re-pulls it from the provider its GUID names, then asks
   * for its extras. Answers the provider's status (200, or the first failed request's).
   */
  async pull(item: SimItem, type: TvType, key: string, provider: string): Promise<number> {
    const violations: string[] = [];
    const failed = this.failures.length;
    const identity = await this.identify(provider, violations, true);
    if (!identity) {
      this.pms.violations.push(...violations);
      return 0;
    }
    const p = { url: provider, identifier: identity.identifier };
    let fetched = false;
    if (type === "show") {
      const tree = await this.fetchTree(p, key, violations);
      if (tree) this.refreshShow(item, tree);
      fetched = !!tree;
    } else {
      const mc = await this.get(p, `/library/metadata/${key}`, violations);
      const meta = mc?.Metadata?.[0];
      fetched = !!mc;
      if (meta?.type !== type) {
        if (meta) violations.push(`GET ${type} ${key} answered a ${meta.type}`);
      } else this.pms.applyPulled(item, strip(meta));
    }
    if (fetched) await this.askExtras(p, key, violations);
    this.pms.violations.push(...violations);
    return this.failures[failed]?.status ?? 200;
  }

  /** A provider URL as this PMS requests it (language and country in the query when it sends them so). */
  requestUrl(url: string): string {
    return providerRequestUrl(url, this.pms);
  }

  /** A movie's refresh asks for its extras too, after its metadata (server.ts pull). */
  async movieExtras(provider: { url: string; identifier: string }, key: string) {
    const violations: string[] = [];
    await this.askExtras(provider, key, violations);
    this.pms.violations.push(...violations);
  }

  /** GET {metadata key}/{key}/extras, as PMS does after an item's metadata on every refresh (scan.ts fetchExtras). */
  private async askExtras(provider: { url: string; identifier: string }, key: string, violations: string[]) {
    const answer = await fetchExtras(provider.url, key, provider.identifier, this.pms);
    this.extras.push({ provider: provider.url, path: `/library/metadata/${key}/extras`, status: answer.status });
    violations.push(...answer.violations);
  }

  /**
   * A refresh of an unmatched show: PMS tries to match it again, as its scan would (the first
   * file of its episodes), and on a match reads the show and binds the episodes it lists.
   */
  async rematch(show: SimItem) {
    const section = this.pms.sections.find((s) => s.key === show.sectionId);
    const url = section && this.pms.providerFor(section.agent);
    const path = this.grandchildrenOf(show)
      .flatMap((e) => e.files)
      .sort()[0];
    const root = path && section?.locations.find((l) => under(path, l));
    const parsed = path && root ? parseEpisodePath(path, root, this.sizeOf(path)) : null;
    if (!url || !parsed || !path || !root) return;
    const violations: string[] = [];
    const identity = await this.identify(url, violations, true);
    const provider = identity && { url, identifier: identity.identifier };
    const candidate = provider && (await this.matchShow(provider, { parsed, path, root }, violations));
    const tree = provider && candidate && (await this.fetchTree(provider, candidate.ratingKey, violations));
    if (tree) {
      show.guid = tree.meta.guid;
      this.refreshShow(show, tree);
    }
    this.pms.violations.push(...violations);
  }

  /**
   * Fix Match's search (`PUT /library/metadata/{id}/matches?title=&year=&manual=1`): PMS posts a
   * match for the item's type to its section's provider, with what it knows of the item (the
   * first file; a season's show and number; an episode's show, season and number) and the title
   * the user typed, and answers the provider's candidates. For movies too.
   */
  async search(item: SimItem, q: URLSearchParams): Promise<PlexMetadata[]> {
    const section = this.pms.sections.find((s) => s.key === item.sectionId);
    const url = section && this.pms.providerFor(section.agent);
    if (!section || !url) return [];
    const violations: string[] = [];
    const identity = await this.identify(url, violations, true);
    if (!identity) return [];
    const type = item.type ?? "movie";
    const files =
      type === "show"
        ? this.grandchildrenOf(item).flatMap((e) => e.files)
        : type === "season"
          ? this.childrenOf(item).flatMap((e) => e.files)
          : item.files;
    const first = [...files].sort()[0];
    const root = first && section.locations.find((l) => under(first, l));
    const parent = this.pms.items.get(item.parentRatingKey ?? "");
    const show = type === "season" ? parent : this.pms.items.get(parent?.parentRatingKey ?? "");
    const year = q.get("year");
    const body = {
      type: { movie: 1, show: 2, season: 3, episode: 4 }[type],
      title: q.get("title") ?? item.title,
      ...(year ? { year: Number(year) } : {}),
      ...(type === "season" ? { parentTitle: show?.title, index: item.index } : {}),
      ...(type === "episode" ? { grandparentTitle: show?.title, parentIndex: parent?.index, index: item.index } : {}),
      ...(first && root ? { filename: relativeFilename({ path: first, root }) } : {}),
      ...(q.get("manual") === "1" ? { manual: 1 } : {}),
      ...(type === "show" || type === "season" ? { includeChildren: 1 } : {}),
    };
    const res = await timed(providerRequestUrl(`${url}/library/metadata/matches`, this.pms), {
      method: "POST",
      headers: { ...pmsRequestHeaders(this.pms), "content-type": "application/json" },
      body: JSON.stringify(body),
    }).catch(() => ({ status: 0, body: undefined, ms: 0 }));
    violations.push(...containerProblems(`match ${type} ${item.ratingKey}`, res.status, res.body, identity.identifier));
    if (res.status !== 200) this.failures.push({ path: "/library/metadata/matches", status: res.status });
    const candidates: PlexMetadata[] = (res.body as any)?.MediaContainer?.Metadata ?? [];
    if (body.manual !== 1 && candidates.length > 1)
      violations.push(`match ${type} ${item.ratingKey}: ${candidates.length} candidates without manual`);
    this.pms.violations.push(...violations);
    return candidates;
  }

  /** A show's refresh: the show, its seasons and every episode it lists that PMS placed. */
  private refreshShow(show: SimItem, tree: ShowTree) {
    this.pms.applyPulled(show, strip(tree.meta));
    for (const season of this.childrenOf(show)) {
      const meta = tree.seasons.find((s) => s.index === season.index);
      if (meta) {
        season.guid = meta.guid;
        this.pms.applyPulled(season, strip(meta));
      }
      for (const ep of this.childrenOf(season)) {
        const listed = tree.episodes.find((e) =>
          ep.index !== undefined
            ? e.parentIndex === season.index && e.index === ep.index
            : e.originallyAvailableAt === ep.fields.originallyAvailableAt,
        );
        // An episode bound by hand (Fix Match) to another GUID keeps it: the user's choice.
        if (!listed || !(ep.guid === listed.guid || ep.guid.startsWith("local://"))) continue;
        ep.guid = listed.guid;
        this.pms.applyPulled(ep, strip(listed));
      }
    }
  }

  /** Files a new TV item under its parent (called for every item made with a parent). */
  adopt(item: SimItem) {
    this.tree.adopt(item);
  }

  private remove(item: SimItem) {
    this.tree.remove(item);
  }

  /** A section's shows, seasons or episodes. */
  itemsOf(sectionId: string, type: TvType): SimItem[] {
    return this.tree.itemsOf(sectionId, type);
  }

  /** A show's seasons or a season's episodes, in index order. */
  childrenOf(item: SimItem): SimItem[] {
    return this.tree.childrenOf(item);
  }

  /** A show's episodes, season by season. */
  grandchildrenOf(show: SimItem): SimItem[] {
    return this.tree.grandchildrenOf(show);
  }

  /** A show, season or episode as PMS answers it (tv-tree.ts). */
  present(i: SimItem, base: Record<string, any>): Record<string, any> {
    return this.tree.present(i, base);
  }
}

/** A provider's item as PMS keeps its fields: without the provider's own keys and children. */
function strip(meta: PlexMetadata): Record<string, any> {
  const { Children: _c, ratingKey: _r, key: _k, ...rest } = meta as PlexMetadata & Record<string, any>;
  for (const k of Object.keys(rest)) if (/^(parent|grandparent)(RatingKey|Key)$/.test(k)) delete rest[k];
  return rest;
}
