/**
 * The one token check for every gated route: `Authorization: Bearer <token>` (nothing else
 * counts), compared in constant time. Used from a route's body parser, so a request without
 * the token is refused before its body is read.
 */
import { timingSafeEqual } from "node:crypto";
import { HttpError } from "../http.ts";

export function tokenMatches(expected: string, given: string | undefined | null): boolean {
  if (!expected || !given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer …` header, or undefined. */
export const bearer = (authorization: string | null | undefined) =>
  /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];

/** Throws 401 unless the request carries `expected` as its bearer token. */
export function requireToken(expected: string, authorization: string | null | undefined, what: string): void {
  if (!tokenMatches(expected, bearer(authorization))) {
    throw new HttpError(401, "bad_token", `${what} needs the webhook token as 'Authorization: Bearer <token>'`);
  }
}
