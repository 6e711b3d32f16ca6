/**
 * The PMS HTTP client: everything that calls Plex goes through here. Every method and path it
 * uses exists in the official PMS API description (checked by test/conformance). Answers are
 * checked against TypeBox schemas (src/schema/pms.ts). Failures are classified for the retry
 * logic: transient (connect, timeout, 5xx, 429, an odd answer) or permanent.
 */
import type { Static, TSchema } from "@sinclair/typebox";
import { decode } from "../schema/decode.ts";
import { PmsIdentity, type PmsItem, PmsItemDetail, PmsItems, PmsSections } from "../schema/pms.ts";
export interface PlexClientOptions {
  url: string;
  token: string;
  timeoutMs: number;
  /** Told of every call's duration and outcome (metrics). */
  observe?: (upstream: "plex", seconds: number, ok: boolean) => void;
}

export type PlexFailure = "transient" | "permanent";

export class PlexError extends Error {
  constructor(
    readonly kind: PlexFailure,
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = "PlexError";
  }
}

export interface PlexSection {
  key: string;
  title: string;
  type: string;
  agent: string;
  locations: string[];
}

export interface PlexItem {
  ratingKey: string;
  guid: string;
  title: string;
  updatedAt: number;
  files: string[];
  /** Each file's size (bytes) and duration (ms) where PMS shows them (same order as files). */
  parts?: { size: number | null; durationMs: number | null }[];
}

/** The request shapes our client sends, for the conformance test: [method, path template]. */
export const PLEX_CALLS = [
  ["GET", "/identity"],
  ["GET", "/library/sections/all"],
  ["GET", "/library/sections/{sectionId}/all"],
  ["PUT", "/library/sections/{sectionId}/all"],
  ["POST", "/library/sections/{sectionId}/refresh"],
  ["GET", "/library/metadata/{ids}"],
  ["PUT", "/library/metadata/{ids}/refresh"],
  ["PUT", "/library/metadata/{ids}/match"],
  ["POST", "/library/metadata/{ids}/{element}"],
  ["PUT", "/:/rate"],
] as const;

/**
 * One request to PMS with the token and the timeout; a failure is a PlexError saying which call
 * and why, and an answer is checked against its schema. The push side's client and write-back's
 * reads (writeback/pms-watch.ts) both ask PMS through this.
 */
export function plexRequests(options: PlexClientOptions) {
  async function call(
    method: string,
    path: string,
    query: Record<string, string> = {},
    body?: Uint8Array | string,
    contentType?: string,
  ) {
    const url = new URL(`${options.url}${path}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    let res: Response;
    const started = performance.now();
    const observed = (ok: boolean) => options.observe?.("plex", (performance.now() - started) / 1000, ok);
    try {
      res = await fetch(url, {
        method,
        body,
        headers: {
          accept: "application/json",
          "x-plex-token": options.token,
          ...(contentType ? { "content-type": contentType } : {}),
        },
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (err) {
      const e = err as Error;
      observed(false);
      const why = e.name === "TimeoutError" ? `no answer within ${options.timeoutMs} ms` : "cannot connect";
      throw new PlexError("transient", undefined, `Plex ${method} ${path}: ${why}`);
    }
    observed(res.ok);
    if (res.ok) return res;
    await res.body?.cancel();
    const transient = res.status >= 500 || res.status === 429 || res.status === 408;
    const hint = res.status === 401 ? " (check PLEX_TOKEN)" : res.status === 404 ? " (not found in Plex)" : "";
    throw new PlexError(
      transient ? "transient" : "permanent",
      res.status,
      `Plex ${method} ${path}: HTTP ${res.status}${hint}`,
    );
  }

  /** GETs JSON and checks it against its schema: an odd answer is a clear error, not undefined later. */
  async function get<T extends TSchema>(schema: T, path: string, query?: Record<string, string>): Promise<Static<T>> {
    const res = await call("GET", path, query);
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new PlexError("transient", res.status, `Plex GET ${path}: the answer is not JSON`);
    }
    const result = decode(schema, body);
    if (!result.ok)
      throw new PlexError("transient", res.status, `Plex GET ${path}: unexpected answer (${result.problem})`);
    return result.value;
  }
  return { call, get };
}

const numberOrNull = (v: unknown) =>
  v === undefined || v === null || v === "" || !Number.isFinite(Number(v)) ? null : Number(v);

export function createPlexClient(options: PlexClientOptions) {
  const { call, get } = plexRequests(options);
  const toItem = (m: Static<typeof PmsItem>): PlexItem => ({
    ratingKey: String(m.ratingKey),
    guid: m.guid ?? "",
    title: m.title ?? "",
    updatedAt: m.updatedAt ?? 0,
    files: (m.Media ?? []).flatMap((media) => (media.Part ?? []).map((p) => p.file)),
    parts: (m.Media ?? []).flatMap((media) =>
      (media.Part ?? []).map((p) => ({ size: numberOrNull(p.size), durationMs: numberOrNull(p.duration) })),
    ),
  });

  return {
    async identity(): Promise<{ machineIdentifier: string; version: string }> {
      const { MediaContainer: mc } = await get(PmsIdentity, "/identity");
      return { machineIdentifier: mc.machineIdentifier ?? "", version: mc.version ?? "" };
    },
    async sections(): Promise<PlexSection[]> {
      const { MediaContainer: mc } = await get(PmsSections, "/library/sections/all");
      return (mc.Directory ?? []).map((d) => ({
        key: String(d.key),
        title: d.title,
        type: d.type,
        agent: d.agent ?? "",
        locations: (d.Location ?? []).map((l) => l.path),
      }));
    },
    /**
     * One page of a section's movies (type 1; a TV section's episodes: 4, shows: 2); `since`
     * (epoch seconds) limits to items updated after it.
     */
    async sectionItems(
      sectionId: string,
      start: number,
      size: number,
      since?: number,
      type: 1 | 2 | 4 = 1,
    ): Promise<{ total: number; items: PlexItem[] }> {
      const query: Record<string, string> = {
        type: String(type),
        "X-Plex-Container-Start": String(start),
        "X-Plex-Container-Size": String(size),
      };
      if (since) query["updatedAt>"] = String(since);
      const { MediaContainer: mc } = await get(PmsItems, `/library/sections/${sectionId}/all`, query);
      return { total: mc.totalSize ?? mc.size ?? 0, items: (mc.Metadata ?? []).map(toItem) };
    },
    /**
     * One page of a section's movies with the fields the listing shows (reconcile compares them).
     * PMS lists only the first few tags of each kind here (see gaps/compare.ts).
     */
    async sectionListing(
      sectionId: string,
      start: number,
      size: number,
      type: 1 | 2 | 4 = 1,
    ): Promise<{ total: number; items: (PlexItem & { fields: Record<string, unknown> })[] }> {
      const query = {
        type: String(type),
        "X-Plex-Container-Start": String(start),
        "X-Plex-Container-Size": String(size),
      };
      const { MediaContainer: mc } = await get(PmsItems, `/library/sections/${sectionId}/all`, query);
      return {
        total: mc.totalSize ?? mc.size ?? 0,
        items: (mc.Metadata ?? []).map((m) => ({ ...toItem(m), fields: m as Record<string, unknown> })),
      };
    },
    /** The item as PMS answers it, for comparing fields. */
    async itemRaw(ratingKey: string): Promise<Record<string, unknown> | undefined> {
      return (await get(PmsItemDetail, `/library/metadata/${ratingKey}`)).MediaContainer.Metadata?.[0];
    },
    /**
     * Several items whole, in one request (`/library/metadata/{id,id,…}`): every tag and the
     * locked fields, which a section listing leaves out. Items PMS no longer has are left out
     * of the answer (none left: 404, read as an empty list).
     */
    async items(ratingKeys: readonly string[]): Promise<Record<string, unknown>[]> {
      if (!ratingKeys.length) return [];
      if (ratingKeys.some((k) => !/^\d+$/.test(k)))
        throw new PlexError("permanent", undefined, "Plex item keys are numbers");
      try {
        return (await get(PmsItemDetail, `/library/metadata/${ratingKeys.join(",")}`)).MediaContainer.Metadata ?? [];
      } catch (err) {
        if (err instanceof PlexError && err.status === 404) return [];
        throw err;
      }
    },
    refresh: (ratingKey: string) =>
      call("PUT", `/library/metadata/${ratingKey}/refresh`, { markUpdated: "1" }).then(() => {}),
    match: (ratingKey: string, guid: string, name: string) =>
      call("PUT", `/library/metadata/${ratingKey}/match`, { guid, name }).then(() => {}),
    /** Direct field edits; `fields` are already in PMS's `title.value` / `title.locked` form. */
    edit: (sectionId: string, ratingKey: string, fields: Record<string, string>) =>
      call("PUT", `/library/sections/${sectionId}/all`, { type: "1", id: ratingKey, ...fields }).then(() => {}),
    upload: (ratingKey: string, element: "posters" | "arts", bytes: Uint8Array, contentType: string) =>
      call("POST", `/library/metadata/${ratingKey}/${element}`, {}, bytes, contentType).then(() => {}),
    /** The token owner's own star rating, 0–10 (PMS shows it as 0–5 stars). */
    rate: (ratingKey: string, rating: number) =>
      call("PUT", "/:/rate", {
        identifier: "com.plexapp.plugins.library",
        key: ratingKey,
        rating: String(rating),
      }).then(() => {}),
    scanPath: (sectionId: string, path: string) =>
      call("POST", `/library/sections/${sectionId}/refresh`, { path }).then(() => {}),
  };
}
export type PlexClient = ReturnType<typeof createPlexClient>;
