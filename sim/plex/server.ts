/**
 * A Plex Media Server simulator: library sections with items (`Media[].Part[].file`), the
 * push-side endpoints our client calls, X-Plex-Token auth, and real downtime (the port
 * refuses connections while stopped). Refresh and match re-pull from the metadata provider
 * exactly as PMS does, so an item's fields change only through the real service. Every
 * request is logged so tests can count Plex calls per item and check them against the
 * official API description.
 *
 * Evidence for what was added for issues 27 and 29:
 * - A Part's `size` (bytes) and `duration` (ms) (`fileFacts`): python-plexapi's MediaPart, in
 *   ../shared/plex/real-pms-evidence.md §6. Whether a section *listing* carries them as an item's
 *   own page does is not shown there (LIKELY, as it carries Media and Part): where they are
 *   missing the product binds nothing by size (identity.ts answers "none"), never guesses.
 * - A database restored from a backup (`snapshot`/`restore`): PMS backs its database up on a
 *   schedule (its `admin.database.backup` webhook event, evidence §5), and a restore puts the old
 *   database file back. That items then show their older `updatedAt` follows from it living in
 *   that file; that new items get rating keys given before follows from SQLite's id sequence
 *   living there too. No log or report of a restore was found (UNKNOWN beyond that): the product
 *   also takes most of the sampled items being gone as a restore (gaps/plex-rewind.ts), and its
 *   daily reconcile heals whatever a restore left either way.
 * - `clockOffsetMs` is a test's lever (Plex's clock moved on), not a behaviour.
 */
import { SimServer } from "../sim-server.ts";
import { discover, parsedTitle, pmsRequestHeaders, relativeFilename, type ScanReport, scanFiles } from "./scan.ts";
import { PlexTv, type TvScanReport, type TvType, walkFolder } from "./tv.ts";
import { PlexWatch } from "./watch.ts";
import { PlexArtwork } from "./artwork.ts";
import { type CollectionsSnapshot, SimCollections } from "./collections.ts";

export interface SimSection {
  key: string;
  title: string;
  /** A movie library, or a TV library ("show": shows, seasons and episodes; see tv.ts). */
  type: "movie" | "show";
  agent: string;
  locations: string[];
}
export interface SimItem {
  ratingKey: string;
  sectionId: string;
  guid: string;
  title: string;
  fields: Record<string, any>;
  files: string[];
  updatedAt: number;
  uploads: { posters: number; arts: number };
  locked: Set<string>;
  /** The token owner's star rating (PUT /:/rate), 0–10. */
  userRating?: number;
  /** A movie unless set; TV items form a tree (tv.ts). */
  type?: "movie" | TvType;
  /** A season's show, an episode's season. */
  parentRatingKey?: string;
  /** A season's number; an episode's number in its season (from its file name). */
  index?: number;
}

/** Plex's type numbers, as `type=` in a section listing names them. */
const TYPE_OF_NUMBER: Record<string, SimItem["type"]> = { "1": "movie", "2": "show", "3": "season", "4": "episode" };

/** How many tags of each kind PMS shows per item in a section listing. */
export const LISTED_TAGS = { Genre: 2, Role: 3, Collection: 2 } as const;

/** The metadata field(s) each PMS lock name (`title.locked=1`, `genre.locked=1` …) keeps. */
const LOCK_FIELDS: Record<string, string[]> = {
  title: ["title"],
  summary: ["summary"],
  studio: ["studio"],
  originallyAvailableAt: ["originallyAvailableAt", "year"],
  tagline: ["tagline"],
  contentRating: ["contentRating"],
  rating: ["rating", "Rating"],
  genre: ["Genre"],
  actor: ["Role"],
  collection: ["Collection"],
};

/** PMS's database at one moment (PmsSim.snapshot). */
export interface PmsSnapshot {
  items: SimItem[];
  nextKey: number;
  /** The collections, which live in the same database (collections.ts). */
  collections?: CollectionsSnapshot;
}

export interface PmsCall {
  method: string;
  path: string;
  query?: string;
  ratingKey?: string;
  at: number;
}

export class PmsSim extends SimServer {
  sections: SimSection[] = [];
  items = new Map<string, SimItem>();
  /**
   * Files on "disk" per section that a scan would find. A section added without a list is read
   * from the real folders of its locations at each scan (symbolic links listed as files).
   */
  disk = new Map<string, string[]>();
  /** What PMS's scanner reads of a file besides its name: its size (bytes) and duration (ms), by path. */
  fileFacts = new Map<string, { size: number; duration: number }>();
  /** Contract violations the provider's answers showed during TV scans and refreshes. */
  violations: string[] = [];
  calls: PmsCall[] = [];
  token = "plex-sim-token";
  /** What /identity answers; PMS sends the identifier to providers as X-Plex-Client-Identifier. */
  machineIdentifier = Array.from(crypto.getRandomValues(new Uint8Array(20)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
  version = "1.43.0.sim";
  /** Whether its requests to providers carry X-Plex-Client-Identifier (no evidence PMS sends it: off; see PmsIdentity in scan.ts). */
  sendsClientIdentifier = false;
  /** Whether they carry `User-Agent: PlexMediaServer/…` (off: a push is confirmed only by reading the item back). */
  sendsUserAgent = true;
  /** How language and country reach providers: headers, query parameters, or not at all (scan.ts). */
  localeVia: "header" | "query" | "none" = "header";
  /** Added to every answer, to make a backlog take a while to drain. */
  latencyMs = 0;
  /** When false, refreshes are accepted but never fetched (as when PMS restarts right after). */
  pullsEnabled = true;
  /**
   * The one provider of a test that registers none (`registerProvider`): every custom agent is
   * taken to be served there.
   */
  providerUrl = "";
  /**
   * Registered providers by agent identifier, as PMS keeps them (Settings → Metadata Agents →
   * Add Provider: PMS reads the identifier from the URL's discovery document). A section scans
   * through its agent's provider and an item re-pulls from the one its GUID scheme names.
   */
  providers = new Map<string, string>();
  /**
   * Called around each re-pull from the provider, so a test can make one fetch fail (Stash
   * down for that moment), slow it, or kill the provider between two fetches.
   */
  pullHooks: { before?: (item: SimItem) => void | Promise<void>; after?: (item: SimItem, status: number) => void } = {};
  /** Posters and backgrounds PMS holds: uploads, and the cloud image service it fetches provider URLs through (artwork.ts). */
  readonly artwork = new PlexArtwork();
  /** Watching: webhooks, notifications, sessions and history (watch.ts). */
  readonly watch: PlexWatch = new PlexWatch(this);
  /** TV sections: the scan through a TV provider, the show → season → episode tree (tv.ts). */
  readonly tv: PlexTv = new PlexTv(this);
  /** Collections: objects of a section whose members an item's Collection tags show (collections.ts). */
  readonly collections: SimCollections = new SimCollections(this);
  private nextKey = 1;
  /** The next rating key (items and collections share one sequence). */
  takeRatingKey(): string {
    return String(this.nextKey++);
  }
  private pulls = new Set<Promise<void>>();
  /** Added to the clock PMS stamps items' `updatedAt` with (a test moves Plex's time on without waiting). */
  clockOffsetMs = 0;
  private nowSeconds() {
    return Math.floor((Date.now() + this.clockOffsetMs) / 1000);
  }

  /**
   * PMS's database as it is now, to be restored later (`restore`): Plex → Settings → Scheduled
   * Tasks backs the database up every few days, and a user restores one after a failed disk or
   * upgrade. What a database holds goes back with it: the items, their fields, locks and
   * `updatedAt`, and the next rating key (SQLite's id sequence: keys given since are given
   * again). Uploaded images live in Plex's metadata folder, not the database: kept as they are.
   */
  snapshot(): PmsSnapshot {
    return {
      items: structuredClone([...this.items.values()]),
      nextKey: this.nextKey,
      collections: this.collections.snapshot(),
    };
  }

  /** Puts a snapshot back, as PMS restarted on a restored database. */
  restore(snapshot: PmsSnapshot) {
    // The same map (the TV tree reads it), its entries the snapshot's.
    this.items.clear();
    for (const item of structuredClone(snapshot.items)) this.items.set(item.ratingKey, item);
    this.nextKey = snapshot.nextKey;
    this.collections.restore(snapshot.collections);
  }

  /** Adds a provider by its URL, as a user does in Plex; answers the identifier it declared. */
  async registerProvider(url: string): Promise<string> {
    const { identifier, violations } = await discover(url, this);
    if (!identifier || violations.length)
      throw new Error(`PMS could not add the provider at ${url}: ${violations.join("; ") || "no identifier"}`);
    this.providers.set(identifier, url);
    return identifier;
  }

  /** Where the provider of an agent identifier is served, if PMS knows it. */
  providerFor(identifier: string): string | undefined {
    return this.providers.get(identifier) ?? (this.providers.size ? undefined : this.providerUrl || undefined);
  }

  /** A library section; without `files`, its files are read from its real folders at each scan. */
  addSection(section: SimSection, files?: string[]) {
    this.sections.push(section);
    if (files) this.disk.set(section.key, files);
  }

  /** The files a scan of a section finds now. */
  filesOf(sectionId: string): string[] {
    const listed = this.disk.get(sectionId);
    if (listed) return listed;
    const section = this.sections.find((s) => s.key === sectionId);
    return section ? section.locations.flatMap((l) => walkFolder(l)) : [];
  }

  /** A new library item with the next rating key (a local GUID unless one is given). */
  createItem(sectionId: string, init: Partial<Omit<SimItem, "ratingKey" | "sectionId">> & { title: string }): SimItem {
    const key = String(this.nextKey++);
    const item: SimItem = {
      ratingKey: key,
      sectionId,
      fields: {},
      files: [],
      updatedAt: this.nowSeconds(),
      uploads: { posters: 0, arts: 0 },
      locked: new Set(),
      ...init,
      guid: init.guid ?? `local://${key}`,
    };
    this.items.set(key, item);
    if (item.parentRatingKey) this.tv.adopt(item);
    if (item.fields.Collection) this.collections.plant(item, item.fields.Collection);
    return item;
  }

  /**
   * An item Plex already has, as a library scanned before (another agent's GUID, or none of
   * ours): `guid` defaults to a local one, `fields` to what that agent wrote.
   */
  addItem(
    sectionId: string,
    file: string,
    options: { guid?: string; title?: string; fields?: Record<string, any> } = {},
  ): SimItem {
    const key = String(this.nextKey++);
    const item: SimItem = {
      ratingKey: key,
      sectionId,
      guid: options.guid ?? `local://${key}`,
      title: options.title ?? parsedTitle(file).title,
      fields: { ...options.fields },
      files: [file],
      updatedAt: this.nowSeconds(),
      uploads: { posters: 0, arts: 0 },
      locked: new Set(),
    };
    this.items.set(key, item);
    if (item.fields.Collection) this.collections.plant(item, item.fields.Collection);
    return item;
  }

  /** Waits until every refresh/match pull PMS started has finished. */
  async idle() {
    while (this.pulls.size) await Promise.all([...this.pulls]);
  }

  /** A TV section's scan (or one folder's), with what it placed, ignored and removed. */
  scanTv(sectionId: string, options: { onlyUnder?: string } = {}): Promise<TvScanReport> {
    const section = this.sections.find((s) => s.key === sectionId && s.type === "show");
    if (!section) throw new Error(`section ${sectionId} is not a TV section`);
    return this.tv.scan(section, options.onlyUnder);
  }

  /** A library scan: new files are matched through the provider, as PMS does. */
  async scan(sectionId: string, options: { concurrency?: number; onlyUnder?: string } = {}): Promise<ScanReport> {
    const section = this.sections.find((s) => s.key === sectionId)!;
    if (section.type === "show") {
      const tv = await this.tv.scan(section, options.onlyUnder);
      return { results: [], violations: tv.violations, seconds: tv.seconds };
    }
    const known = new Set([...this.items.values()].flatMap((i) => i.files));
    const files = this.filesOf(sectionId)
      .filter((f) => !known.has(f) && (!options.onlyUnder || f.startsWith(options.onlyUnder)))
      .map((path) => ({ path, root: section.locations.find((l) => path.startsWith(l))! }));
    const provider = section.agent.startsWith("tv.plex.agents.custom.") ? this.providerFor(section.agent) : undefined;
    const report =
      files.length && provider
        ? await scanFiles(provider, files, { concurrency: options.concurrency ?? 8, as: this })
        : { results: files.map((file) => ({ file, matchStatus: 0, matchMs: 0 })), violations: [], seconds: 0 };
    for (const r of report.results) {
      // Another scan (of an overlapping folder) may have added it meanwhile: PMS never holds a file twice.
      if (this.itemByFile(r.file.path)) continue;
      const key = String(this.nextKey++);
      const meta = "metadata" in r ? r.metadata : undefined;
      const item: SimItem = {
        ratingKey: key,
        sectionId,
        guid: meta?.guid ?? `local://${key}`,
        title: meta?.title ?? parsedTitle(r.file.path).title,
        fields: meta ? { ...meta } : {},
        files: [r.file.path],
        updatedAt: this.nowSeconds(),
        uploads: { posters: 0, arts: 0 },
        locked: new Set(),
      };
      this.items.set(key, item);
      // The provider's Collection tags put it into its section's collections (collections.ts).
      if (meta) this.collections.fromProvider(item, meta.Collection);
    }
    return report;
  }

  callsFor(ratingKey: string) {
    return this.calls.filter((c) => c.ratingKey === ratingKey);
  }

  /** Refresh and match calls (the ones that make PMS re-pull) per item. */
  pushCallsFor(ratingKey: string) {
    return this.callsFor(ratingKey).filter((c) => c.method === "PUT").length;
  }

  itemByFile(path: string) {
    return [...this.items.values()].find((i) => i.files.includes(path));
  }

  protected async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname;
    const rk = /^\/library\/metadata\/(\d+)/.exec(path)?.[1];
    this.calls.push({
      method: req.method,
      path,
      query: url.search,
      ratingKey: rk ?? url.searchParams.get("id") ?? url.searchParams.get("key") ?? undefined,
      at: Date.now(),
    });
    if (this.latencyMs) await Bun.sleep(this.latencyMs);
    if ((req.headers.get("x-plex-token") ?? url.searchParams.get("X-Plex-Token")) !== this.token) {
      return new Response("Unauthorized", { status: 401 });
    }
    const watched = await this.watch.handle(req, url);
    if (watched) return watched;
    const collected = await this.collections.handle(req, url);
    if (collected) return collected;
    const q = url.searchParams;
    let m: RegExpExecArray | null;
    if (req.method === "GET" && path === "/identity") {
      return Response.json({
        MediaContainer: { size: 0, machineIdentifier: this.machineIdentifier, version: this.version },
      });
    }
    if (req.method === "GET" && path === "/library/sections/all") {
      return Response.json({
        MediaContainer: {
          size: this.sections.length,
          Directory: this.sections.map((s) => ({
            key: s.key,
            title: s.title,
            type: s.type,
            agent: s.agent,
            Location: s.locations.map((p, i) => ({ id: i, path: p })),
          })),
        },
      });
    }
    if ((m = /^\/library\/sections\/(\d+)\/all$/.exec(path))) {
      const sectionId = m[1]!;
      if (req.method === "GET") {
        const since = Number(q.get("updatedAt>") ?? 0);
        // Media-query filters PMS supports on a listing: updatedAt>, and an exact guid.
        const guid = q.get("guid");
        // A TV section lists its shows unless `type=` asks for seasons (3) or episodes (4).
        const section = this.sections.find((s) => s.key === sectionId);
        const type = TYPE_OF_NUMBER[q.get("type") ?? ""] ?? (section?.type === "show" ? "show" : "movie");
        const all = [...this.items.values()].filter(
          (i) =>
            i.sectionId === sectionId &&
            (i.type ?? "movie") === type &&
            i.updatedAt > since &&
            (!guid || i.guid === guid),
        );
        return this.page(req, all, true);
      }
      if (req.method === "PUT") {
        const item = this.items.get(q.get("id") ?? "");
        if (!item || item.sectionId !== sectionId) return new Response("Not Found", { status: 404 });
        this.applyEdits(item, q);
        return new Response(null, { status: 200 });
      }
    }
    if (path === "/:/rate" && req.method === "PUT") {
      const item = this.items.get(q.get("key") ?? "");
      const rating = Number(q.get("rating"));
      if (q.get("identifier") !== "com.plexapp.plugins.library" || !item || !(rating >= -1 && rating <= 10))
        return new Response("Bad Request", { status: 400 });
      item.userRating = rating === -1 ? undefined : rating;
      this.watch.rated(item, item.userRating);
      return new Response(null, { status: 200 });
    }
    if ((m = /^\/library\/sections\/(\d+)\/refresh$/.exec(path)) && req.method === "POST") {
      this.track(this.scan(m[1]!, { onlyUnder: q.get("path") ?? undefined }).then(() => {}));
      return new Response(null, { status: 200 });
    }
    if ((m = /^\/library\/metadata\/(\d+(?:,\d+)+)$/.exec(path)) && req.method === "GET") {
      // A batched read (`/library/metadata/{ids}`: comma-separated rating keys): PMS answers the
      // items it has, each whole (every tag, the Field locks), and leaves out the ones it has not.
      const found = m[1]!.split(",").flatMap((k) => {
        const item = this.items.get(k);
        const collection = item ? undefined : this.collections.get(k);
        return item ? [this.present(item)] : collection ? [this.collections.present(collection)] : [];
      });
      if (!found.length) return new Response("Not Found", { status: 404 });
      return Response.json({ MediaContainer: { size: found.length, Metadata: found } });
    }
    if ((m = /^\/library\/sections\/(\d+)\/allLeaves$/.exec(path)) && req.method === "GET") {
      // Every episode of a TV section (a movie section's leaves are its movies).
      const sectionId = m[1]!;
      const leaves = [...this.items.values()].filter(
        (i) => i.sectionId === sectionId && (i.type === "episode" || (i.type ?? "movie") === "movie"),
      );
      return this.page(req, leaves, true);
    }
    if (
      (m =
        /^\/library\/metadata\/(\d+)(?:\/(refresh|match|matches|posters|arts|children|grandchildren|allLeaves))?$/.exec(
          path,
        ))
    ) {
      const item = this.items.get(m[1]!);
      if (!item) return new Response("Not Found", { status: 404 });
      const action = m[2];
      if ((action === "children" || action === "grandchildren" || action === "allLeaves") && req.method === "GET") {
        // A show's seasons (its episodes for grandchildren and allLeaves), a season's episodes; paged like /all.
        const kids =
          action === "children"
            ? this.tv.childrenOf(item)
            : item.type === "show"
              ? this.tv.grandchildrenOf(item)
              : action === "allLeaves" && item.type === "season"
                ? this.tv.childrenOf(item)
                : [];
        return this.page(req, kids, false);
      }
      if (action === "matches" && req.method === "PUT") {
        // Fix Match's search: PMS asks the section's provider for candidates (title as typed).
        const Metadata = await this.tv.search(item, q);
        return Response.json({ MediaContainer: { size: Metadata.length, Metadata } });
      }
      if (!action && req.method === "GET")
        return Response.json({ MediaContainer: { size: 1, Metadata: [this.present(item)] } });
      if (!action && req.method === "PUT") {
        // ShokoRelay's spelling of an edit (`PUT /library/metadata/{id}?collection[0].tag.tag=X`).
        this.applyEdits(item, q);
        return new Response(null, { status: 200 });
      }
      if (action === "refresh" && req.method === "PUT") {
        this.track(this.pull(item));
        return new Response(null, { status: 200 });
      }
      if (action === "match" && req.method === "PUT") {
        item.guid = q.get("guid") ?? item.guid;
        this.track(this.pull(item));
        return new Response(null, { status: 200 });
      }
      if ((action === "posters" || action === "arts") && req.method === "POST") {
        const from = q.get("url");
        if (from) return new Response(null, { status: await this.artwork.uploadFrom(item, action, from) });
        const bytes = new Uint8Array(await req.arrayBuffer());
        if (bytes.length === 0) return new Response("Bad Request", { status: 400 });
        this.artwork.upload(item, action, bytes);
        return new Response(null, { status: 200 });
      }
    }
    return new Response("Not Found", { status: 404 });
  }

  private track(p: Promise<void>) {
    const tracked = p.catch(() => {}).finally(() => this.pulls.delete(tracked));
    this.pulls.add(tracked);
  }

  /** A page of items as PMS lists them (X-Plex-Container-Start/-Size as query or header; 50 by default). */
  private page(req: Request, all: SimItem[], listing: boolean) {
    const q = new URL(req.url).searchParams;
    const param = (name: string) => q.get(name) ?? req.headers.get(name);
    const start = Number(param("X-Plex-Container-Start") ?? 0);
    const size = Number(param("X-Plex-Container-Size") ?? 50);
    const page = all.slice(start, start + size);
    return Response.json({
      MediaContainer: {
        offset: start,
        size: page.length,
        totalSize: all.length,
        Metadata: page.map((i) => this.present(i, listing)),
      },
    });
  }

  /** PMS re-pulls the item's metadata from the provider its GUID names. */
  private async pull(item: SimItem) {
    const [, scheme, type, id] =
      /^(tv\.plex\.agents\.custom\.[A-Za-z0-9.]+):\/\/(movie|show|season|episode)\/([A-Za-z0-9_-]+)$/.exec(item.guid) ??
      [];
    if (!scheme && item.type === "show" && item.guid.startsWith("local://")) {
      // An unmatched show's refresh makes PMS try to match it again.
      if (!this.pullsEnabled) return;
      await this.pullHooks.before?.(item);
      await this.tv.rematch(item);
      this.pullHooks.after?.(item, 200);
      return;
    }
    const provider = scheme ? this.providerFor(scheme) : undefined;
    if (!id || !provider || !this.pullsEnabled) return;
    if (type !== "movie") {
      // A TV item re-pulls only as a TV item (a movie GUID on an episode is not ours to fetch).
      if ((item.type ?? "movie") === "movie") return;
      await this.pullHooks.before?.(item);
      const status = await this.tv.pull(item, type as TvType, id, provider);
      this.pullHooks.after?.(item, status);
      return;
    }
    await this.pullHooks.before?.(item);
    const url = this.tv.requestUrl(`${provider}/library/metadata/${id}`);
    const res = await fetch(url, { headers: pmsRequestHeaders(this) }).catch(() => undefined);
    this.pullHooks.after?.(item, res?.status ?? 0);
    if (res?.status !== 200) return; // PMS keeps what it has
    const meta = ((await res.json()) as any).MediaContainer?.Metadata?.[0];
    if (!meta) return;
    this.applyPulled(item, meta);
    // Then its extras, as PMS asks on every refresh (tv.ts askExtras).
    await this.tv.movieExtras({ url: provider, identifier: scheme! }, id);
  }

  /** What a refresh writes: the provider's fields, but locked fields as they are (the user's decision), as PMS does. */
  applyPulled(item: SimItem, meta: Record<string, any>) {
    const kept = Object.fromEntries(
      [...item.locked]
        .flatMap((f) => LOCK_FIELDS[f] ?? [])
        .filter((k) => k in item.fields)
        .map((k) => [k, item.fields[k]]),
    );
    item.fields = { ...meta, ...kept };
    item.title = item.locked.has("title") ? item.title : meta.title;
    item.updatedAt = this.nowSeconds();
    this.collections.fromProvider(item, meta.Collection);
  }

  private applyEdits(item: SimItem, q: URLSearchParams) {
    const lists: Record<string, string[]> = {};
    for (const [key, value] of q) {
      let m: RegExpExecArray | null;
      if ((m = /^(\w+)\.value$/.exec(key))) {
        item.fields[m[1]!] = value;
        if (m[1] === "title") item.title = value;
      } else if ((m = /^(\w+)\.locked$/.exec(key)) && value === "1") item.locked.add(m[1]!);
      else if ((m = /^(genre|actor)\[(\d+)\]\.tag\.tag$/.exec(key))) (lists[m[1]!] ??= [])[Number(m[2])] = value;
    }
    // Collection tags are memberships of the section's collections (collections.ts).
    this.collections.editItemTags(item, q);
    const field = { genre: "Genre", actor: "Role" } as const;
    for (const [name, tags] of Object.entries(lists))
      item.fields[field[name as keyof typeof field]] = tags.map((tag) => ({ tag }));
    item.updatedAt = this.nowSeconds();
  }

  /** An item as PMS answers it (for collections.ts: a collection's members). */
  presentItem(i: SimItem, listing = false) {
    return this.present(i, listing);
  }

  /**
   * An item as PMS answers it. In a section listing, like real PMS, only the first few tags of
   * each kind are shown (two genres, three roles, two collections); the item itself has all.
   */
  private present(i: SimItem, listing = false) {
    const firstOf = (tags: unknown, n: number) => (Array.isArray(tags) && listing ? tags.slice(0, n) : tags);
    const base = {
      ...i.fields,
      ...(i.fields.Genre ? { Genre: firstOf(i.fields.Genre, LISTED_TAGS.Genre) } : {}),
      ...(i.fields.Role ? { Role: firstOf(i.fields.Role, LISTED_TAGS.Role) } : {}),
      // An item's Collection tags are the collections holding it (collections.ts), not a field of its own.
      Collection: ((tags) => (tags.length ? firstOf(tags, LISTED_TAGS.Collection) : undefined))(
        this.collections.tagsOf(i),
      ),
      // PMS shows its own copies of the artwork, never the provider's URLs (artwork.ts).
      thumb: undefined,
      art: undefined,
      ...this.artwork.shown(i),
      ratingKey: i.ratingKey,
      key: `/library/metadata/${i.ratingKey}`,
      guid: i.guid,
      type: "movie",
      title: i.title,
      updatedAt: i.updatedAt,
      librarySectionID: Number(i.sectionId),
      ...(i.userRating === undefined ? {} : { userRating: i.userRating }),
      // The token owner's view state (viewCount, lastViewedAt, viewOffset, lastRatedAt): watch.ts.
      ...this.watch.stateOf(i),
      // Locked fields, as PMS lists them on the item itself (not in section listings).
      ...(!listing && i.locked.size ? { Field: [...i.locked].map((name) => ({ locked: true, name })) } : {}),
      Media: [
        {
          id: Number(i.ratingKey),
          // A Part's size (bytes) and duration (ms), as PMS's scanner read them from the file.
          Part: i.files.map((file, k) => ({ id: Number(i.ratingKey) * 10 + k, file, ...this.fileFacts.get(file) })),
        },
      ],
    };
    // A show, season or episode: its place in the tree, its own key and Media (tv.ts).
    return i.type && i.type !== "movie" ? this.tv.present(i, base) : base;
  }
}

export { relativeFilename };
