/**
 * The database while the service runs: a disk that fills, pages damaged under it, its WAL file
 * deleted by a clean-up script. Every statement's SQLite error is reported here (db.ts wraps
 * them), and a check every few seconds (the readiness check, the dashboard) makes a tiny write
 * and looks for the WAL file. A problem is logged once, in one line, and shown until it clears:
 *   - full / cannot be written: clears by itself once a write works again;
 *   - WAL deleted: repaired here (its content is still readable through the open file: it is
 *     checkpointed into the database, then a new WAL is made), and said once;
 *   - damaged: stays until the service is restarted on a restored backup (or an empty folder).
 * While a problem stands, what the service hears of Stash is held in memory, never acknowledged
 * as stored (the webhook answers 503/507), and queued once the database works again.
 */
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import type { Job } from "../jobs.ts";
import type { Logger } from "../log.ts";

export type DatabaseProblemKind = "full" | "read-only" | "damaged" | "failed";

export interface DatabaseProblem {
  kind: DatabaseProblemKind;
  /** What happened and what to do, in one line. */
  message: string;
  since: number;
}

const KIND_OF: Record<string, DatabaseProblemKind> = {
  FULL: "full",
  READONLY: "read-only",
  CANTOPEN: "read-only",
  PERM: "read-only",
  CORRUPT: "damaged",
  NOTADB: "damaged",
  IOERR: "failed",
};

/** The problem a SQLite error shows, or undefined for errors that are no trouble of the database (a constraint, busy). */
export function problemKindOf(error: unknown): DatabaseProblemKind | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  const base = typeof code === "string" ? /^SQLITE_([A-Z]+)/.exec(code)?.[1] : undefined;
  return base ? KIND_OF[base] : undefined;
}

const messageOf = (kind: DatabaseProblemKind, path: string, detail: string) => {
  switch (kind) {
    case "full":
      return `the disk holding the database (${path}) is full: changes are held in memory, not stored; free some space and they are stored`;
    case "read-only":
      return `the database (${path}) cannot be written (${detail}): changes are held in memory; make the data folder writable again`;
    case "damaged":
      return `the database (${path}) is damaged (${detail}): stop the service and restore the newest backup (stash2plex restore), or move the file aside to start empty; no change made in Stash is lost either way`;
    case "failed":
      return `the database (${path}) failed (${detail}): changes are held in memory; see the service log and the disk`;
  }
};

export function createDatabaseHealth(deps: { db: Database; path: string; log: Logger; now?: () => number }) {
  const now = deps.now ?? Date.now;
  let problem: DatabaseProblem | null = null;
  const healed = new Set<() => void>();
  const wal = `${deps.path}-wal`;
  const watchesWal = deps.path !== ":memory:";

  function report(error: unknown): void {
    const kind = problemKindOf(error);
    if (!kind) return;
    // Damage outranks the rest and stays; another kind replaces a milder one.
    if (problem && (problem.kind === "damaged" || problem.kind === kind)) return;
    problem = { kind, message: messageOf(kind, deps.path, (error as Error).message), since: now() };
    deps.log.error(problem.message);
  }

  /** A new WAL after it was deleted: what it held goes into the database first. */
  function repairWal(): void {
    deps.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    deps.db.exec("PRAGMA journal_mode = DELETE");
    deps.db.exec("PRAGMA journal_mode = WAL");
    deps.log.warn(
      `the database's WAL file (${wal}) was deleted while the service ran: what it held was written into the database and a new one made; nothing was lost`,
    );
  }

  /** Looks now: the WAL file, and a tiny write. Returns the problem standing after the look. */
  function check(write: () => void): DatabaseProblem | null {
    try {
      if (watchesWal && !existsSync(wal)) repairWal();
      write();
      if (problem && problem.kind !== "damaged") {
        deps.log.info("the database works again: what was held in memory is stored now");
        problem = null;
        for (const fn of healed) fn();
      }
    } catch (err) {
      report(err);
      if (!problemKindOf(err)) throw err;
    }
    return problem;
  }

  return {
    report,
    check,
    problem: (): DatabaseProblem | null => problem,
    /** Called each time a problem clears (held changes are stored then). */
    onHealed(fn: () => void) {
      healed.add(fn);
    },
  };
}
export type DatabaseHealth = ReturnType<typeof createDatabaseHealth>;

/**
 * Makes every statement of `db` report its SQLite errors (then throw them as before), so a
 * damaged page met by any query is known at once, whoever ran it.
 */
export function reportErrors(db: Database, report: (error: unknown) => void): void {
  /** Replaces `owner[method]` by a call that reports an error before throwing it on. */
  const reporting = (owner: object, method: string, after: (result: unknown) => unknown = (r) => r) => {
    const target = owner as Record<string, (...args: unknown[]) => unknown>;
    const original = target[method]!.bind(owner);
    target[method] = (...args: unknown[]) => {
      try {
        return after(original(...args));
      } catch (err) {
        report(err);
        throw err;
      }
    };
  };
  const wrapped = new WeakSet<object>();
  const watch = (statement: unknown) => {
    const st = statement as object;
    if (!wrapped.has(st)) {
      wrapped.add(st);
      for (const method of ["run", "get", "all", "values"]) reporting(st, method);
    }
    return st;
  };
  // query and prepare: each statement they give reports its own errors (prepare errors too).
  for (const method of ["query", "prepare"]) reporting(db, method, watch);
  for (const method of ["run", "exec"]) reporting(db, method);
}

/** The look every 30 s, so a problem is found, a deleted WAL repaired and held changes stored without anyone asking. */
export const databaseCheckJob = (store: { health: DatabaseHealth; writable(): boolean }): Job => ({
  id: "database",
  name: "Check the database (a tiny write, its WAL file)",
  everySeconds: 30,
  run: async () => {
    const problem = store.health.check(() => store.writable());
    if (problem) throw new Error(problem.message);
  },
});
