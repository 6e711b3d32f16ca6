/** What a reconcile finds: the kinds of disagreement between Stash and Plex, and one gap. */

export const GAP_KINDS = [
  "missing-in-plex", "unknown-to-stash", "unmatched", "wrong-scene", "orphaned", "stale", "empty", "stash-empty",
] as const;
export type GapKind = (typeof GAP_KINDS)[number];

/** What the scheduled run heals unless configured otherwise: nothing here can lose data. */
export const SAFE_KINDS: readonly GapKind[] = ["stale", "empty", "unmatched", "missing-in-plex"];
/** Kinds with a healing action (stash-empty is never pushed over Plex; an orphan with no owner is only reported). */
export const HEALABLE_KINDS: readonly GapKind[] = ["stale", "empty", "unmatched", "wrong-scene", "orphaned", "missing-in-plex", "unknown-to-stash"];

export interface Gap {
  kind: GapKind;
  /** The Stash scene concerned (for wrong-scene and orphaned: the scene that owns the item's file). */
  sceneId?: string;
  ratingKey?: string;
  sectionId?: string;
  plexPaths: string[];
  stashPaths: string[];
  /** One sentence a person can act on. */
  reason: string;
  /** stale: the fields that differ. */
  fields?: string[];
}

export const isGapKind = (k: string): k is GapKind => (GAP_KINDS as readonly string[]).includes(k);
