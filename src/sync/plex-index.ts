/**
 * Our index of the Plex libraries in SQLite: item, section, guid and file paths, built by
 * paging `/library/sections/{id}/all` and then refreshed with only the items updated since.
 * It answers "which Plex item shows this Stash scene?": our GUID first, then the scene's
 * files mapped Stash → Plex by the path rules, then a file name that only one item has.
 */
import { redoable, type Store } from "../store/db.ts";
import type { PlexClient, PlexItem, PlexSection } from "../plex/client.ts";
import type { PathMapper } from "../paths/mapper.ts";
import { pages } from "../paging.ts";

export interface IndexedItem {
  rating_key: string;
  section_id: string;
  guid: string;
  title: string;
}

/** An item bound by its GUID, as a page of `withGuidPrefix` gives it. */
export interface BoundItem {
  ratingKey: string;
  guid: string;
}

/** A Plex item's file not bound to our scenes, as identity.ts looks at it. */
export interface UnboundFile {
  rating_key: string;
  guid: string;
  title: string;
  path: string;
  size: number | null;
  duration_ms: number | null;
}

const PAGE = 200;
const basenameOf = (path: string) => (path.split(/[\\/]/).at(-1) ?? path).normalize("NFC");

export function createPlexIndex(store: Store, plex: Pick<PlexClient, "sectionItems">) {
  const { db } = store;
  const upsertItem = db.query(`
    INSERT INTO plex_items (rating_key, section_id, guid, title, updated_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (rating_key) DO UPDATE SET section_id = excluded.section_id, guid = excluded.guid,
      title = excluded.title, updated_at = excluded.updated_at`);
  const dropFiles = db.query("DELETE FROM plex_files WHERE rating_key = ?");
  const addFile = db.query(
    "INSERT OR IGNORE INTO plex_files (path, basename, rating_key, size, duration_ms) VALUES (?, ?, ?, ?, ?)",
  );
  // Redoable: a page lost to a power cut is read again (the section's mark is set after its pages).
  const put = (sectionId: string, items: PlexItem[]) =>
    redoable(db, () => {
      for (const item of items) {
        upsertItem.run(item.ratingKey, sectionId, item.guid, item.title, item.updatedAt);
        dropFiles.run(item.ratingKey);
        item.files.forEach((file, i) => {
          const part = item.parts?.[i];
          addFile.run(
            file.normalize("NFC"),
            basenameOf(file),
            item.ratingKey,
            part?.size ?? null,
            part?.durationMs ?? null,
          );
        });
      }
    });
  const byGuid = db.query<IndexedItem, [string]>(
    "SELECT rating_key, section_id, guid, title FROM plex_items WHERE guid = ?",
  );
  const byGuids = db.query<IndexedItem, [string]>(
    "SELECT rating_key, section_id, guid, title FROM plex_items WHERE guid IN (SELECT value FROM json_each(?))",
  );
  const byPath = db.query<IndexedItem, [string]>(`
    SELECT i.rating_key, i.section_id, i.guid, i.title FROM plex_files f JOIN plex_items i USING (rating_key) WHERE f.path = ?`);
  const byBasename = db.query<IndexedItem, [string]>(`
    SELECT i.rating_key, i.section_id, i.guid, i.title FROM plex_files f JOIN plex_items i USING (rating_key) WHERE f.basename = ?`);

  // A page after (guid, rating key); `guid >= ?3` lets the GUID index start at the page.
  // A range of the (guid, rating_key) index from the last item of the page before (migration 14).
  const boundPage = db.query<BoundItem, [string, string, string, number]>(`
    SELECT rating_key AS ratingKey, guid FROM plex_items
    WHERE (guid, rating_key) > (?1, ?2) AND guid < ?3
    ORDER BY guid, rating_key LIMIT ?4`);

  /**
   * Pages through one section; `since` (epoch s) fetches only items updated after it. A TV
   * section (type "show") is listed twice: its shows (type 2, to refresh a show whose studio
   * changed) and its episodes (type 4, with their files: the links of the episode folder).
   */
  async function loadSection(section: Pick<PlexSection, "key" | "type">, since?: number): Promise<number> {
    let count = 0;
    const types: (1 | 2 | 4)[] = section.type === "show" ? [2, 4] : [1];
    for (const type of types) {
      for await (const { items } of pages(PAGE, (i) => plex.sectionItems(section.key, i * PAGE, PAGE, since, type))) {
        put(section.key, items);
        count += items.length;
      }
    }
    return count;
  }

  type Sections = (Pick<PlexSection, "key"> & { type?: string })[];
  /** Full build for a section the first time, then deltas. Returns how many items changed. */
  async function refresh(sections: Sections): Promise<number> {
    let changed = 0;
    for (const section of sections) {
      const key = `plexIndexAt:${section.key}`;
      const since = store.meta.get(key);
      const startedAt = Math.floor(Date.now() / 1000) - 1;
      changed += await loadSection(
        { key: section.key, type: section.type ?? "movie" },
        since ? Number(since) : undefined,
      );
      store.meta.set(key, String(startedAt));
    }
    return changed;
  }
  /** Per set of sections: when it was last looked at, and the look under way. */
  const looks = new Map<string, { last: number; running?: Promise<void> }>();

  return {
    refresh,
    /**
     * A look for items Plex added a moment ago (an episode its scan of a folder just placed):
     * one look at a set of sections at a time and at most one a `gapMs`; a caller in between
     * waits for the next look rather than skipping it (a miss must not wait for a retry).
     */
    refreshSoon(sections: Sections, gapMs = 1000): Promise<void> {
      const id = sections.map((s) => s.key).join(",");
      let look = looks.get(id);
      if (!look) looks.set(id, (look = { last: 0 }));
      const current = look;
      current.running ??= (async () => {
        const wait = current.last + gapMs - Date.now();
        if (wait > 0) await Bun.sleep(wait);
        current.last = Date.now();
        await refresh(sections);
      })().finally(() => {
        current.running = undefined;
      });
      return current.running;
    },
    /** Forgets an item Plex no longer has. */
    forget: db.transaction((ratingKey: string) => {
      dropFiles.run(ratingKey);
      db.query("DELETE FROM plex_items WHERE rating_key = ?").run(ratingKey);
    }),
    setGuid: (ratingKey: string, guid: string) =>
      db.query("UPDATE plex_items SET guid = ? WHERE rating_key = ?").run(guid, ratingKey),
    /** The items bound to any of these GUIDs, in one query (a page of scenes' items of every provider). */
    withGuids: (guids: readonly string[]): IndexedItem[] => byGuids.all(JSON.stringify(guids)),
    /**
     * The Plex items showing a scene, by the lookup order above. A scene with several files
     * can be several items in Plex; each of them must show the change.
     */
    find(guid: string, stashPaths: string[], mapper: PathMapper): IndexedItem[] {
      const own = byGuid.all(guid);
      if (own.length) return own;
      const byFile = new Map<string, IndexedItem>();
      for (const path of stashPaths) {
        const plexPath = mapper.toPlex(path)?.path;
        for (const hit of plexPath ? byPath.all(plexPath) : []) byFile.set(hit.rating_key, hit);
      }
      if (byFile.size) return [...byFile.values()];
      for (const path of stashPaths) {
        const hits = byBasename.all(basenameOf(path));
        if (hits.length === 1) return hits;
      }
      return [];
    },
    /** The items holding exactly this Plex path (a TV section's episode at its link). */
    atPath: (plexPath: string): IndexedItem[] => byPath.all(plexPath.normalize("NFC")),
    /**
     * The items whose GUID starts so (every item bound to one provider's scenes: `scheme://movie/`),
     * a page of `size` at a time in GUID order: at 200,000 items never all in memory at once.
     */
    *withGuidPrefix(prefix: string, size = 500): Generator<BoundItem[]> {
      let after = { guid: prefix, ratingKey: "" };
      for (;;) {
        const page = boundPage.all(after.guid, after.ratingKey, `${prefix}\uffff`, size);
        if (page.length) yield page;
        if (page.length < size) return;
        after = page.at(-1)!;
      }
    },
    /**
     * The items Plex changed last, as the index last saw them (their `updatedAt`, epoch s):
     * what a Plex restored from an older backup shows older than we saw (gaps/plex-rewind.ts).
     */
    newest: (n: number) =>
      db
        .query<{ rating_key: string; updated_at: number }, [number]>(
          "SELECT rating_key, updated_at FROM plex_items ORDER BY updated_at DESC LIMIT ?",
        )
        .all(n),
    /** Every section's next refresh reads it whole again (Plex's library is not what the deltas built on). */
    rebuildNext: () => db.run("DELETE FROM meta WHERE key LIKE 'plexIndexAt:%'"),
    /**
     * The files of a section's items not bound to a GUID of this prefix, with their size and
     * duration where PMS shows them: what identity.ts may find by size, duration or fingerprint.
     * Filtered in SQL: reading every file of a 200,000-item section to keep the few unbound cost tens of MB.
     */
    unboundFiles: (sectionId: string, prefix: string) =>
      db
        .query<UnboundFile, [string, string]>(
          `SELECT i.rating_key, i.guid, i.title, f.path, f.size, f.duration_ms FROM plex_items i
           JOIN plex_files f USING (rating_key)
           WHERE i.section_id = ?1 AND substr(i.guid, 1, length(?2)) <> ?2 ORDER BY i.rating_key`,
        )
        .all(sectionId, prefix),
    /** A Plex file's size (bytes) and duration (ms), as PMS showed them (Fix Match by identity). */
    fileFacts: (path: string) =>
      db
        .query<{ size: number | null; duration_ms: number | null }, [string]>(
          "SELECT size, duration_ms FROM plex_files WHERE path = ? LIMIT 1",
        )
        .get(path.normalize("NFC")) ?? undefined,
    /** Each file of a section's items, with its item (the TV full pass looks for links gone). */
    sectionFiles: (sectionId: string) =>
      db
        .query<{ rating_key: string; path: string }, [string]>(
          "SELECT f.rating_key, f.path FROM plex_files f JOIN plex_items i USING (rating_key) WHERE i.section_id = ?",
        )
        .all(sectionId),
    /**
     * The items with a file named with this token before its extension (`{s2p-st-42}`: an episode
     * link's name), whatever comes before it. The WHERE repeats migration 13's indexed expression.
     */
    byToken: (token: string): { rating_key: string; path: string }[] =>
      db
        .query<{ rating_key: string; path: string }, [string, string]>(
          `SELECT rating_key, path FROM plex_files
           WHERE substr(basename, instr(basename, '{s2p-')) >= ?1 AND substr(basename, instr(basename, '{s2p-')) < ?2`,
        )
        .all(`${token}.`, `${token}/`),
    /** One item as the index last saw it. */
    item: (ratingKey: string): IndexedItem | undefined =>
      db
        .query<IndexedItem, [string]>("SELECT rating_key, section_id, guid, title FROM plex_items WHERE rating_key = ?")
        .get(ratingKey) ?? undefined,
    /** The items bound to a GUID (a TV show's item by its show GUID). */
    byGuid: (guid: string): IndexedItem[] => byGuid.all(guid),
    size: () => (db.query("SELECT COUNT(*) AS n FROM plex_items").get() as { n: number }).n,
    /** Every file path of the items in these sections (for inferring path rules). */
    files: (sectionIds: readonly string[]) =>
      sectionIds.flatMap((id) =>
        db
          .query<{ path: string }, [string]>(
            "SELECT f.path FROM plex_files f JOIN plex_items i USING (rating_key) WHERE i.section_id = ?",
          )
          .all(id)
          .map((r) => r.path),
      ),
  };
}
export type PlexIndex = ReturnType<typeof createPlexIndex>;
