/**
 * HTTP plumbing shared by every route: one JSON error shape, a log line per request with
 * its timing, and nothing secret in either. Routes throw HttpError (or let a StashError
 * through) and this maps it; an unexpected error is a 500 whose detail stays in the log.
 */
import { Elysia } from "elysia";
import type { Logger } from "./log.ts";
import { isStashError } from "./stash/errors.ts";

export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export const errorBody = (status: number, code: string, message: string) => ({ error: { status, code, message } });

function validationMessage(error: unknown): string {
  const e = error as { valueError?: { path?: string; message?: string }; message?: string };
  const field = e.valueError?.path?.replace(/^\//, "").replaceAll("/", ".");
  if (field) return `${field}: ${e.valueError?.message?.toLowerCase() ?? "invalid"}`;
  return "the request does not match what this endpoint accepts";
}

export const httpBasics = (log: Logger) =>
  new Elysia({ name: "http-basics" })
    .derive({ as: "global" }, () => ({ startedAt: performance.now() }))
    .onAfterResponse({ as: "global" }, ({ request, set, startedAt }) => {
      const path = new URL(request.url).pathname;
      // Health probes come every few seconds from the container runtime: keep them out of the info log.
      const level = path === "/healthz" || path === "/readyz" ? "debug" : "info";
      log[level]("request", {
        method: request.method,
        path,
        status: set.status ?? 200,
        ms: startedAt === undefined ? undefined : Math.round((performance.now() - startedAt) * 10) / 10,
      });
    })
    .onError({ as: "global" }, ({ code, error, set, request }) => {
      if (error instanceof HttpError) {
        set.status = error.status;
        return errorBody(error.status, error.code, error.message);
      }
      if (isStashError(error, "unavailable") || isStashError(error, "unauthorised")) {
        set.status = 503;
        set.headers["retry-after"] = "30";
        return errorBody(503, "stash_unavailable", error.message);
      }
      if (code === "VALIDATION") {
        set.status = 400;
        return errorBody(400, "bad_request", validationMessage(error));
      }
      if (code === "PARSE") {
        set.status = 400;
        return errorBody(400, "bad_request", "the request body is not valid JSON");
      }
      if (code === "NOT_FOUND") {
        set.status = 404;
        return errorBody(404, "not_found", `no route for ${request.method} ${new URL(request.url).pathname}`);
      }
      log.error("request failed", { path: new URL(request.url).pathname, error: error instanceof Error ? error.message : String(error) });
      set.status = 500;
      return errorBody(500, "internal", "something went wrong on our side; see the service log");
    });
