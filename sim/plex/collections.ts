/**
 * Collections as PMS keeps them: objects of a section, each with its own rating key (from the
 * items' key sequence), GUID, title, sort title, summary, labels, field locks, poster, and an
 * ordered list of members of one type. An item's `Collection` tags are not a field of their own
 * here: they are read from the collections holding it, so a tag edit on an item and a change to
 * a collection are two views of one truth.
 *
 * Evidence (../shared/plex/real-pms-evidence.md §3, python-plexapi @a8d051f, ShokoRelay):
 * - CONFIRMED spellings: create `POST /library/collections?uri=server://{machine}/com.plexapp.
 *   plugins.library/library/metadata/{rk,rk}&type&title&smart=0&sectionId` (collection.py
 *   `_create`; ShokoRelay: an empty one without `uri`); add `PUT /library/collections/{rk}/items
 *   ?uri=`; remove `DELETE /library/collections/{rk}/items/{rk}`; delete `DELETE
 *   /library/collections/{rk}`; list `GET /library/sections/{sid}/all?type=18` and
 *   `/library/sections/{sid}/collections` (`?title=`); edit `PUT /library/sections/{sid}/all?
 *   type=18&id&title.value&title.locked=1…` (plexapi) or `PUT /library/metadata/{rk}?titleSort=…
 *   &summary=…` (ShokoRelay); labels `label[i].tag.tag` / `label[].tag.tag-` (editTags); an
 *   item's tags `collection[i].tag.tag` (the indexed list is the new set, as plexapi re-sends
 *   every existing tag) and `collection[].tag.tag-=A,B` (remove); a poster `POST
 *   /library/metadata/{rk}/posters`. pms-openapi.json's own spellings are answered too: `GET
 *   …/items`, `PUT /library/collections/{rk}/items/{item}` (remove) and `DELETE
 *   /library/sections/{sid}/collection/{rk}`. Custom order: `PUT /library/collections/{rk}/prefs?
 *   collectionSort=2` (collection.py `sortUpdate("custom")` through `editAdvanced`, the key plus
 *   `/prefs`; the description has `PUT /library/metadata/{ids}/prefs` instead) and `PUT
 *   /library/collections/{rk}/items/{item}/move?after={rk}` (`moveItem`; first without `after`;
 *   also in the description).
 * - CONFIRMED (provider docs): a provider's `Collection` tags are honoured in movie libraries
 *   only; TV sections ignore them (their collections come through the HTTP API alone).
 * - LIKELY (ShokoRelay deletes childCount-0 collections itself; the PMS log's "Found 661
 *   collections tags … We had 662 collections"): PMS never deletes a collection that became empty.
 * - LIKELY: a locked `collection` field on an item keeps its memberships through a refresh, as
 *   locks keep every other field (evidence §3, last point).
 * UNKNOWN, an option each (`pms.collections.options`); the product must work under both:
 * - `dropOnProviderTagRemoval` (default false): whether a tag missing from the provider's next
 *   answer takes the item out of that collection. False (kept) is the safer assumption: the
 *   product removes through the API.
 * - `providerUpdatesExisting` (default false): whether a provider's tag `summary`/`thumb` is
 *   written onto a collection that already exists (unlocked fields only). By default only a
 *   collection the tag creates gets them.
 * - `listingShowsLocks` (default true): whether a collection *listing* carries its `Field` locks
 *   (the collection itself always does).
 * Also UNKNOWN, fixed here: members are listed in their stored order whatever the order setting
 *   (a real PMS sorts by release date unless the order is custom; the product sets custom and
 *   moves what is out of place, so it ends in its order either way); a provider tag joins the section's first collection of the same
 *   title (tags are by title); a create with a title already taken makes a second collection
 *   (as Plex Web allows); `uri` keys PMS does not have, of another section or of another type
 *   are skipped; the order of an item's tags is the order it joined them (an indexed edit
 *   re-stamps them in its order); a provider thumb counts only if the cloud service could fetch
 *   it (artwork.ts).
 */
import type { PmsSim, SimItem } from "./server.ts";

/** Plex's type numbers as collection subtypes. */
const SUBTYPE: Record<number, string> = { 1: "movie", 2: "show", 3: "season", 4: "episode" };
const NUMBER_OF: Record<string, number> = { movie: 1, show: 2, season: 3, episode: 4 };

/** A collection: a SimItem too (artwork.ts uploads to it and shows its poster as for an item). */
export interface SimCollection extends SimItem {
  kind: "collection";
  titleSort: string;
  summary: string;
  labels: string[];
  /** Member rating keys, in the collection's order. */
  members: string[];
  /** The type number of its members (1 movie, 2 show, 4 episode). */
  subtype: number;
  /** When each member joined (a sequence number), for the order of an item's own tags. */
  joined: Record<string, number>;
  /** Its "collection order" setting (0 release date, the default; 1 title; 2 custom: its members' order as moved). */
  collectionSort?: number;
  addedAt: number;
}

export interface CollectionsSnapshot {
  all: SimCollection[];
  seq: number;
}

/** A provider's Collection tag, as a movie's metadata carries it. */
export interface ProviderCollectionTag {
  tag: string;
  guid?: string;
  key?: string;
  summary?: string;
  thumb?: string;
}

const typeNumberOf = (item: SimItem) => NUMBER_OF[item.type ?? "movie"] ?? 1;
const json = (body: unknown) => Response.json(body);
const bad = (why: string) => new Response(`Bad Request: ${why}`, { status: 400 });
const notFound = () => new Response("Not Found", { status: 404 });

export class SimCollections {
  readonly options = { dropOnProviderTagRemoval: false, providerUpdatesExisting: false, listingShowsLocks: true };
  readonly all = new Map<string, SimCollection>();
  private seq = 0;
  /**
   * The collections holding each item, by item key (kept by add, remove and delete): an item's
   * tags are read at every item answer, and a scan of every collection there made the simulator's
   * own cost grow with the number of collections. Bookkeeping only: what PMS answers is unchanged.
   */
  private readonly byItem = new Map<string, Set<SimCollection>>();

  constructor(private readonly pms: PmsSim) {}

  get(ratingKey: string): SimCollection | undefined {
    return this.all.get(ratingKey);
  }

  /** Plants a collection (as a person makes one in Plex Web), or makes one for a request. */
  create(
    sectionId: string,
    init: {
      title: string;
      members?: readonly string[];
      subtype?: number;
      guid?: string;
      summary?: string;
      titleSort?: string;
      labels?: string[];
      thumb?: string;
    },
  ): SimCollection {
    const key = this.pms.takeRatingKey();
    const now = Math.floor(Date.now() / 1000);
    const first = init.members?.map((k) => this.pms.items.get(k)).find(Boolean);
    const section = this.pms.sections.find((s) => s.key === sectionId);
    const c: SimCollection = {
      kind: "collection",
      ratingKey: key,
      sectionId,
      guid: init.guid ?? `collection://${crypto.randomUUID()}`,
      title: init.title,
      titleSort: init.titleSort ?? "",
      summary: init.summary ?? "",
      labels: [...(init.labels ?? [])],
      members: [],
      subtype: init.subtype ?? (first ? typeNumberOf(first) : section?.type === "show" ? 2 : 1),
      joined: {},
      fields: init.thumb ? { thumb: init.thumb } : {},
      files: [],
      updatedAt: now,
      addedAt: now,
      uploads: { posters: 0, arts: 0 },
      locked: new Set(),
    };
    this.all.set(key, c);
    this.add(c, init.members ?? []);
    return c;
  }

  /** Adds members (skipping keys PMS does not have, of another section or type, or already in). */
  add(c: SimCollection, keys: readonly string[]) {
    for (const k of keys) {
      const item = this.pms.items.get(k);
      if (!item || item.sectionId !== c.sectionId || typeNumberOf(item) !== c.subtype) continue;
      if (c.joined[k] === undefined) {
        c.members.push(k);
        let holders = this.byItem.get(k);
        if (!holders) this.byItem.set(k, (holders = new Set()));
        holders.add(c);
      }
      c.joined[k] = ++this.seq;
    }
    c.updatedAt = Math.floor(Date.now() / 1000);
  }

  remove(c: SimCollection, key: string) {
    if (c.joined[key] !== undefined) c.members.splice(c.members.indexOf(key), 1);
    delete c.joined[key];
    this.byItem.get(key)?.delete(c);
    c.updatedAt = Math.floor(Date.now() / 1000);
  }

  delete(ratingKey: string) {
    const c = this.all.get(ratingKey);
    for (const k of c?.members ?? []) this.byItem.get(k)?.delete(c!);
    this.all.delete(ratingKey);
  }

  /** Members PMS still has (an item gone from the library is gone from its collections). */
  membersOf(c: SimCollection): SimItem[] {
    return c.members.flatMap((k) => this.pms.items.get(k) ?? []);
  }

  /** The collections holding an item, in the order it joined them. */
  holding(item: SimItem): SimCollection[] {
    const holders = this.byItem.get(item.ratingKey);
    if (!holders?.size) return [];
    return [...holders]
      .filter((c) => c.sectionId === item.sectionId)
      .sort((a, b) => (a.joined[item.ratingKey] ?? 0) - (b.joined[item.ratingKey] ?? 0));
  }

  /** An item's Collection tags as PMS shows them. */
  tagsOf(item: SimItem): { id: number; tag: string; filter: string }[] {
    return this.holding(item).map((c) => ({
      id: Number(c.ratingKey),
      tag: c.title,
      filter: `collection=${c.ratingKey}`,
    }));
  }

  /** For tests: a section's collections with what a person sees of them. */
  inSection(sectionId: string) {
    return [...this.all.values()]
      .filter((c) => c.sectionId === sectionId)
      .map((c) => ({
        ratingKey: c.ratingKey,
        guid: c.guid,
        title: c.title,
        titleSort: c.titleSort,
        summary: c.summary,
        labels: [...c.labels],
        members: this.membersOf(c).map((i) => i.ratingKey),
        subtype: c.subtype,
        locked: [...c.locked].sort(),
        poster: this.pms.artwork.heldBy(c, "posters")?.hash,
      }));
  }

  snapshot(): CollectionsSnapshot {
    return { all: structuredClone([...this.all.values()]), seq: this.seq };
  }

  restore(snapshot: CollectionsSnapshot | undefined) {
    this.all.clear();
    for (const c of structuredClone(snapshot?.all ?? [])) this.all.set(c.ratingKey, c);
    this.seq = snapshot?.seq ?? 0;
  }

  /** The first collection of a section with this title. */
  byTitle(sectionId: string, title: string): SimCollection | undefined {
    return [...this.all.values()].find((c) => c.sectionId === sectionId && c.title === title);
  }

  /**
   * A provider's Collection tags for an item it just fetched (scan or refresh): movie sections
   * only; a locked `collection` field keeps the memberships as they are.
   */
  fromProvider(item: SimItem, tags: unknown) {
    const section = this.pms.sections.find((s) => s.key === item.sectionId);
    if (section?.type !== "movie" || (item.type ?? "movie") !== "movie" || item.locked.has("collection")) return;
    const given = (Array.isArray(tags) ? tags : []).filter(
      (t): t is ProviderCollectionTag => typeof t?.tag === "string" && t.tag !== "",
    );
    for (const t of given) {
      let c = this.byTitle(item.sectionId, t.tag);
      if (!c)
        c = this.create(item.sectionId, {
          title: t.tag,
          subtype: typeNumberOf(item),
          ...(t.guid ? { guid: t.guid } : {}),
          ...(t.summary ? { summary: t.summary } : {}),
          ...(t.thumb ? { thumb: t.thumb } : {}),
        });
      else if (this.options.providerUpdatesExisting) {
        if (t.summary !== undefined && !c.locked.has("summary")) c.summary = t.summary;
        if (t.thumb !== undefined && !c.locked.has("thumb")) c.fields.thumb = t.thumb;
      }
      if (c.joined[item.ratingKey] === undefined) this.add(c, [item.ratingKey]);
    }
    if (this.options.dropOnProviderTagRemoval) {
      const titles = new Set(given.map((t) => t.tag));
      for (const c of this.holding(item)) if (!titles.has(c.title)) this.remove(c, item.ratingKey);
    }
  }

  /** Tags planted with an item (`addItem(…, { fields: { Collection } })`): joined by title. */
  plant(item: SimItem, tags: unknown) {
    if (!Array.isArray(tags)) return;
    this.setItemTags(
      item,
      tags.flatMap((t) => (typeof t?.tag === "string" ? [t.tag] : [])),
    );
  }

  /**
   * An item's tag edit: `collection[i].tag.tag` (the list is the item's new set of collections
   * of its section, created by title where missing), `collection[].tag.tag-=A,B` (removed).
   * Answers whether the query had any.
   */
  editItemTags(item: SimItem, q: URLSearchParams): boolean {
    const list: string[] = [];
    let touched = false;
    for (const [key, value] of q) {
      const m = /^collection\[(\d+)\]\.tag\.tag$/.exec(key);
      if (m) {
        list[Number(m[1])] = value;
        touched = true;
      } else if (key === "collection[].tag.tag-") {
        touched = true;
        for (const title of value.split(",").map((s) => s.trim())) {
          for (const c of this.holding(item)) if (c.title === title) this.remove(c, item.ratingKey);
        }
      }
    }
    if (list.length)
      this.setItemTags(
        item,
        list.filter((t) => t !== undefined && t !== ""),
      );
    return touched;
  }

  private setItemTags(item: SimItem, titles: string[]) {
    const wanted = new Set(titles);
    for (const c of this.holding(item)) if (!wanted.has(c.title)) this.remove(c, item.ratingKey);
    for (const title of titles) {
      const c =
        this.byTitle(item.sectionId, title) ?? this.create(item.sectionId, { title, subtype: typeNumberOf(item) });
      this.add(c, [item.ratingKey]); // re-stamped in the list's order
    }
  }

  /** A collection as PMS answers it (the listing and the collection itself). */
  present(c: SimCollection, listing = false) {
    const locks = !listing || this.options.listingShowsLocks;
    return {
      ratingKey: c.ratingKey,
      key: `/library/collections/${c.ratingKey}/children`,
      guid: c.guid,
      type: "collection",
      title: c.title,
      titleSort: c.titleSort || c.title,
      summary: c.summary,
      subtype: SUBTYPE[c.subtype] ?? "movie",
      smart: 0,
      index: Number(c.ratingKey),
      childCount: this.membersOf(c).length,
      librarySectionID: Number(c.sectionId),
      addedAt: c.addedAt,
      updatedAt: c.updatedAt,
      ...this.pms.artwork.shown(c),
      ...(c.labels.length ? { Label: c.labels.map((tag) => ({ tag })) } : {}),
      ...(locks && c.locked.size ? { Field: [...c.locked].map((name) => ({ locked: true, name })) } : {}),
    };
  }

  /** A collection's edit: `title.value`, `summary.value` … (or ShokoRelay's bare `summary=`), locks, labels. */
  edit(c: SimCollection, q: URLSearchParams) {
    const labels: string[] = [];
    for (const [key, value] of q) {
      let m: RegExpExecArray | null;
      if ((m = /^(title|titleSort|summary)(?:\.value)?$/.exec(key))) {
        if (m[1] === "title") {
          if (value) c.title = value;
        } else if (m[1] === "titleSort") c.titleSort = value;
        else c.summary = value;
      } else if ((m = /^(\w+)\.locked$/.exec(key))) {
        if (value === "1") c.locked.add(m[1]!);
        else c.locked.delete(m[1]!);
      } else if ((m = /^label\[(\d+)\]\.tag\.tag$/.exec(key))) labels[Number(m[1])] = value;
      else if (key === "label[].tag.tag-") {
        const gone = new Set(value.split(",").map((s) => s.trim()));
        c.labels = c.labels.filter((l) => !gone.has(l));
      }
    }
    if (labels.length) c.labels = [...new Set(labels.filter((l) => l !== undefined && l !== ""))];
    c.updatedAt = Math.floor(Date.now() / 1000);
  }

  /** Rating keys of `server://{machine}/com.plexapp.plugins.library/library/metadata/{rk,rk}`, or why not. */
  private keysOfUri(uri: string): string[] | string {
    const m = /^server:\/\/([^/]+)\/com\.plexapp\.plugins\.library\/library\/metadata\/(\d+(?:,\d+)*)$/.exec(uri);
    if (!m) return "uri is not server://{machine}/com.plexapp.plugins.library/library/metadata/{keys}";
    if (m[1] !== this.pms.machineIdentifier) return "uri names another server";
    return m[2]!.split(",");
  }

  /** One page of a list, each entry shaped only once it is on the page (a page of a big collection costs a page). */
  private page<T>(req: Request, all: T[], present: (x: T) => unknown = (x) => x) {
    const q = new URL(req.url).searchParams;
    const param = (name: string) => q.get(name) ?? req.headers.get(name);
    const start = Number(param("X-Plex-Container-Start") ?? 0);
    const size = Number(param("X-Plex-Container-Size") ?? 50);
    const page = all.slice(start, start + size).map(present);
    return json({ MediaContainer: { offset: start, size: page.length, totalSize: all.length, Metadata: page } });
  }

  private listing(req: Request, sectionId: string, title?: string | null) {
    if (!this.pms.sections.some((s) => s.key === sectionId)) return notFound();
    const needle = title?.toLowerCase();
    const list = [...this.all.values()].filter(
      (c) => c.sectionId === sectionId && (!needle || c.title.toLowerCase().includes(needle)),
    );
    return this.page(
      req,
      list.map((c) => this.present(c, true)),
    );
  }

  /** The requests about collections; undefined for any other (server.ts handles those). */
  async handle(req: Request, url: URL): Promise<Response | undefined> {
    const path = url.pathname;
    const q = url.searchParams;
    const method = req.method;
    let m: RegExpExecArray | null;
    if ((m = /^\/library\/sections\/(\d+)\/all$/.exec(path))) {
      const id = q.get("id") ?? "";
      if (method === "GET" && q.get("type") === "18") return this.listing(req, m[1]!);
      if (method === "PUT" && (q.get("type") === "18" || this.all.has(id))) {
        const c = this.all.get(id);
        if (!c || c.sectionId !== m[1]) return notFound();
        this.edit(c, q);
        return new Response(null, { status: 200 });
      }
      return undefined;
    }
    if ((m = /^\/library\/sections\/(\d+)\/collections$/.exec(path)) && method === "GET")
      return this.listing(req, m[1]!, q.get("title"));
    if ((m = /^\/library\/sections\/(\d+)\/collection\/(\d+)$/.exec(path)) && method === "DELETE") {
      const c = this.all.get(m[2]!);
      if (!c || c.sectionId !== m[1]) return notFound();
      this.delete(c.ratingKey);
      return new Response(null, { status: 200 });
    }
    if (path === "/library/collections" && method === "POST") return this.createFrom(q);
    // python-plexapi's Collection.sortUpdate ("custom" is 2, via editAdvanced: `{key}/prefs?collectionSort=`)
    // and moveItem (`{key}/items/{rk}/move`, `?after={rk}`; without it, first).
    if ((m = /^\/library\/collections\/(\d+)\/prefs$/.exec(path)) && method === "PUT") {
      const c = this.all.get(m[1]!);
      if (!c) return notFound();
      const sort = q.get("collectionSort");
      if (sort !== null) c.collectionSort = Number(sort);
      return new Response(null, { status: 200 });
    }
    if ((m = /^\/library\/collections\/(\d+)\/items\/(\d+)\/move$/.exec(path)) && method === "PUT") {
      const c = this.all.get(m[1]!);
      if (!c || c.joined[m[2]!] === undefined) return notFound();
      const after = q.get("after");
      if (after !== null && c.joined[after] === undefined) return bad(`item ${after} is not in the collection`);
      const rest = c.members.filter((k) => k !== m![2]);
      rest.splice(after === null ? 0 : rest.indexOf(after) + 1, 0, m[2]!);
      c.members = rest;
      return new Response(null, { status: 200 });
    }
    if ((m = /^\/library\/collections\/(\d+)(?:\/(children|items)(?:\/(\d+))?)?$/.exec(path))) {
      const c = this.all.get(m[1]!);
      if (!c) return notFound();
      const [, , sub, member] = m;
      if (!sub && method === "GET") return json({ MediaContainer: { size: 1, Metadata: [this.present(c)] } });
      if (!sub && method === "DELETE") {
        this.delete(c.ratingKey);
        return new Response(null, { status: 200 });
      }
      if (sub && !member && method === "GET")
        return this.page(req, this.membersOf(c), (i) => this.pms.presentItem(i, true));
      if (sub === "items" && !member && method === "PUT") {
        const keys = this.keysOfUri(q.get("uri") ?? "");
        if (typeof keys === "string") return bad(keys);
        this.add(c, keys);
        return json({ MediaContainer: { size: 1, Metadata: [this.present(c)] } });
      }
      if (sub === "items" && member && (method === "DELETE" || method === "PUT")) {
        this.remove(c, member);
        return new Response(null, { status: 200 });
      }
      return undefined;
    }
    if ((m = /^\/library\/metadata\/(\d+)(?:\/(posters|arts))?$/.exec(path))) {
      const c = this.all.get(m[1]!);
      if (!c) return undefined;
      const action = m[2];
      if (!action && method === "GET") return json({ MediaContainer: { size: 1, Metadata: [this.present(c)] } });
      if (!action && method === "PUT") {
        this.edit(c, q);
        return new Response(null, { status: 200 });
      }
      if (!action && method === "DELETE") {
        this.delete(c.ratingKey);
        return new Response(null, { status: 200 });
      }
      if (action && method === "POST") {
        const from = q.get("url");
        if (from)
          return new Response(null, { status: await this.pms.artwork.uploadFrom(c, action as "posters", from) });
        const bytes = new Uint8Array(await req.arrayBuffer());
        if (bytes.length === 0) return bad("no image");
        this.pms.artwork.upload(c, action as "posters" | "arts", bytes);
        return new Response(null, { status: 200 });
      }
    }
    return undefined;
  }

  /** `POST /library/collections?type&title&smart=0&sectionId[&uri]`. */
  private createFrom(q: URLSearchParams): Response {
    const sectionId = q.get("sectionId") ?? "";
    const title = q.get("title") ?? "";
    if (!this.pms.sections.some((s) => s.key === sectionId)) return bad("unknown sectionId");
    if (!title) return bad("no title");
    if (q.get("smart") === "1") return bad("smart collections are not simulated");
    const uri = q.get("uri");
    const keys = uri ? this.keysOfUri(uri) : [];
    if (typeof keys === "string") return bad(keys);
    const typeParam = q.get("type");
    const subtype = typeParam ? Number(typeParam) : undefined;
    if (subtype !== undefined && !SUBTYPE[subtype]) return bad("unknown type");
    const c = this.create(sectionId, {
      title,
      members: keys,
      ...(subtype ? { subtype } : {}),
      ...(q.get("titleSort") ? { titleSort: q.get("titleSort")! } : {}),
      ...(q.get("summary") ? { summary: q.get("summary")! } : {}),
    });
    return json({ MediaContainer: { size: 1, Metadata: [this.present(c)] } });
  }
}
