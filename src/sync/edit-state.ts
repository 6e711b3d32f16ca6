/**
 * The edit strategy's memory (table `edit_state`): what we last wrote to each field of a Plex
 * item, so that a field someone changed in Plex since is theirs (keepUserEdits). The one module
 * that reads and writes the table: the push records what it wrote, the reconcile asks.
 */
import type { Store } from "../store/db.ts";

export function createEditState(store: Store) {
  const read = store.db.query<{ field: string; value: string }, [string]>(
    "SELECT field, value FROM edit_state WHERE rating_key = ?",
  );
  const write = store.db.query<unknown, [string, string, string]>(
    "INSERT INTO edit_state (rating_key, field, value) VALUES (?, ?, ?) ON CONFLICT (rating_key, field) DO UPDATE SET value = excluded.value",
  );
  return {
    /** What we last wrote to a Plex item, field → value (empty: nothing yet). */
    written: (ratingKey: string): Record<string, string> =>
      Object.fromEntries(
        read
          .all(ratingKey)
          .filter((r) => r.field !== STAR_RATING)
          .map((r) => [r.field, r.value]),
      ),
    /**
     * The star rating Plex is known to show for an item: set by our push (ratingAs=user) or by a
     * user in Plex (write-back). The push does not send it again; write-back takes a rate event
     * equal to our own push as its echo, not as a user's rating (no loop between the two).
     */
    starRating(ratingKey: string): StarRating | undefined {
      const row = read.all(ratingKey).find((r) => r.field === STAR_RATING);
      return row ? (JSON.parse(row.value) as StarRating) : undefined;
    },
    rememberStarRating(ratingKey: string, rating: StarRating) {
      write.run(ratingKey, STAR_RATING, JSON.stringify(rating));
    },
    /** Records what one edit wrote to an item, all fields at once. */
    remember(ratingKey: string, written: Record<string, string | undefined>) {
      store.db.transaction(() => {
        for (const [field, value] of Object.entries(written))
          if (value !== undefined) write.run(ratingKey, field, value);
      })();
    },
  };
}
export type EditState = ReturnType<typeof createEditState>;

/** The row holding an item's star rating as Plex shows it (not an edit field: `written` leaves it out). */
const STAR_RATING = "~starRating";
/** Plex's star rating of an item (0–10; null: none), who set it and when (ms). */
export interface StarRating {
  value: number | null;
  by: "push" | "plex";
  at: number;
}
