/**
 * The last requests PMS made to the providers, kept in memory for `stash2plex probe`: what a real
 * PMS sends (path, query, headers) is known nowhere else, and only the running service sees it.
 * Every Stash instance's movie and TV provider is covered (their paths, not their plugins, say
 * what is a provider request: the hook sits in front of all routes). Secrets are masked when a
 * request is recorded, never later: a header or query parameter named like a credential keeps its
 * name and loses its value, and the configured secrets are redacted from everything else.
 */
import { Elysia } from "elysia";
import { answeredStatus, requestPath } from "../http.ts";
import type { Redact } from "../redact.ts";

export interface ProviderRequest {
  /** Increasing from 1: a reader asks for what came after the last one it saw (no clocks compared). */
  id: number;
  /** When it arrived, ms since the epoch. */
  at: number;
  method: string;
  path: string;
  query: [string, string][];
  headers: [string, string][];
  /** The answer's status; absent until it has gone out (or when another hook answered first). */
  status?: number;
}

export const MASKED = "[masked]";
/** Names of headers and parameters whose values are credentials (X-Plex-Token among them). */
const SECRET_NAME = /token|key|auth|cookie|passw|secret/i;
const MAX_VALUE = 300;
const MAX_FIELDS = 60;
const DEFAULT_SIZE = 200;

/**
 * Whether a path is one a provider serves: below an instance's path (`/instances/<id>`) and its
 * TV path (`/tv`), the root (discovery), `/library/…` or `/images/…`.
 */
export function isProviderPath(path: string): boolean {
  const rest = path.replace(/^\/instances\/[a-z][a-z0-9]{0,31}(?=\/|$)/, "").replace(/^\/tv(?=\/|$)/, "");
  return rest === "" || rest === "/" || /^\/(library|images)(\/|$)/.test(rest);
}

/** A name and its value as they may be kept: masked when the name says it is a credential. */
const field = (name: string, value: string, redact: Redact): [string, string] => [
  name.slice(0, 100),
  SECRET_NAME.test(name) ? MASKED : redact(value).slice(0, MAX_VALUE),
];

export function createRequestLog(options: { redact: Redact; size?: number }) {
  const size = options.size ?? DEFAULT_SIZE;
  const kept: ProviderRequest[] = [];
  const pending = new WeakMap<Request, ProviderRequest>();
  let latest = 0;

  function record(request: Request): ProviderRequest {
    const raw = typeof request.url === "string" ? request.url : "";
    const search = raw.split("#", 1)[0]!.split("?").slice(1).join("?");
    const entry: ProviderRequest = {
      id: ++latest,
      at: Date.now(),
      method: String(request.method).slice(0, 16),
      path: options.redact(requestPath(request)),
      query: [...new URLSearchParams(search)].slice(0, MAX_FIELDS).map(([k, v]) => field(k, v, options.redact)),
      headers: [...request.headers].slice(0, MAX_FIELDS).map(([k, v]) => field(k, v, options.redact)),
    };
    kept.push(entry);
    if (kept.length > size) kept.shift();
    return entry;
  }

  const plugin = new Elysia({ name: "provider-request-log" })
    .onRequest(({ request }) => {
      try {
        if (isProviderPath(requestPath(request))) pending.set(request, record(request));
      } catch {
        // Recording is never worth a request.
      }
    })
    .onAfterResponse({ as: "global" }, (ctx) => {
      const entry = pending.get(ctx.request);
      if (entry) entry.status = answeredStatus(ctx.set.status, (ctx as { responseValue?: unknown }).responseValue);
    });

  return {
    plugin,
    /** The requests after `afterId` (oldest first) and the id of the newest one recorded. */
    since: (afterId: number) => ({ latest, requests: kept.filter((r) => r.id > afterId) }),
  };
}
export type RequestLog = ReturnType<typeof createRequestLog>;
