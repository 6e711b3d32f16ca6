/**
 * What artwork stash2plex put into Plex (table `artwork`): per Plex item and element (poster,
 * background), the Stash image it came from, the hash of its bytes and the URL Plex showed for
 * it afterwards. The one module that reads and writes the table: the artwork keeper records
 * its uploads, the reconcile asks what an item holds (`recordedMany`: a page of items in one
 * query: the Plex index job's look at a page of items, and the reconcile's).
 */
import { redoable, type Store } from "../store/db.ts";

export type ArtElement = "posters" | "arts";

export interface ArtRecord {
  /** The Stash image: `kind/id@version` (artwork.ts sourceKey). */
  source: string;
  /** Its bytes' hash: a new version with the same bytes is not uploaded again. */
  hash: string;
  /** The `thumb`/`art` Plex showed after our upload: a lock on exactly that image is ours, not the user's. */
  shown: string | null;
  at: number;
}

export type ItemRecords = Partial<Record<ArtElement, ArtRecord>>;

export function createArtworkState(store: Pick<Store, "db">) {
  const read = store.db.query<ArtRecord & { element: ArtElement }, [string]>(
    "SELECT element, source, hash, shown, at FROM artwork WHERE rating_key = ?",
  );
  const write = store.db.query<unknown, [string, string, string, string, string | null, number]>(
    `INSERT INTO artwork (rating_key, element, source, hash, shown, at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (rating_key, element) DO UPDATE SET source = excluded.source, hash = excluded.hash,
       shown = excluded.shown, at = excluded.at`,
  );
  const readMany = store.db.query<ArtRecord & { element: ArtElement; rating_key: string }, [string]>(
    `SELECT rating_key, element, source, hash, shown, at FROM artwork
     WHERE rating_key IN (SELECT value FROM json_each(?))`,
  );
  return {
    /** What an item holds that we put there, per element. */
    of(ratingKey: string): ItemRecords {
      const out: ItemRecords = {};
      for (const { element, ...record } of read.all(ratingKey)) out[element] = record;
      return out;
    },
    /** Many records in one transaction (redoable: a lost record means an image looked at again). */
    rememberAll: (records: { ratingKey: string; element: ArtElement; record: ArtRecord }[]) =>
      redoable(store.db, () => {
        for (const { ratingKey, element, record: r } of records)
          write.run(ratingKey, element, r.source, r.hash, r.shown, r.at);
      }),
    /** What `of` gives for each of many items, in one query ({} for an item holding nothing of ours). */
    recordedMany(ratingKeys: readonly string[]): Map<string, ItemRecords> {
      const out = new Map<string, ItemRecords>(ratingKeys.map((k) => [k, {}]));
      if (!ratingKeys.length) return out;
      for (const { rating_key, element, ...record } of readMany.all(JSON.stringify(ratingKeys)))
        out.get(rating_key)![element] = record;
      return out;
    },
  };
}
export type ArtworkState = ReturnType<typeof createArtworkState>;
