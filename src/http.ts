/**
 * HTTP plumbing shared by every route: one JSON error shape, a log line per request with
 * its timing, and nothing secret in either. Routes throw HttpError (or let a StashError or
 * a database error through) and this maps it; an unexpected error is a 500 whose detail
 * stays in the log. Nothing here may throw: the hooks read only what a malformed request
 * still has (a request without a Host header has no parseable URL), and the server's own
 * last-resort handler answers JSON too, never Bun's development page.
 */
import { Elysia } from "elysia";
import type { Logger } from "./log.ts";
import { isStashError } from "./stash/errors.ts";
import { databaseTrouble } from "./store/trouble.ts";
import { sceneOfRequest } from "./request-scene.ts";
import { addressMatcher, unmapped } from "./net.ts";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export const errorBody = (status: number, code: string, message: string) => ({ error: { status, code, message } });

/** The path of a request, from the raw URL text (never `new URL`, which throws on a relative one). */
export function requestPath(request: Request): string {
  const url = typeof request?.url === "string" ? request.url : "";
  const path = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, "").split(/[?#]/, 1)[0] || "/";
  return path.length > 120 ? `${path.slice(0, 120)}…` : path;
}

function validationMessage(error: unknown): string {
  // Field and rule only: the value sent is never echoed back.
  const e = error as { valueError?: { path?: string; message?: string } };
  const field = e.valueError?.path?.replace(/^\//, "").replaceAll("/", ".").slice(0, 80);
  if (field) return `${field}: ${e.valueError?.message?.toLowerCase().slice(0, 120) ?? "invalid"}`;
  return "the request does not match what this endpoint accepts";
}

/** Maps any error to the one JSON error shape; `redact` cleans what came from upstream. */
export function errorAnswer(
  error: unknown,
  code: string | number,
  method: string,
  path: string,
  redact: (s: string) => string,
): { body: ReturnType<typeof errorBody>; retryAfter?: number } | undefined {
  // Elysia wraps what a body parser throws in a ParseError; ours says what is wrong.
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  if (cause instanceof HttpError) error = cause;
  if (error instanceof HttpError)
    return { body: errorBody(error.status, error.code, redact(error.message)), retryAfter: error.retryAfter };
  // Stash trouble of any kind is transient until proven otherwise: PMS keeps what it has and asks again.
  if (isStashError(error)) return { body: errorBody(503, "stash_unavailable", redact(error.message)), retryAfter: 30 };
  const db = databaseTrouble(error);
  if (db) return { body: errorBody(db.status, "database", db.message), retryAfter: 60 };
  if (code === "VALIDATION") return { body: errorBody(400, "bad_request", validationMessage(error)) };
  if (code === "PARSE") return { body: errorBody(400, "bad_request", "the request body is not valid JSON") };
  if (code === "NOT_FOUND")
    return { body: errorBody(404, "not_found", `no route for ${method.slice(0, 16)} ${redact(path)}`) };
  return undefined;
}

/** The address each request came from, noted by the server's fetch (Elysia's context lacks it). */
const clients = new WeakMap<Request, string>();
export function noteClient(
  request: Request,
  server: { requestIP(r: Request): { address: string } | null } | undefined,
): Request {
  const address = server?.requestIP(request)?.address;
  if (address) clients.set(request, address);
  return request;
}
/**
 * The client a request comes from (pure): the TCP peer, unless the peer is a trusted reverse
 * proxy; then the rightmost X-Forwarded-For entry that is not a trusted proxy (each proxy
 * appends the address it was reached from, so entries left of it could be made up).
 */
export function forwardedClient(
  peer: string,
  forwardedFor: string | null,
  isTrusted: (address: string) => boolean,
): string {
  if (!forwardedFor || !isTrusted(peer)) return unmapped(peer);
  const hops = forwardedFor
    .split(",")
    .map((h) => h.trim())
    .filter(Boolean);
  const client = hops.findLast((h) => !isTrusted(h)) ?? hops[0] ?? peer;
  return unmapped(client).slice(0, 64);
}

/**
 * Who sent requests, given the trusted reverse proxies (addresses or ranges): the TCP peer, or
 * behind a trusted proxy the client it forwarded; "unknown" when the server did not say.
 */
export function clientAddresses(trustedProxies: readonly string[] = []) {
  const isTrusted = addressMatcher(trustedProxies);
  return (request: Request) => {
    const peer = clients.get(request);
    return peer ? forwardedClient(peer, request.headers.get("x-forwarded-for"), isTrusted) : "unknown";
  };
}

/**
 * The status the client got. A handler that returns a Response (a redirect's 303, a page's 401)
 * leaves `set.status` at its default 200, so the Response's own status wins.
 */
export function answeredStatus(setStatus: unknown, responseValue: unknown): number {
  if (responseValue instanceof Response) return responseValue.status;
  return typeof setStatus === "number" ? setStatus : 200;
}

/** Told of every answered request: its route template (not the raw path), status and duration. */
export type RequestObserver = (route: string, status: number, seconds: number) => void;

/** An HTML answer for an error on a page a person reads (the dashboard's), before the JSON one. */
export type ErrorPage = (error: unknown, request: Request) => Response | undefined;

export const httpBasics = (log: Logger, observe?: RequestObserver, errorPage?: ErrorPage) => {
  // Set in onRequest, which runs for every request (a derive does not run for an unknown route).
  const startedAt = new WeakMap<Request, number>();
  // Requests that got past the onRequest hooks: routed (transform ran) or failed (a 404 too).
  const routed = new WeakSet<Request>();
  const record = (request: Request, route: string, status: number, fields: Record<string, unknown> = {}) => {
    try {
      const path = requestPath(request);
      const seconds = (performance.now() - (startedAt.get(request) ?? performance.now())) / 1000;
      observe?.(route, status, seconds);
      // Health probes come every few seconds from the container runtime: keep them out of the info log.
      const level = path === "/healthz" || path === "/readyz" ? "debug" : "info";
      log[level]("request", {
        method: String(request.method).slice(0, 16),
        path,
        status,
        ms: Math.round(seconds * 10_000) / 10,
        ...fields,
      });
    } catch {
      // A log line is never worth the process.
    }
  };
  return (
    new Elysia({ name: "http-basics" })
      .onRequest(({ request }) => void startedAt.set(request, performance.now()))
      .onTransform({ as: "global" }, ({ request }) => void routed.add(request))
      // An answer from an onRequest hook (the dashboard's redirect of "/" to /ui, its 401 to an
      // action after sign-out) skips every later hook, afterResponse included: it is logged here.
      .wrap((handle: Function) => async (request: Request, ...rest: unknown[]) => {
        const response = await handle(request, ...rest);
        if (!routed.has(request) && response instanceof Response) record(request, "unmatched", response.status);
        return response;
      })
      .onAfterResponse({ as: "global" }, (ctx) => {
        const c = ctx as typeof ctx & { route?: string; params?: unknown; body?: unknown; responseValue?: unknown };
        // The scene the request is about, so every line about a scene carries it.
        record(
          c.request,
          c.route || "unmatched",
          answeredStatus(c.set.status, c.responseValue),
          sceneOfRequest(c.route, c.params, c.body),
        );
      })
      .onError({ as: "global" }, (ctx) => {
        const { code, error, set, request } = ctx;
        routed.add(request);
        const path = requestPath(request);
        const page = errorPage?.(error, request);
        if (page) return page;
        const mapped = errorAnswer(error, code, String(request?.method ?? "?"), path, log.redact);
        if (mapped) {
          set.status = mapped.body.error.status;
          if (mapped.retryAfter) set.headers["retry-after"] = String(mapped.retryAfter);
          return mapped.body;
        }
        const scene = sceneOfRequest(
          (ctx as { route?: string }).route,
          (ctx as { params?: unknown }).params,
          (ctx as { body?: unknown }).body,
        );
        log.error("request failed", { path, ...scene, error: error instanceof Error ? error.message : String(error) });
        set.status = 500;
        return errorBody(500, "internal", "something went wrong on our side; see the service log");
      })
  );
};

/**
 * Options for Bun.serve: production error output whatever NODE_ENV says, a JSON last resort
 * for anything that escapes Elysia, and a hard cap on request bodies (routes set lower ones).
 */
export const serverOptions = (log: Logger) => ({
  development: false,
  // Bun turns SO_REUSEPORT on when development is false: a second process on the same port
  // then "listens" beside the first (the kernel splits connections) instead of failing with
  // EADDRINUSE. One service per port: off.
  reusePort: false,
  maxRequestBodySize: 4 * 1024 * 1024,
  error(err: Error) {
    log.error("request failed outside the routes", { error: err?.message ?? String(err) });
    return Response.json(errorBody(500, "internal", "something went wrong on our side; see the service log"), {
      status: 500,
    });
  },
});
