/**
 * Who may do what. The admin token (ADMIN_TOKEN, or generated on first start into the data
 * folder) opens the dashboard and every action; reads too unless ADMIN_OPEN_READS. The
 * dashboard's sign-in sets a session cookie derived from the token (HttpOnly, SameSite=Strict),
 * so changing the token signs every browser out. API clients send `Authorization: Bearer`.
 * The webhook token opens the webhook only. Comparisons are constant-time.
 */
import { createHmac, randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HttpError } from "../http.ts";
import { bearer, tokenMatches } from "./token.ts";

export const SESSION_COOKIE = "s2p_session";
const SESSION_DAYS = 30;

/** The admin token: configured, else the one kept in the data folder, else a new one written there. */
export function resolveAdminToken(configured: string, dataDir: string): { token: string; generated: boolean; file?: string } {
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

const cookieOf = (header: string | null | undefined, name: string) =>
  header?.split(";").map((c) => c.trim()).find((c) => c.startsWith(`${name}=`))?.slice(name.length + 1);

export function createAccess(options: { token: string; openReads: boolean }) {
  const session = createHmac("sha256", options.token).update("stash2plex dashboard session v1").digest("base64url");
  const signedIn = (headers: Headers) =>
    tokenMatches(options.token, bearer(headers.get("authorization"))) || tokenMatches(session, cookieOf(headers.get("cookie"), SESSION_COOKIE));
  return {
    openReads: options.openReads,
    /** Bearer admin token or the dashboard's session cookie. */
    isAdmin: signedIn,
    canRead: (headers: Headers) => options.openReads || signedIn(headers),
    requireAdmin(headers: Headers, what = "this action"): void {
      if (!signedIn(headers)) throw new HttpError(401, "admin_token", `${what} needs the admin token: 'Authorization: Bearer <ADMIN_TOKEN>', or sign in at /ui`);
    },
    requireRead(headers: Headers): void {
      if (!options.openReads && !signedIn(headers)) {
        throw new HttpError(401, "admin_token", "reading this needs the admin token ('Authorization: Bearer <ADMIN_TOKEN>', or sign in at /ui), or ADMIN_OPEN_READS=true");
      }
    },
    /** Whether a typed token is the admin token (the sign-in form). */
    tokenIs: (given: string) => tokenMatches(options.token, given),
    sessionCookie: () => `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_DAYS * 86400}`,
    signOutCookie: () => `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`,
  };
}
export type Access = ReturnType<typeof createAccess>;
