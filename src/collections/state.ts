/**
 * The Plex collections we keep (table `collections`): per library section and Stash thing (its
 * key, `studio:12`), the collection's rating key, title and member count as last made. The one
 * module that reads and writes the table: the keeper records what it made, the dashboard lists it.
 */
import { redoable, type Store } from "../store/db.ts";
import type { CollectionKey } from "./kinds.ts";

export interface KeptCollection {
  section_id: string;
  key: CollectionKey;
  instance: string;
  rating_key: string;
  title: string;
  members: number;
  at: number;
}

export function createCollectionState(store: Pick<Store, "db">, now: () => number = Date.now) {
  const { db } = store;
  const ofSection = db.query<KeptCollection, [string]>(
    "SELECT section_id, key, instance, rating_key, title, members, at FROM collections WHERE section_id = ? ORDER BY title",
  );
  const all = db.query<KeptCollection, []>(
    "SELECT section_id, key, instance, rating_key, title, members, at FROM collections ORDER BY section_id, title",
  );
  const put = db.query<unknown, [string, string, string, string, string, number, number]>(
    `INSERT INTO collections (section_id, key, instance, rating_key, title, members, at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (section_id, key) DO UPDATE SET instance = excluded.instance, rating_key = excluded.rating_key,
       title = excluded.title, members = excluded.members, at = excluded.at`,
  );
  const dropKey = db.query<unknown, [string]>("DELETE FROM collections WHERE rating_key = ?");
  return {
    /** Ours in one library section, by title. */
    inSection: (sectionId: string) => ofSection.all(sectionId),
    /** Ours in every section (the dashboard). */
    all: () => all.all(),
    // Redoable writes (store/db.ts): a record lost to a power cut is found again by its label, and
    // a count by the next pass. A sync each cost a scene's push one per collection it joined or left.
    record(c: Omit<KeptCollection, "at">) {
      redoable(db, () => put.run(c.section_id, c.key, c.instance, c.rating_key, c.title, c.members, now()));
    },
    /** A collection deleted in Plex (by us, or gone). */
    forget(ratingKey: string) {
      redoable(db, () => dropKey.run(ratingKey));
    },
  };
}
export type CollectionState = ReturnType<typeof createCollectionState>;
