/**
 * Health: `/healthz` says the process answers (and costs nothing); `/readyz` says whether each
 * part it needs works, naming the one that fails. `/readyz` is open to anyone on the network,
 * so its answer is kept for a few seconds and concurrent calls share one check: calling it in
 * a loop does not turn into Stash, Plex and database traffic. Anyone sees only ok or not per
 * part; the details (database path, versions, upstream errors) need the admin token.
 */
import { Elysia } from "elysia";
import type { StashClient } from "../stash/client.ts";
import { VERSION } from "../version.ts";

export interface Check {
  ok: boolean;
  detail?: string;
}

export interface HealthDeps {
  stash: Pick<StashClient, "version">;
  extraChecks?: Record<string, () => Promise<Check>>;
}

/**
 * The part naming an instance's Stash in /readyz: `stash` for the default (as before), `stash:<id>`
 * for each other instance, so the one that is down is named and the others stay ok.
 */
export const stashCheckName = (instance: { id: string; isDefault: boolean }) =>
  instance.isDefault ? "stash" : `stash:${instance.id}`;

const READY_TTL_MS = 5000;

export type Readiness = () => Promise<{ ok: boolean; checks: Record<string, Check> }>;

/**
 * One check shared by every caller: asked at most once per READY_TTL_MS and never twice at once,
 * its detail redacted. /readyz, the dashboard and /metrics ask as often as they like without
 * turning it into Stash, Plex and database traffic, and a hanging upstream is one call in flight.
 */
function sharedCheck(run: () => Promise<Check>, redact: (s: string) => string): () => Promise<Check> {
  let last: { at: number; settled: boolean; result: Promise<Check> } | undefined;
  return () => {
    if (!last || (last.settled && performance.now() - last.at > READY_TTL_MS)) {
      const asked = { at: performance.now(), settled: false, result: Promise.resolve<Check>({ ok: false }) };
      asked.result = run()
        .then(
          (c) => ({ ...c, detail: c.detail && redact(c.detail) }),
          (err: Error) => ({ ok: false, detail: redact(err.message) }),
        )
        .finally(() => void (asked.settled = true));
      last = asked;
    }
    return last.result;
  };
}

/** Each part's shared check: `stash` (the default instance's Stash) and the extra ones (database, Plex, other Stashes). */
export function sharedChecks(deps: HealthDeps, redact: (s: string) => string = (s) => s) {
  const checks: Record<string, () => Promise<Check>> = {
    stash: async () => ({ ok: true, detail: `Stash ${await deps.stash.version()}` }),
    ...deps.extraChecks,
  };
  return Object.fromEntries(Object.entries(checks).map(([name, run]) => [name, sharedCheck(run, redact)]));
}

/** Every part's check at once (each shared, see sharedCheck): ready when all are ok. */
export function cachedReadiness(checks: Record<string, () => Promise<Check>>): Readiness {
  return async () => {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => [name, await check()] as const),
    );
    return { ok: entries.every(([, c]) => c.ok), checks: Object.fromEntries(entries) };
  };
}

/** What anyone may see: ready or not, and which part fails; no detail (paths, URLs, versions). */
export const publicReadiness = (result: { ok: boolean; checks: Record<string, Check> }) => ({
  ok: result.ok,
  checks: Object.fromEntries(Object.entries(result.checks).map(([name, c]) => [name, { ok: c.ok }])),
});

/** `details`: whether a request may see each check's detail (the admin token, or a signed-in browser). */
export const healthRoutes = (check: Readiness, details: (headers: Headers) => boolean = () => false) => {
  return new Elysia({ name: "health" })
    .get("/healthz", () => ({ ok: true, version: VERSION }))
    .get("/readyz", async ({ set, request }) => {
      const result = await check();
      if (!result.ok) set.status = 503;
      return details(request.headers) ? { ...result, version: VERSION } : publicReadiness(result);
    });
};
