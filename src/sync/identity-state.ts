/**
 * What identity.ts found (owner of the `identity` table): each Plex item bound to a scene by its
 * size and duration or its fingerprint, and each left with several candidates, so the pages and
 * `check` can say how an item was found and list the ambiguous ones.
 */
import type { Store } from "../store/db.ts";
import { parseRefKey, refKey, type Ref } from "../domain/ref.ts";
import type { IdentityHow } from "./identity.ts";

export interface IdentityRow {
  rating_key: string;
  path: string;
  how: IdentityHow | "ambiguous";
  ref: Ref | null;
  candidates: { sceneId: string; path: string }[];
  at: number;
}

export function createIdentityState(store: Store, now: () => number = Date.now) {
  const { db } = store;
  const upsert = db.query(`
    INSERT INTO identity (rating_key, path, how, ref, candidates, at) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (rating_key) DO UPDATE SET path = excluded.path, how = excluded.how, ref = excluded.ref,
      candidates = excluded.candidates, at = excluded.at`);
  const toRow = (r: {
    rating_key: string;
    path: string;
    how: string;
    ref: string | null;
    candidates: string;
    at: number;
  }): IdentityRow => ({
    rating_key: r.rating_key,
    path: r.path,
    how: r.how as IdentityRow["how"],
    ref: r.ref ? (parseRefKey(r.ref) ?? null) : null,
    candidates: JSON.parse(r.candidates),
    at: r.at,
  });
  return {
    bound: (ratingKey: string, path: string, ref: Ref, how: IdentityHow) =>
      void upsert.run(ratingKey, path, how, refKey(ref), "[]", now()),
    ambiguous: (ratingKey: string, path: string, candidates: { sceneId: string; path: string }[]) =>
      void upsert.run(ratingKey, path, "ambiguous", null, JSON.stringify(candidates.slice(0, 20)), now()),
    /** Forgets an item no longer ambiguous (bound another way, or gone). */
    forget: (ratingKey: string) => void db.query("DELETE FROM identity WHERE rating_key = ?").run(ratingKey),
    /**
     * Forgets the ambiguous items a whole pass no longer found so (a person matched them, Plex
     * dropped them, a Stash file changed): what is listed is what is still left unmatched.
     */
    keepAmbiguous: (stillAmbiguous: ReadonlySet<string>) => {
      const listed = db
        .query<{ rating_key: string }, []>("SELECT rating_key FROM identity WHERE how = 'ambiguous'")
        .all();
      const drop = db.query("DELETE FROM identity WHERE rating_key = ? AND how = 'ambiguous'");
      db.transaction(() => {
        for (const { rating_key } of listed) if (!stillAmbiguous.has(rating_key)) drop.run(rating_key);
      })();
    },
    of: (ratingKey: string): IdentityRow | undefined => {
      const r = db
        .query<Parameters<typeof toRow>[0], [string]>("SELECT * FROM identity WHERE rating_key = ?")
        .get(ratingKey);
      return r ? toRow(r) : undefined;
    },
    /** What was found for a Plex file, by its path as Plex shows it. */
    atPath: (path: string): IdentityRow | undefined => {
      const r = db.query<Parameters<typeof toRow>[0], [string]>("SELECT * FROM identity WHERE path = ?").get(path);
      return r ? toRow(r) : undefined;
    },
    forRef: (ref: Ref): IdentityRow[] =>
      db
        .query<Parameters<typeof toRow>[0], [string]>("SELECT * FROM identity WHERE ref = ?")
        .all(refKey(ref))
        .map(toRow),
    counts: () =>
      Object.fromEntries(
        db
          .query<{ how: string; n: number }, []>("SELECT how, COUNT(*) AS n FROM identity GROUP BY how")
          .all()
          .map((r) => [r.how, r.n]),
      ) as Partial<Record<IdentityRow["how"], number>>,
    ambiguousList: (limit = 50): IdentityRow[] =>
      db
        .query<Parameters<typeof toRow>[0], [number]>(
          "SELECT * FROM identity WHERE how = 'ambiguous' ORDER BY at DESC LIMIT ?",
        )
        .all(limit)
        .map(toRow),
  };
}
export type IdentityState = ReturnType<typeof createIdentityState>;
