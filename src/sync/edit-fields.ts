/**
 * Pure: the direct field edits (`title.value=…&title.locked=1`) that make a Plex item show a
 * scene, for sections whose agent is not ours. Fields a user changed in Plex since we last
 * wrote them are left alone when asked to.
 */
import type { EditField } from "../config/schema.ts";
import type { PlexMetadata } from "../schema/plex.ts";

/** A field's value as one comparable string (lists joined), or undefined when the scene has none. */
export function fieldValues(meta: PlexMetadata): Partial<Record<EditField, string>> {
  const tags = (list?: { tag: string }[]) => (list?.length ? list.map((t) => t.tag).join("\u001f") : undefined);
  return {
    title: meta.title,
    summary: meta.summary,
    date: meta.originallyAvailableAt,
    studio: meta.studio,
    tagline: meta.tagline,
    contentRating: meta.contentRating,
    genres: tags(meta.Genre),
    actors: tags(meta.Role),
    collections: tags(meta.Collection),
    rating: meta.Rating?.[0] ? String(meta.Rating[0].value) : undefined,
  };
}

/** What Plex shows now, in the same form (from GET /library/metadata/{id}). */
export function currentValues(plexItem: Record<string, any>): Partial<Record<EditField, string>> {
  const tags = (list?: { tag: string }[]) => (list?.length ? list.map((t) => t.tag).join("\u001f") : undefined);
  return {
    title: plexItem.title,
    summary: plexItem.summary,
    date: plexItem.originallyAvailableAt,
    studio: plexItem.studio,
    tagline: plexItem.tagline,
    contentRating: plexItem.contentRating,
    genres: tags(plexItem.Genre),
    actors: tags(plexItem.Role),
    collections: tags(plexItem.Collection),
    rating: plexItem.rating === undefined ? undefined : String(plexItem.rating),
  };
}

const SCALAR: Partial<Record<EditField, string>> = {
  title: "title",
  summary: "summary",
  date: "originallyAvailableAt",
  studio: "studio",
  tagline: "tagline",
  contentRating: "contentRating",
  rating: "rating",
};
// Not collections: they are kept whole by the collection keeper (collections/), never as an item's tags
// (PMS joins a tag by its title: a tag written here would make a second collection beside ours).
const LISTS: Partial<Record<EditField, string>> = { genres: "genre", actors: "actor" };

export interface EditPlan {
  query: Record<string, string>;
  written: Partial<Record<EditField, string>>;
  keptUserEdits: EditField[];
}

export function planEdits(
  meta: PlexMetadata,
  enabled: readonly EditField[],
  current: Partial<Record<EditField, string>> | undefined,
  lastWritten: Partial<Record<EditField, string>>,
): EditPlan {
  const wanted = fieldValues(meta);
  const plan: EditPlan = { query: {}, written: {}, keptUserEdits: [] };
  for (const field of enabled) {
    const name = SCALAR[field] ?? LISTS[field];
    if (!name) continue; // poster and background are uploads, not edits
    const value = wanted[field] ?? "";
    const userChanged =
      current !== undefined && lastWritten[field] !== undefined && (current[field] ?? "") !== lastWritten[field];
    if (userChanged) {
      plan.keptUserEdits.push(field);
      continue;
    }
    if (SCALAR[field]) {
      plan.query[`${name}.value`] = value;
    } else {
      value
        .split("\u001f")
        .filter(Boolean)
        .forEach((tag, i) => (plan.query[`${name}[${i}].tag.tag`] = tag));
    }
    plan.query[`${name}.locked`] = "1";
    plan.written[field] = value;
  }
  return plan;
}
