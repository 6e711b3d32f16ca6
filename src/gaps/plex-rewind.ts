/**
 * A Plex restored from an older backup: its items show last week's metadata while our records
 * say everything was delivered, and no delta of the Plex index shows it (nothing in Plex is
 * newer than our bookmark). PMS stamps an item's `updatedAt` at each change and never moves it
 * back, so the items Plex changed last, as the index saw them, are read back every few minutes
 * (one batched request): an item now older than we saw it, or gone, means Plex's database went
 * back in time. Then the Plex index is read whole again and a reconcile with heal compares and
 * heals every item, with nobody doing anything.
 */
import type { Logger } from "../log.ts";
import type { PlexClient } from "../plex/client.ts";
import type { PlexIndex } from "../sync/plex-index.ts";

/** How many of the items Plex changed last are read back at each look. */
export const REWIND_SAMPLE = 20;

export interface Rewind {
  /** Items read back that Plex shows older than the index saw them. */
  older: number;
  /** Items read back that Plex no longer has. */
  gone: number;
  sampled: number;
  /** One example, for the log: an item, what the index saw, what Plex shows now (epoch s). */
  example?: { ratingKey: string; seen: number; now: number | null };
}

/**
 * Pure: whether what Plex shows of the items it changed last says its database went back.
 * An item gone alone is a deletion; older is never normal. So: any item older, or most of them
 * gone at once (a backup older than all of them).
 */
export function rewindOf(
  seen: readonly { rating_key: string; updated_at: number }[],
  shown: Map<string, number>,
): Rewind | null {
  let older = 0;
  let gone = 0;
  let example: Rewind["example"];
  for (const item of seen) {
    const now = shown.get(item.rating_key);
    if (now === undefined) gone++;
    else if (now < item.updated_at) older++;
    else continue;
    example ??= { ratingKey: item.rating_key, seen: item.updated_at, now: now ?? null };
  }
  const rewound = older > 0 || (seen.length >= 4 && gone * 2 > seen.length);
  return rewound ? { older, gone, sampled: seen.length, example } : null;
}

export interface RewindDeps {
  plex: Pick<PlexClient, "items">;
  plexIndex: Pick<PlexIndex, "newest" | "rebuildNext" | "refresh">;
  sections: () => Promise<{ key: string; type?: string }[]>;
  log: Logger;
  /** Compares and heals everything (a reconcile with heal); resolves when it is done. */
  healAll: () => Promise<unknown>;
}

export function createRewindWatch(deps: RewindDeps) {
  /** Reads back the items Plex changed last; when Plex went back, rebuilds the index and heals. Null: it did not. */
  async function look(): Promise<Rewind | null> {
    const seen = deps.plexIndex.newest(REWIND_SAMPLE);
    if (!seen.length) return null;
    const shown = new Map<string, number>();
    // Items Plex no longer has are left out of the answer: gone.
    for (const body of await deps.plex.items(seen.map((s) => s.rating_key)))
      shown.set(String(body.ratingKey), Number(body.updatedAt));
    const rewind = rewindOf(seen, shown);
    if (!rewind) return null;
    deps.log.warn(
      "Plex's library went back in time (a database restored from a backup?): reading it whole again and healing every item",
      { ...rewind },
    );
    deps.plexIndex.rebuildNext();
    await deps.plexIndex.refresh(await deps.sections());
    await deps.healAll();
    return rewind;
  }
  return { look };
}
