/**
 * PMS's collections through its HTTP API, each call spelled as python-plexapi spells it
 * (../shared/plex/real-pms-evidence.md §3): list, members, create, add, remove, delete, edit
 * (locking what it sets) and labels. Answers are checked against TypeBox schemas; failures are
 * PlexErrors like the rest of the client's (client.ts).
 */
import type { Static, TSchema } from "@sinclair/typebox";
import { decode } from "../schema/decode.ts";
import { type PmsCollection, PmsCollections, PmsItemDetail, PmsItems } from "../schema/pms.ts";
import { PlexError, type PlexClientOptions, plexRequests } from "./client.ts";

export interface PlexCollection {
  ratingKey: string;
  guid: string;
  title: string;
  summary: string;
  labels: string[];
  childCount: number;
  /** PMS's own URL of its poster, when it has one. */
  thumb?: string;
  /** Lock names (`title`, `summary`, `label` …) as PMS lists them. */
  lockedFields: string[];
}

/** The request shapes, for the conformance tests: [method, path template]. */
export const PLEX_COLLECTION_CALLS = [
  ["GET", "/library/sections/{sectionId}/all"],
  ["GET", "/library/collections/{collectionId}/children"],
  ["POST", "/library/collections"],
  ["PUT", "/library/collections/{collectionId}/items"],
  ["DELETE", "/library/collections/{collectionId}/items/{itemId}"],
  ["DELETE", "/library/collections/{collectionId}"],
  ["PUT", "/library/sections/{sectionId}/all"],
  ["GET", "/library/metadata/{ids}"],
  ["PUT", "/library/collections/{collectionId}/prefs"],
  ["PUT", "/library/collections/{collectionId}/items/{itemId}/move"],
] as const;

/** Plex's type number of collections (`type=18` in a listing or an edit). */
const COLLECTION_TYPE = "18";
const PAGE = 100;
/**
 * Members per page of a collection's children: a studio's collection holds tens of thousands of
 * items at 200,000 scenes, and a pass (or a reconcile's look) reads every member of every one.
 */
const MEMBERS_PAGE = 1000;
/**
 * The longest `uri` one request carries (encoded), well under the ~8 KB a request line may be
 * anywhere on the way: a longer member list goes in several adds.
 */
export const MAX_URI_CHARS = 6000;

const numeric = (what: string, keys: readonly string[]) => {
  if (keys.some((k) => !/^\d+$/.test(k))) throw new PlexError("permanent", undefined, `Plex ${what} keys are numbers`);
};

/** Member keys in groups whose `uri` stays under MAX_URI_CHARS once encoded. */
export function memberChunks(machineId: string, members: readonly string[], max = MAX_URI_CHARS): string[][] {
  const base = encodeURIComponent(`server://${machineId}/com.plexapp.plugins.library/library/metadata/`).length;
  const chunks: string[][] = [];
  let chunk: string[] = [];
  let length = base;
  for (const k of members) {
    const add = (chunk.length ? 3 : 0) + k.length; // "%2C" between keys
    if (chunk.length && length + add > max) {
      chunks.push(chunk);
      chunk = [];
      length = base;
    }
    length += chunk.length ? 3 + k.length : k.length;
    chunk.push(k);
  }
  if (chunk.length) chunks.push(chunk);
  return chunks;
}

const uriOf = (machineId: string, keys: readonly string[]) =>
  `server://${machineId}/com.plexapp.plugins.library/library/metadata/${keys.join(",")}`;

export function createPlexCollections(options: PlexClientOptions) {
  const { call, get } = plexRequests(options);

  /** Sends a request whose answer is JSON and checks it against its schema. */
  async function send<T extends TSchema>(
    method: string,
    schema: T,
    path: string,
    query: Record<string, string>,
  ): Promise<Static<T>> {
    const res = await call(method, path, query);
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new PlexError("transient", res.status, `Plex ${method} ${path}: the answer is not JSON`);
    }
    const result = decode(schema, body);
    if (!result.ok)
      throw new PlexError("transient", res.status, `Plex ${method} ${path}: unexpected answer (${result.problem})`);
    return result.value;
  }

  const toCollection = (c: Static<typeof PmsCollection>): PlexCollection => ({
    ratingKey: String(c.ratingKey),
    guid: c.guid ?? "",
    title: c.title ?? "",
    summary: c.summary ?? "",
    labels: (c.Label ?? []).map((l) => l.tag),
    childCount: Number(c.childCount ?? 0) || 0,
    ...(c.thumb ? { thumb: c.thumb } : {}),
    lockedFields: (c.Field ?? [])
      .filter((f) => f.locked === true || f.locked === 1 || f.locked === "1")
      .map((f) => f.name),
  });

  const checkKey = (what: string, key: string) => numeric(what, [key]);

  async function edit(sectionId: string, ratingKey: string, query: Record<string, string>) {
    checkKey("section", sectionId);
    checkKey("collection", ratingKey);
    await call("PUT", `/library/sections/${sectionId}/all`, { type: COLLECTION_TYPE, id: ratingKey, ...query });
  }

  const api = {
    /** Every collection of a section (all pages). */
    async list(sectionId: string): Promise<PlexCollection[]> {
      checkKey("section", sectionId);
      const out: PlexCollection[] = [];
      for (let start = 0; ; start += PAGE) {
        // python-plexapi's LibrarySection.collections() (a search with libtype collection).
        const { MediaContainer: mc } = await get(PmsCollections, `/library/sections/${sectionId}/all`, {
          type: COLLECTION_TYPE,
          "X-Plex-Container-Start": String(start),
          "X-Plex-Container-Size": String(PAGE),
        });
        const page = mc.Metadata ?? mc.Directory ?? [];
        out.push(...page.map(toCollection));
        const total = mc.totalSize ?? out.length;
        if (!page.length || out.length >= total) return out;
      }
    },
    /** A collection's members' rating keys, in its order (all pages). */
    async members(ratingKey: string): Promise<string[]> {
      checkKey("collection", ratingKey);
      const out: string[] = [];
      for (let start = 0; ; start += MEMBERS_PAGE) {
        const { MediaContainer: mc } = await get(PmsItems, `/library/collections/${ratingKey}/children`, {
          "X-Plex-Container-Start": String(start),
          "X-Plex-Container-Size": String(MEMBERS_PAGE),
        });
        const page = mc.Metadata ?? [];
        out.push(...page.map((m) => String(m.ratingKey)));
        const total = mc.totalSize ?? out.length;
        if (!page.length || out.length >= total) return out;
      }
    },
    /** How many members a collection has (one page of one: its total). */
    async size(ratingKey: string): Promise<number> {
      checkKey("collection", ratingKey);
      const { MediaContainer: mc } = await get(PmsItems, `/library/collections/${ratingKey}/children`, {
        "X-Plex-Container-Start": "0",
        "X-Plex-Container-Size": "1",
      });
      return mc.totalSize ?? mc.Metadata?.length ?? 0;
    },
    /**
     * A new (non-smart) collection of items of `itemType` (1 movie, 2 show, 4 episode) with these
     * members; answers its rating key. Without members it is made empty (no `uri`).
     */
    async create(
      sectionId: string,
      machineId: string,
      itemType: number,
      title: string,
      members: readonly string[],
    ): Promise<string> {
      checkKey("section", sectionId);
      numeric("item", members);
      if (!machineId || /[/\s]/.test(machineId))
        throw new PlexError("permanent", undefined, "Plex machine identifier is missing or malformed");
      const [first = [], ...rest] = memberChunks(machineId, members);
      const { MediaContainer: mc } = await send("POST", PmsCollections, "/library/collections", {
        ...(first.length ? { uri: uriOf(machineId, first) } : {}),
        type: String(itemType),
        title,
        smart: "0",
        sectionId,
      });
      const made = (mc.Metadata ?? mc.Directory ?? [])[0];
      const key = made ? String(made.ratingKey) : "";
      if (!/^\d+$/.test(key))
        throw new PlexError("transient", undefined, "Plex POST /library/collections: no collection in the answer");
      for (const chunk of rest)
        await call("PUT", `/library/collections/${key}/items`, { uri: uriOf(machineId, chunk) });
      return key;
    },
    /** Adds members (in several requests when the list is long). */
    async add(ratingKey: string, machineId: string, members: readonly string[]): Promise<void> {
      checkKey("collection", ratingKey);
      numeric("item", members);
      for (const chunk of memberChunks(machineId, members))
        await call("PUT", `/library/collections/${ratingKey}/items`, { uri: uriOf(machineId, chunk) });
    },
    /** Takes one member out. */
    async remove(ratingKey: string, member: string): Promise<void> {
      checkKey("collection", ratingKey);
      checkKey("item", member);
      await call("DELETE", `/library/collections/${ratingKey}/items/${member}`);
    },
    /** Deletes the collection (its items stay in the library). */
    async drop(ratingKey: string): Promise<void> {
      checkKey("collection", ratingKey);
      await call("DELETE", `/library/collections/${ratingKey}`);
    },
    /** Sets title, summary and sort title, locking each it sets (python-plexapi's Collection.edit). */
    async edit(
      sectionId: string,
      ratingKey: string,
      fields: { title?: string; summary?: string; titleSort?: string },
    ): Promise<void> {
      const query: Record<string, string> = {};
      for (const name of ["title", "titleSort", "summary"] as const) {
        const value = fields[name];
        if (value === undefined) continue;
        query[`${name}.value`] = value;
        query[`${name}.locked`] = "1";
      }
      if (Object.keys(query).length) await edit(sectionId, ratingKey, query);
    },
    /**
     * Makes the collection's labels exactly `labels` (locked): the indexed list as python-plexapi
     * sends it, and the labels it no longer has removed by name (`label[].tag.tag-`), so the set
     * is exact whether PMS takes the list as the new set or adds it to the old.
     */
    /**
     * Puts a collection's members (`current`, as PMS lists them) in the `wanted` order: its order
     * setting to custom, then each member not yet in its place moved after the one before it
     * (python-plexapi's sortUpdate("custom") and moveItem): one new member is one move.
     */
    async order(ratingKey: string, wanted: readonly string[], current: readonly string[]): Promise<void> {
      checkKey("collection", ratingKey);
      numeric("item", wanted);
      await call("PUT", `/library/collections/${ratingKey}/prefs`, { collectionSort: "2" });
      // Sets, not list searches: a group's collection can hold thousands (quadratic: a 10 s stall).
      const inWanted = new Set(wanted);
      const now = current.filter((m) => inWanted.has(m));
      const held = new Set(now);
      for (const m of wanted) if (!held.has(m)) now.push(m);
      for (let i = 0; i < wanted.length; i++) {
        if (now[i] === wanted[i]) continue;
        await call(
          "PUT",
          `/library/collections/${ratingKey}/items/${wanted[i]}/move`,
          i ? { after: wanted[i - 1]! } : {},
        );
        now.splice(now.indexOf(wanted[i]!), 1);
        now.splice(i, 0, wanted[i]!);
      }
    },
    async label(sectionId: string, ratingKey: string, labels: readonly string[]): Promise<void> {
      checkKey("collection", ratingKey);
      const { MediaContainer: mc } = await get(PmsItemDetail, `/library/metadata/${ratingKey}`);
      const now = mc.Metadata?.[0]?.Label;
      const current = Array.isArray(now)
        ? now.flatMap((l) => (typeof (l as { tag?: unknown })?.tag === "string" ? [(l as { tag: string }).tag] : []))
        : [];
      const wanted = [...new Set(labels)];
      const gone = current.filter((l) => !wanted.includes(l));
      if (gone.length) await edit(sectionId, ratingKey, { "label[].tag.tag-": gone.join(","), "label.locked": "1" });
      if (wanted.length) {
        const query: Record<string, string> = { "label.locked": "1" };
        wanted.forEach((l, i) => {
          query[`label[${i}].tag.tag`] = l;
        });
        await edit(sectionId, ratingKey, query);
      }
    },
  };
  return api;
}
export type PlexCollections = ReturnType<typeof createPlexCollections>;
