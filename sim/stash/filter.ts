/**
 * Stash's scene filters, as the simulator evaluates them. Semantics follow Stash's SQL:
 * a string INCLUDES matches when ANY of its words occurs (case-insensitive LIKE '%word%'),
 * EQUALS is exact, criteria within one filter all apply, and AND / OR / NOT combine a
 * nested filter with the rest. `q` searches title, details, code and path, any word.
 */
import type { SimScene } from "./library.ts";

type Criterion = { value: string; value2?: string | null; modifier: string };
export type SceneFilter = {
  path?: Criterion;
  title?: Criterion;
  updated_at?: Criterion;
  files_filter?: { path?: Criterion; basename?: Criterion };
  AND?: SceneFilter;
  OR?: SceneFilter;
  NOT?: SceneFilter;
};

const anyWord = (text: string, value: string) => {
  const hay = text.toLowerCase();
  return value
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .some((w) => hay.includes(w));
};

function string(values: string[], c: Criterion | undefined): boolean {
  if (!c) return true;
  switch (c.modifier) {
    case "EQUALS":
      return values.some((v) => v === c.value);
    case "NOT_EQUALS":
      return values.every((v) => v !== c.value);
    case "INCLUDES":
      return values.some((v) => anyWord(v, c.value));
    case "EXCLUDES":
      return values.every((v) => !anyWord(v, c.value));
    case "MATCHES_REGEX":
      return values.some((v) => new RegExp(c.value, "i").test(v));
    default:
      throw new Error(`the simulator does not support modifier ${c.modifier}`);
  }
}

/**
 * As real Stash (getTimestampWhereClause in pkg/sqlite): the client's string is bound as is
 * and `updated_at > ?` compares TEXT in SQLite, so `…T03:00:00-05:00` sorts below
 * `…T08:00:00Z` although it is the same instant. Not instants: strings.
 */
function time(value: string, c: Criterion | undefined): boolean {
  if (!c) return true;
  switch (c.modifier) {
    case "GREATER_THAN":
      return value > c.value;
    case "LESS_THAN":
      return value < c.value;
    case "EQUALS":
      return value === c.value;
    case "BETWEEN":
      return value >= c.value && value <= (c.value2 ?? "");
    default:
      throw new Error(`the simulator does not support modifier ${c.modifier} on a time`);
  }
}

export function matchesFilter(s: SimScene, f: SceneFilter | undefined): boolean {
  if (!f) return true;
  const paths = s.files.map((x) => x.path);
  return (
    (string(paths, f.path) &&
      string([s.title ?? ""], f.title) &&
      time(s.updated_at, f.updated_at) &&
      string(paths, f.files_filter?.path) &&
      string(
        s.files.map((x) => x.basename),
        f.files_filter?.basename,
      ) &&
      (!f.AND || matchesFilter(s, f.AND)) &&
      (!f.NOT || !matchesFilter(s, f.NOT))) ||
    (f.OR !== undefined && matchesFilter(s, f.OR))
  );
}

/** Stash's `q`: any word in title, details, code or a file path. */
export const matchesQuery = (searchText: string, q: string) => anyWord(searchText, q);
