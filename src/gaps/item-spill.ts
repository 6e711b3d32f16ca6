/**
 * Where a reconcile keeps the Plex items it listed while Stash's scenes stream past: a scratch
 * SQLite file in the data folder, not the heap. At 200,000 scenes (a movie item and an episode
 * each) the views held in memory grew the service by hundreds of MB; on disk they cost a page
 * cache of a few MB, and a lookup is an indexed read. Each item is kept as JSON (its own codec)
 * under the keys it is found by (its files' paths, an episode's id…).
 *
 * The views handed out are the same objects until `release`: the reconcile reads some items
 * whole and sets what it read on them before their scene is compared.
 */
import { Database } from "bun:sqlite";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { ItemSource } from "./detect.ts";

export interface SpillCodec<T> {
  encode(item: T): string;
  decode(json: string): T;
}

const SCRATCH = /^reconcile-(\d+)\.scratch\.sqlite$/;
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * The scratch file of this process's reconcile in a folder, removed when it closes. Named by
 * process (the CLI's reconcile may run beside the service's); one left by a process that died
 * is removed here.
 */
export function openScratch(dir: string) {
  for (const name of readdirSync(dir)) {
    const pid = Number(SCRATCH.exec(name)?.[1]);
    if (pid && pid !== process.pid && !alive(pid)) rmSync(join(dir, name), { force: true });
  }
  const file = join(dir, `reconcile-${process.pid}.scratch.sqlite`);
  const remove = () => rmSync(file, { force: true });
  remove();
  const db = new Database(file, { create: true, strict: true });
  // Nothing here needs to survive a crash: no journal, no syncs; a small page cache.
  db.exec("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE;");
  db.exec("PRAGMA cache_size = -8000; PRAGMA temp_store = FILE;");
  return {
    db,
    close() {
      db.close();
      remove();
    },
  };
}

export interface ItemSpill<T extends object> extends ItemSource<T> {
  /** Keeps an item, found by each of its keys. */
  add(item: T, keys: readonly string[]): void;
  /** Many keys looked up in one query (ItemSource.prefetch); kept until the next `release`. */
  prefetch(keys: readonly string[]): void;
  /** Adds many in one transaction (a listing page). */
  addAll(rows: readonly { item: T; keys: readonly string[] }[]): void;
  /** How many items it holds. */
  readonly size: number;
  /** Forgets the views handed out (a new object next time), but those in `keep`. */
  release(keep?: Iterable<T>): void;
}

/** A table of items in the scratch database (`name`: letters only). */
export function createItemSpill<T extends object>(db: Database, name: string, codec: SpillCodec<T>): ItemSpill<T> {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`bad spill name ${name}`);
  db.exec(`CREATE TABLE ${name} (id INTEGER PRIMARY KEY, json TEXT NOT NULL, claimed INTEGER NOT NULL DEFAULT 0)`);
  db.exec(`CREATE TABLE ${name}_keys (key TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (key, id)) WITHOUT ROWID`);
  const insert = db.query(`INSERT INTO ${name} (id, json) VALUES (?, ?)`);
  const insertKey = db.query(`INSERT OR IGNORE INTO ${name}_keys (key, id) VALUES (?, ?)`);
  const byKey = db.query<{ id: number; json: string }, [string]>(
    `SELECT i.id, i.json FROM ${name}_keys k JOIN ${name} i ON i.id = k.id WHERE k.key = ? ORDER BY i.id`,
  );
  const byKeys = db.query<{ key: string; id: number; json: string }, [string]>(
    `SELECT k.key, i.id, i.json FROM ${name}_keys k JOIN ${name} i ON i.id = k.id
     WHERE k.key IN (SELECT value FROM json_each(?)) ORDER BY i.id`,
  );
  const claim = db.query(`UPDATE ${name} SET claimed = 1 WHERE id = ?`);
  /** Claims are written in one transaction when the views are released (one commit, not one per item). */
  let claims: number[] = [];
  const writeClaims = db.transaction(() => {
    for (const id of claims) claim.run(id);
    claims = [];
  });
  const unclaimed = db.query<{ id: number; json: string }, []>(
    `SELECT id, json FROM ${name} WHERE claimed = 0 ORDER BY id`,
  );
  let size = 0;
  /** Views handed out, by row (the same object for the same item), and each view's row. */
  let views = new Map<number, T>();
  const rowOf = new WeakMap<T, number>();
  /** The answers by key since the last release: a scene's items are asked for several times. */
  let found = new Map<string, T[]>();

  const add = (item: T, keys: readonly string[]) => {
    const id = ++size;
    insert.run(id, codec.encode(item));
    for (const key of keys) insertKey.run(key, id);
  };
  const addAll = db.transaction((rows: readonly { item: T; keys: readonly string[] }[]) => {
    for (const { item, keys } of rows) add(item, keys);
  });
  const view = (id: number, json: string) => {
    let v = views.get(id);
    if (!v) {
      v = codec.decode(json);
      views.set(id, v);
      rowOf.set(v, id);
    }
    return v;
  };

  return {
    add,
    addAll,
    get size() {
      return size;
    },
    holding(key) {
      let items = found.get(key);
      if (!items) found.set(key, (items = byKey.all(key).map((r) => view(r.id, r.json))));
      return items;
    },
    prefetch(keys) {
      const asked = [...new Set(keys)].filter((k) => !found.has(k));
      if (!asked.length) return;
      for (const k of asked) found.set(k, []);
      // In row order, as `holding` gives them.
      for (const r of byKeys.iterate(JSON.stringify(asked))) found.get(r.key)!.push(view(r.id, r.json));
    },
    claim(item) {
      const id = rowOf.get(item);
      if (id !== undefined) claims.push(id);
    },
    *unclaimed() {
      writeClaims();
      // Not kept in the identity map: a pass over every item must not hold them all.
      for (const r of unclaimed.iterate()) yield views.get(r.id) ?? codec.decode(r.json);
    },
    release(keep = []) {
      writeClaims();
      found = new Map();
      const kept = new Map<number, T>();
      for (const v of keep) {
        const id = rowOf.get(v);
        if (id !== undefined) kept.set(id, v);
      }
      views = kept;
    },
  };
}
