/**
 * Who may do what. The admin token (ADMIN_TOKEN, or generated on first start into the data
 * folder) opens the dashboard and every action; reads too unless ADMIN_OPEN_READS. API
 * clients send `Authorization: Bearer`. The dashboard's sign-in opens a server-side session
 * (src/store/sessions.ts) whose random id is the cookie (HttpOnly, SameSite=Strict): sign-out,
 * "sign out everywhere", expiry and a new admin token end it. Sign-in is throttled per client
 * address, and every wrong token is logged with that address (never with what was typed).
 * The webhook token opens the webhook only. Comparisons are constant-time.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HttpError } from "../http.ts";
import type { Logger } from "../log.ts";
import type { Session, Sessions } from "../store/sessions.ts";
import type { Throttle } from "./throttle.ts";
import { bearer, tokenMatches } from "./token.ts";

export const SESSION_COOKIE = "s2p_session";

/** The admin token: configured, else the one kept in the data folder, else a new one written there. */
export function resolveAdminToken(
  configured: string,
  dataDir: string,
): { token: string; generated: boolean; file?: string } {
  if (configured) return { token: configured, generated: false };
  if (dataDir === ":memory:") return { token: randomBytes(24).toString("base64url"), generated: true };
  const file = join(dataDir, "admin-token");
  if (existsSync(file)) {
    const kept = readFileSync(file, "utf8").trim();
    if (kept) return { token: kept, generated: false, file };
  }
  const token = randomBytes(24).toString("base64url");
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, generated: true, file };
}

export const cookieOf = (header: string | null | undefined, name: string) =>
  header
    ?.split(";")
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${name}=`))
    ?.slice(name.length + 1);

/** Who is signing in, for the throttle, the log and the sessions list. */
export interface Client {
  address: string;
  userAgent: string;
  /** The browser reached us over https (the cookie is then marked Secure). */
  secure: boolean;
}

export type SignIn =
  | { ok: true; cookie: string }
  | { ok: false; status: 401 }
  | { ok: false; status: 429; retryAfter: number };

export interface AccessOptions {
  token: string;
  /** The read-only token of the Stash plugin's scene panel ("": none). */
  readToken?: string;
  openReads: boolean;
  sessions: Sessions;
  throttle: Throttle;
  log: Pick<Logger, "warn" | "info">;
}

export function createAccess(options: AccessOptions) {
  const { sessions, throttle, log } = options;
  const isBearer = (headers: Headers) => tokenMatches(options.token, bearer(headers.get("authorization")));
  const sessionOf = (headers: Headers): Session | undefined =>
    sessions.find(cookieOf(headers.get("cookie"), SESSION_COOKIE));
  const signedIn = (headers: Headers) => isBearer(headers) || sessionOf(headers) !== undefined;
  const cookie = (value: string, maxAgeSeconds: number, secure: boolean) =>
    `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSeconds}${secure ? "; Secure" : ""}`;
  const readToken = options.readToken ?? "";
  return {
    openReads: options.openReads,
    /** The request carries the scene panel's read-only token (it may read a scene's state, nothing else). */
    isReadToken: (headers: Headers) =>
      readToken !== "" && tokenMatches(readToken, bearer(headers.get("authorization"))),
    /** The request carries the admin token as a bearer token (not a cookie: not forgeable cross-site). */
    isBearer,
    /** Bearer admin token or a live dashboard session. */
    isAdmin: signedIn,
    /** The live session of the request's cookie, if any. */
    session: sessionOf,
    /** Whether the request carries our session cookie at all (live or not). */
    hasSessionCookie: (headers: Headers) => cookieOf(headers.get("cookie"), SESSION_COOKIE) !== undefined,
    canRead: (headers: Headers) => options.openReads || signedIn(headers),
    requireAdmin(headers: Headers, what = "this action"): void {
      if (!signedIn(headers))
        throw new HttpError(
          401,
          "admin_token",
          `${what} needs the admin token: 'Authorization: Bearer <ADMIN_TOKEN>', or sign in at /ui`,
        );
    },
    requireRead(headers: Headers): void {
      if (!options.openReads && !signedIn(headers)) {
        throw new HttpError(
          401,
          "admin_token",
          "reading this needs the admin token ('Authorization: Bearer <ADMIN_TOKEN>', or sign in at /ui), or ADMIN_OPEN_READS=true",
        );
      }
    },
    /** The sign-in form: throttled per client; a right token opens a session. */
    signIn(given: string, client: Client): SignIn {
      const wait = throttle.retryAfter(client.address);
      if (wait > 0) {
        log.warn("sign-in refused: too many wrong admin tokens from this client", {
          client: client.address,
          retryAfterSeconds: wait,
        });
        return { ok: false, status: 429, retryAfter: wait };
      }
      if (!tokenMatches(options.token, given)) {
        const failures = throttle.failed(client.address);
        log.warn("sign-in failed: wrong admin token", { client: client.address, failuresInWindow: failures });
        return { ok: false, status: 401 };
      }
      throttle.succeeded(client.address);
      const id = sessions.open(client);
      log.info("signed in to the dashboard", { client: client.address });
      return { ok: true, cookie: cookie(id, Math.floor(sessions.lifetimeMs / 1000), client.secure) };
    },
    /** Ends the request's session; returns the cookie that clears it in the browser. */
    signOut(headers: Headers): string {
      sessions.end(cookieOf(headers.get("cookie"), SESSION_COOKIE));
      return cookie("", 0, false);
    },
    /** Ends every session, this one included. */
    signOutEverywhere: () => sessions.endAll(),
    sessions: () => sessions.list(),
  };
}
export type Access = ReturnType<typeof createAccess>;
