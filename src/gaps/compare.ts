/**
 * Pure: what a Plex item shows against what the provider would answer today, field by field,
 * normalised the way PMS normalises (whitespace; tags are a set, matched ignoring case, as
 * PMS shares one tag row per name). A section listing shows only the first few tags of each
 * kind (PMS keeps listings small; the item itself has all of them): when a listed list is at
 * that limit, it is checked as a subset; beyond it, drift is not visible in the listing.
 */
import type { PlexMetadata } from "../schema/plex.ts";
import { lockedNames } from "../plex/locks.ts";

export const COMPARED_FIELDS = [
  "title",
  "date",
  "studio",
  "summary",
  "genres",
  "performers",
  // Not "collections": the collection keeper compares them whole (collections/), an item's
  // Collection tags are its view of them.
  "rating",
  "contentRating",
] as const;
export type ComparedField = (typeof COMPARED_FIELDS)[number];

/** How many tags of each kind PMS shows per item in a section listing (as python-plexapi's users found). */
export const LISTED_TAG_LIMIT = { genres: 2, performers: 3, collections: 2 } as const;
type ListField = keyof typeof LISTED_TAG_LIMIT;

/**
 * A field as compared: a digest (crc32) of its normalised text. Tens of thousands of items are
 * held at once during a reconcile; digests keep that small, and only equality is ever asked.
 */
type Digest = number;

export interface Shown {
  title?: Digest;
  date?: string;
  studio?: Digest;
  summary?: Digest;
  contentRating?: Digest;
  rating?: number;
  /** Digests of the tags, case folded (PMS keeps one tag per name whatever its case). */
  genres: Digest[];
  performers: Digest[];
  collections: Digest[];
}

const text = (v: unknown): string | undefined => {
  if (typeof v !== "string" && typeof v !== "number") return undefined;
  const t = String(v).normalize("NFC").replace(/\s+/g, " ").trim();
  return t === "" ? undefined : t;
};
const digest = (v: unknown): Digest | undefined => {
  const t = text(v);
  return t === undefined ? undefined : Bun.hash.crc32(t);
};
const tagsOf = (list: unknown): Digest[] =>
  Array.isArray(list)
    ? list.flatMap((t) => text((t as { tag?: unknown })?.tag)?.toLowerCase() ?? []).map((t) => Bun.hash.crc32(t))
    : [];
const ratingOf = (v: unknown): number | undefined => {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isFinite(n) ? Math.round(n * 10) / 10 : undefined;
};

/** What the provider answers for a scene, in comparable form. */
export function expectedFields(
  meta: PlexMetadata,
  ratingAs: "critic" | "user",
  rating100: number | null | undefined,
): Shown {
  return {
    title: digest(meta.title),
    date: text(meta.originallyAvailableAt),
    studio: digest(meta.studio),
    summary: digest(meta.summary),
    contentRating: digest(meta.contentRating),
    rating:
      ratingAs === "user"
        ? rating100 == null
          ? undefined
          : ratingOf(rating100 / 10)
        : ratingOf(meta.Rating?.[0]?.value),
    genres: tagsOf(meta.Genre),
    performers: tagsOf(meta.Role),
    collections: tagsOf(meta.Collection),
  };
}

/** What a Plex item shows (a listing row or the item itself), in the same form. */
export function shownFields(item: Record<string, unknown>, ratingAs: "critic" | "user"): Shown {
  const ratings = item.Rating as { value?: unknown }[] | undefined;
  return {
    title: digest(item.title),
    date: text(item.originallyAvailableAt),
    studio: digest(item.studio),
    summary: digest(item.summary),
    contentRating: digest(item.contentRating),
    rating:
      ratingAs === "user"
        ? ratingOf(item.userRating)
        : ratingOf(ratings?.[0]?.value ?? item.audienceRating ?? item.rating),
    genres: tagsOf(item.Genre),
    performers: tagsOf(item.Role),
    collections: tagsOf(item.Collection),
  };
}

function listDiffers(field: ListField, expected: Digest[], shown: Digest[], listing: boolean): boolean {
  const want = new Set(expected);
  const have = new Set(shown);
  const atLimit = listing && have.size >= LISTED_TAG_LIMIT[field];
  if (atLimit) return want.size < have.size || [...have].some((t) => !want.has(t));
  return want.size !== have.size || [...have].some((t) => !want.has(t));
}

/** The fields that differ (of `only`, when given). */
export function differingFields(
  expected: Shown,
  shown: Shown,
  listing: boolean,
  only?: ReadonlySet<ComparedField>,
): ComparedField[] {
  return COMPARED_FIELDS.filter((field) => {
    if (only && !only.has(field)) return false;
    if (field === "genres" || field === "performers") return listDiffers(field, expected[field], shown[field], listing);
    return expected[field] !== shown[field];
  });
}

/** Whether a listing row may hide drift: one of its tag lists is as long as a listing shows. */
export const listingMayHide = (s: Shown) =>
  s.genres.length >= LISTED_TAG_LIMIT.genres ||
  s.performers.length >= LISTED_TAG_LIMIT.performers ||
  s.collections.length >= LISTED_TAG_LIMIT.collections;

/** PMS's lock names (`Field` elements, `title.locked=1`) for the fields we compare. */
const LOCK_NAMES: Record<string, ComparedField> = {
  title: "title",
  originallyAvailableAt: "date",
  studio: "studio",
  summary: "summary",
  contentRating: "contentRating",
  rating: "rating",
  genre: "genres",
  actor: "performers",
};

/** The compared fields locked on a Plex item (`Field: [{name, locked}]`, as PMS shows an item). */
export function lockedFields(item: Record<string, unknown>): Set<ComparedField> {
  return new Set([...lockedNames(item)].flatMap((name) => (LOCK_NAMES[name] ? [LOCK_NAMES[name]] : [])));
}

/** Longest value kept in a report: enough to tell two values apart, bounded for a long summary. */
const SHOWN_CHARS = 300;

/** A field as a person reads it, from what the provider answers or what PMS shows (both are PMS-shaped). */
export function fieldText(item: Record<string, unknown>, field: ComparedField, ratingAs: "critic" | "user"): string {
  const tags = (list: unknown) =>
    Array.isArray(list) ? list.flatMap((t) => text((t as { tag?: unknown })?.tag) ?? []).join(", ") : "";
  const ratings = item.Rating as { value?: unknown }[] | undefined;
  const value: unknown = {
    title: item.title,
    date: item.originallyAvailableAt,
    studio: item.studio,
    summary: item.summary,
    contentRating: item.contentRating,
    rating: ratingAs === "user" ? item.userRating : (ratings?.[0]?.value ?? item.audienceRating ?? item.rating),
    genres: tags(item.Genre),
    performers: tags(item.Role),
    collections: tags(item.Collection),
  }[field];
  const t = text(value) ?? "";
  return t.length > SHOWN_CHARS ? `${t.slice(0, SHOWN_CHARS - 1)}…` : t;
}

/** An item with no metadata at all: nothing but a title (PMS makes one from the file name). */
export const showsNothing = (s: Shown) =>
  !s.date &&
  !s.studio &&
  !s.summary &&
  s.genres.length === 0 &&
  s.performers.length === 0 &&
  s.collections.length === 0;
