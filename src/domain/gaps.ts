/** What a reconcile finds: the kinds of disagreement between Stash and Plex, and one gap. */

export const GAP_KINDS = [
  "missing-in-plex",
  "unknown-to-stash",
  "unmatched",
  "wrong-scene",
  "orphaned",
  "stale",
  "empty",
  "stash-empty",
  "artwork",
  // Collections (collections/plan.ts): one Stash implies that Plex lacks; one of ours nothing in
  // Stash names (emptied, its thing deleted); wrong, missing or misordered members; an old name,
  // summary or poster.
  "collection-missing",
  "collection-extra",
  "collection-members",
  "collection-stale",
] as const;
export type GapKind = (typeof GAP_KINDS)[number];

export const COLLECTION_GAP_KINDS = [
  "collection-missing",
  "collection-extra",
  "collection-members",
  "collection-stale",
] as const satisfies readonly GapKind[];
export const isCollectionGap = (kind: GapKind) => (COLLECTION_GAP_KINDS as readonly GapKind[]).includes(kind);
/** What the scheduled run heals unless configured otherwise: nothing here can lose data. */
export const SAFE_KINDS: readonly GapKind[] = [
  "stale",
  "empty",
  "unmatched",
  "missing-in-plex",
  "artwork",
  ...COLLECTION_GAP_KINDS,
];
/** Kinds with a healing action (stash-empty is never pushed over Plex; an orphan with no owner is only reported). */
export const HEALABLE_KINDS: readonly GapKind[] = [
  "stale",
  "empty",
  "unmatched",
  "wrong-scene",
  "orphaned",
  "missing-in-plex",
  "unknown-to-stash",
  "artwork",
  ...COLLECTION_GAP_KINDS,
];

export interface Gap {
  kind: GapKind;
  /** The Stash scene concerned (for wrong-scene and orphaned: the scene that owns the item's file). */
  sceneId?: string;
  /** The Stash instance of `sceneId` (absent in reports older than instances: the default one). */
  instance?: string;
  ratingKey?: string;
  sectionId?: string;
  plexPaths: string[];
  stashPaths: string[];
  /** One sentence a person can act on. */
  reason: string;
  /** stale: the fields that differ. */
  fields?: string[];
  /** stale: each differing field as Stash would have it and as Plex shows it. */
  values?: Record<string, FieldValues>;
  /** An item no path places, found by its size and duration or its fingerprint (sync/identity.ts). */
  foundBy?: "size+duration" | "oshash";
  /**
   * unmatched with no scene: an item whose name tells nothing, several Stash files of its size and
   * duration (these scenes), left unmatched for a person (Fix Match lists them first).
   */
  candidates?: { sceneId: string; path: string }[];
  /** artwork: the Stash image the item should hold (kind, id, version). */
  image?: { kind: "scene" | "performer" | "group" | "studio" | "tag"; id: string; version: string };
}

export interface FieldValues {
  stash: string;
  plex: string;
}

/** A field that differs from Stash but is locked in Plex: the user's decision, kept, never healed. */
export interface KeptItem {
  ratingKey: string;
  sceneId: string;
  /** The Stash instance of the scene (absent in reports made before several instances). */
  instance?: string;
  fields: string[];
  values?: Record<string, FieldValues>;
}

/** A section a reconcile left out, and why. */
export interface SkippedSection {
  key: string;
  title: string;
  agent: string;
  reason: string;
}

/**
 * Of a run's gaps: those that can still be healed from here (with the kinds this service heals),
 * and those that need a person (a file Stash does not know with Stash scanning off, a scene
 * Stash emptied…). Only the first should keep the dashboard amber.
 */
export function gapTotals(
  run: {
    counts: Partial<Record<GapKind, number>>;
    healed: Record<string, number>;
    /** Gaps of a healable kind that no heal acts on (an item several scenes may be). */
    unhealable?: Partial<Record<GapKind, number>>;
  },
  healable: readonly GapKind[],
) {
  let toHeal = 0;
  let forAPerson = 0;
  for (const kind of GAP_KINDS) {
    const n = run.counts[kind] ?? 0;
    const stuck = Math.min(n, run.unhealable?.[kind] ?? 0);
    if (healable.includes(kind)) {
      toHeal += Math.max(0, n - stuck - (run.healed[kind] ?? 0));
      forAPerson += stuck;
    } else forAPerson += n;
  }
  return { toHeal, forAPerson };
}

export const isGapKind = (k: string): k is GapKind => (GAP_KINDS as readonly string[]).includes(k);
