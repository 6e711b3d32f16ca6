/**
 * The admin surface's browser defences, in one plugin: security headers on every dashboard
 * and API answer, and cross-site requests refused. Another web app on the same host (another
 * port is the same *site*, so SameSite=Strict cookies go along) must not be able to make a
 * signed-in browser push, heal, requeue or sign out. A state-changing request to /ui or /api
 * passes when it carries the admin token as a bearer token (a browser cannot be made to add
 * that header cross-site), or when the browser says it comes from our own page: Sec-Fetch-Site
 * `same-origin`, and an Origin equal to the Host it was sent to or to PUBLIC_URL (behind a
 * reverse proxy). Plex's provider routes, the Stash webhook and health stay as they are.
 */
import { Elysia } from "elysia";
import { errorBody, requestPath } from "../http.ts";
import type { Access } from "./access.ts";

/** Fits the pages: our own script (htmx) and stylesheet, no inline script or style, no framing. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
};

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const guarded = (path: string) =>
  path === "/ui" || path.startsWith("/ui/") || path === "/api" || path.startsWith("/api/");

export interface RequestFacts {
  method: string;
  path: string;
  host: string | null;
  origin: string | null;
  secFetchSite: string | null;
  forwardedProto: string | null;
  /** Authenticated by `Authorization: Bearer <admin token>`. */
  bearer: boolean;
  /** Carries our session cookie. */
  cookie: boolean;
}

/** Why a request is refused as cross-site, or undefined when it may go on (pure). */
export function crossSiteRefusal(r: RequestFacts, publicOrigin: string | undefined): string | undefined {
  if (!STATE_CHANGING.has(r.method.toUpperCase()) || !guarded(r.path) || r.bearer) return undefined;
  const site = r.secFetchSite?.toLowerCase();
  if (site && site !== "same-origin" && site !== "none")
    return `the browser says this request comes from another site (${site.slice(0, 20)})`;
  if (r.origin !== null) {
    const own = new Set<string>();
    if (r.host) {
      own.add(`http://${r.host}`.toLowerCase());
      if (r.forwardedProto?.toLowerCase() === "https") own.add(`https://${r.host}`.toLowerCase());
    }
    if (publicOrigin) own.add(publicOrigin.toLowerCase());
    if (!own.has(r.origin.toLowerCase()))
      return "it comes from a page of another origin (behind a reverse proxy, set PUBLIC_URL to the address you open)";
    return undefined;
  }
  // Browsers send Origin with every POST: a session cookie without one is not our page's form.
  if (r.cookie) return "a browser request without an Origin header";
  return undefined;
}

/** What the read-only token may ask: one scene's state, and the browser's preflight for it. */
export const readOnlyRoute = (method: string, path: string) =>
  (method === "GET" || method === "OPTIONS") && /^\/api\/scene-status(\/[^/]+)?$/.test(path);

const originOf = (url: string | undefined) => {
  try {
    return url ? new URL(url).origin : undefined;
  } catch {
    return undefined;
  }
};

export const adminGuard = (options: {
  access: Access;
  publicUrl?: string;
  log: { warn(msg: string, fields?: Record<string, unknown>): void };
}) => {
  const publicOrigin = originOf(options.publicUrl);
  return new Elysia({ name: "admin-guard" }).onRequest(({ request, set }) => {
    const path = requestPath(request);
    if (guarded(path)) Object.assign(set.headers, SECURITY_HEADERS);
    const h = request.headers;
    // The scene panel's token reads one scene's state; anything else it is sent with is refused.
    if (options.access.isReadToken(h) && !readOnlyRoute(String(request.method), path))
      return Response.json(
        errorBody(
          403,
          "read_only_token",
          "the read-only token reads a scene's state in Plex (GET /api/scene-status/{id}) and nothing else",
        ),
        { status: 403, headers: SECURITY_HEADERS },
      );
    const why = crossSiteRefusal(
      {
        method: String(request.method),
        path,
        host: h.get("host"),
        origin: h.get("origin"),
        secFetchSite: h.get("sec-fetch-site"),
        forwardedProto: h.get("x-forwarded-proto"),
        bearer: options.access.isBearer(h),
        cookie: options.access.hasSessionCookie(h),
      },
      publicOrigin,
    );
    if (!why) return;
    options.log.warn("cross-site request refused", { path, origin: (h.get("origin") ?? "").slice(0, 100) });
    return Response.json(
      errorBody(
        403,
        "cross_site",
        `refused: ${why}; use the dashboard itself, or send the admin token as 'Authorization: Bearer'`,
      ),
      {
        status: 403,
        headers: SECURITY_HEADERS,
      },
    );
  });
};
