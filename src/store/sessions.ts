/**
 * Dashboard sessions: the one module that reads and writes the `sessions` table. A browser
 * holds a random id (256 bits) in its cookie; the database keeps only its SHA-256, so a copy
 * of the database opens no session. Sessions survive restarts and end by sign-out, by
 * "sign out everywhere", by expiry (30 days after sign-in, or sooner when unused for the idle
 * time: a browser forgotten somewhere does not stay signed in for a month), and when the admin
 * token changes (a salted HMAC of the token is kept beside them: a start with another token
 * ends them all). The HMAC is cheap on
 * purpose (start-up stays fast, no scrypt buffer in the RSS): the token is at least 16
 * characters, and whoever holds the data folder holds a generated token's file anyway.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Store } from "./db.ts";

export interface Session {
  /** SHA-256 of the cookie's id (hex): names a session in pages without revealing it. */
  key: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  address: string;
  userAgent: string;
}

interface Row {
  id_hash: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  address: string;
  user_agent: string;
}

export interface SessionOptions {
  /** Lifetime of a session from sign-in. */
  lifetimeMs?: number;
  /** A session unused this long ends (an open dashboard is never idle: its live parts ask every second). */
  idleMs?: number;
  now?: () => number;
}

export const SESSION_LIFETIME_MS = 30 * 86_400_000;
export const SESSION_IDLE_MS = 7 * 86_400_000;
/** "Last seen" is written at most this often: the live fragments ask every second. */
const TOUCH_EVERY_MS = 60_000;
const FINGERPRINT_KEY = "sessions.token-fingerprint";

const hashId = (id: string) => createHash("sha256").update(id).digest("hex");
const toSession = (r: Row): Session => ({
  key: r.id_hash,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  expiresAt: r.expires_at,
  address: r.address,
  userAgent: r.user_agent,
});

const fingerprint = (token: string, salt: Buffer) => createHmac("sha256", salt).update(token).digest();

/** Whether `token` is the one `stored` (salt:hash) was made from. */
function sameToken(stored: string | undefined, token: string): boolean {
  const [salt, hash] = (stored ?? "").split(":");
  if (!salt || !hash) return false;
  const again = fingerprint(token, Buffer.from(salt, "hex"));
  const before = Buffer.from(hash, "hex");
  return before.length === again.length && timingSafeEqual(before, again);
}

export function createSessions(store: Store, adminToken: string, options: SessionOptions = {}) {
  const now = options.now ?? Date.now;
  const lifetime = options.lifetimeMs ?? SESSION_LIFETIME_MS;
  // Never below a few minutes: "last seen" is only written every TOUCH_EVERY_MS.
  const idle = Math.max(options.idleMs ?? SESSION_IDLE_MS, 5 * TOUCH_EVERY_MS);
  const db = store.db;
  // Another admin token than the one these sessions were opened with: every one of them ends.
  if (!sameToken(store.meta.get(FINGERPRINT_KEY), adminToken)) {
    const salt = randomBytes(16);
    db.transaction(() => {
      db.run("DELETE FROM sessions");
      store.meta.set(FINGERPRINT_KEY, `${salt.toString("hex")}:${fingerprint(adminToken, salt).toString("hex")}`);
    })();
  }
  const insert = db.query(
    "INSERT INTO sessions (id_hash, created_at, last_seen_at, expires_at, address, user_agent) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const byHash = db.query<Row, [string]>("SELECT * FROM sessions WHERE id_hash = ?");
  const touch = db.query("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?");
  const remove = db.query("DELETE FROM sessions WHERE id_hash = ?");
  const expired = db.query("DELETE FROM sessions WHERE expires_at <= ?");
  const all = db.query<Row, [number, number]>(
    "SELECT * FROM sessions WHERE expires_at > ? AND last_seen_at >= ? ORDER BY last_seen_at DESC LIMIT 200",
  );

  return {
    lifetimeMs: lifetime,
    idleMs: idle,
    /** Opens a session; the returned id goes into the cookie and is never stored. */
    open(client: { address: string; userAgent: string }): string {
      const id = randomBytes(32).toString("base64url");
      const at = now();
      expired.run(at);
      insert.run(hashId(id), at, at, at + lifetime, client.address.slice(0, 64), client.userAgent.slice(0, 200));
      return id;
    },
    /** The live session of a cookie id, or undefined (unknown, ended or expired). */
    find(id: string | undefined): Session | undefined {
      if (!id || id.length > 100) return undefined;
      const row = byHash.get(hashId(id));
      if (!row) return undefined;
      const at = now();
      if (row.expires_at <= at || at - row.last_seen_at > idle) {
        remove.run(row.id_hash);
        return undefined;
      }
      if (at - row.last_seen_at > TOUCH_EVERY_MS) {
        touch.run(at, row.id_hash);
        row.last_seen_at = at;
      }
      return toSession(row);
    },
    /** Ends one session (sign-out). */
    end: (id: string | undefined) => void (id && remove.run(hashId(id))),
    /** Ends every session ("sign out everywhere"); returns how many there were. */
    endAll: () => db.run("DELETE FROM sessions").changes,
    /** The live sessions, most recently seen first. */
    list: (): Session[] => {
      const at = now();
      return all.all(at, at - idle).map(toSession);
    },
  };
}
export type Sessions = ReturnType<typeof createSessions>;
