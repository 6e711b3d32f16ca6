/**
 * What to do to a library's collections so they are exactly what Stash implies (pure). Only
 * ours are ever touched: a collection a person made in Plex, or another agent's, is not in
 * `held` at all (the keeper leaves it out). Ours are known by the key we recorded for their
 * rating key; one of ours we have no record of (our database restored, say) is known by its
 * title. A collection of ours that nothing wants any more (emptied, its thing deleted, its
 * kind turned off, a second one for the same key) is deleted: PMS itself never deletes one.
 */
import type { GapKind } from "../domain/gaps.ts";
import type { CollectionKey, Described } from "./kinds.ts";

/** A collection Stash implies in one library: what it shows and its members' rating keys, in order. */
export interface Wanted extends Described {
  members: string[];
  /** Its members' order matters (a group's, by scene index): PMS is told to keep it. */
  ordered?: boolean;
}

/** One of our collections as PMS has it. */
export interface Held {
  ratingKey: string;
  title: string;
  summary: string;
  members: string[];
  /** The key we recorded for it, if any. */
  key?: CollectionKey;
}

export type Action =
  | { do: "create"; key: CollectionKey; title: string; summary: string; members: string[] }
  | { do: "add"; ratingKey: string; key: CollectionKey; members: string[] }
  | { do: "remove"; ratingKey: string; key: CollectionKey; members: string[] }
  | { do: "rename"; ratingKey: string; key: CollectionKey; from: string; title: string }
  | { do: "describe"; ratingKey: string; key: CollectionKey; summary: string }
  | { do: "delete"; ratingKey: string; title: string; why: string }
  /** Its members are not in the wanted order (a group's, by scene index). */
  | { do: "order"; ratingKey: string; key: CollectionKey; members: string[]; current: string[] }
  /** Its poster is not Stash's image of now (uploaded by the artwork keeper). */
  | { do: "poster"; ratingKey: string; key: CollectionKey }
  /** A collection of ours found by its title: recorded under its key from now on. */
  | { do: "adopt"; ratingKey: string; key: CollectionKey };

/** The actions that make `held` what `wanted` says (a wanted collection without members is not wanted). */
export function planCollections(wanted: readonly Wanted[], held: readonly Held[]): Action[] {
  const actions: Action[] = [];
  const claimed = new Set<string>();
  const wants = wanted.filter((w) => w.members.length > 0);
  const wantedKeys = new Set(wants.map((w) => w.key));
  // Recorded first (a rename keeps its rating key), then an unrecorded one of the same title.
  const byKey = new Map<string, Held>();
  for (const h of held) if (h.key && wantedKeys.has(h.key) && !byKey.has(h.key)) byKey.set(h.key, h);
  for (const w of wants) {
    let h = byKey.get(w.key);
    if (!h) {
      h = held.find((x) => !x.key && !claimed.has(x.ratingKey) && x.title === w.title);
      if (h) actions.push({ do: "adopt", ratingKey: h.ratingKey, key: w.key });
    }
    if (!h) {
      actions.push({ do: "create", key: w.key, title: w.title, summary: w.summary, members: w.members });
      continue;
    }
    claimed.add(h.ratingKey);
    if (h.title !== w.title)
      actions.push({ do: "rename", ratingKey: h.ratingKey, key: w.key, from: h.title, title: w.title });
    if (h.summary !== w.summary)
      actions.push({ do: "describe", ratingKey: h.ratingKey, key: w.key, summary: w.summary });
    const has = new Set(h.members);
    const should = new Set(w.members);
    const missing = w.members.filter((m) => !has.has(m));
    const extra = h.members.filter((m) => !should.has(m));
    if (missing.length) actions.push({ do: "add", ratingKey: h.ratingKey, key: w.key, members: missing });
    if (extra.length) actions.push({ do: "remove", ratingKey: h.ratingKey, key: w.key, members: extra });
    // The order of those that stay, as PMS lists them, against the wanted one (added ones go last until ordered).
    const kept = h.members.filter((m) => should.has(m));
    if (w.ordered && (missing.length > 0 || kept.some((m, i) => m !== w.members[i])))
      actions.push({ do: "order", ratingKey: h.ratingKey, key: w.key, members: w.members, current: kept });
  }
  for (const h of held) {
    if (claimed.has(h.ratingKey)) continue;
    const why = !h.key
      ? "ours, but nothing in Stash names it"
      : wantedKeys.has(h.key)
        ? "a second collection for the same Stash thing"
        : "nothing in Stash belongs to it any more";
    actions.push({ do: "delete", ratingKey: h.ratingKey, title: h.title, why });
  }
  return actions;
}

/** One sentence a person can act on, for a reconcile's report. */
export function describeAction(a: Action): string {
  switch (a.do) {
    case "create":
      return `collection "${a.title}" missing in Plex (${a.members.length} member(s))`;
    case "add":
      return `collection of ${a.key} lacks ${a.members.length} member(s)`;
    case "remove":
      return `collection of ${a.key} holds ${a.members.length} item(s) that no longer belong`;
    case "rename":
      return `collection "${a.from}" should be called "${a.title}"`;
    case "describe":
      return `collection of ${a.key} has an old summary`;
    case "delete":
      return `collection "${a.title}" is ours but ${a.why}`;
    case "order":
      return `collection of ${a.key} is not in its scenes' order`;
    case "poster":
      return `collection of ${a.key} does not show Stash's image`;
    case "adopt":
      return `collection ${a.ratingKey} is ours (by its title) but not recorded as ${a.key}`;
  }
}

/** The gap kind a reconcile reports an action as. */
export function gapKindOf(a: Action): GapKind {
  switch (a.do) {
    case "create":
      return "collection-missing";
    case "delete":
      return "collection-extra";
    case "add":
    case "remove":
    case "order":
    case "adopt":
      return "collection-members";
    default:
      return "collection-stale";
  }
}
