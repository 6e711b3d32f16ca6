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
      Object.fromEntries(read.all(ratingKey).map((r) => [r.field, r.value])),
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
