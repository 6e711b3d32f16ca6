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

export async function readiness(deps: HealthDeps): Promise<{ ok: boolean; checks: Record<string, Check> }> {
  const checks: Record<string, () => Promise<Check>> = {
    stash: async () => ({ ok: true, detail: `Stash ${await deps.stash.version()}` }),
    ...deps.extraChecks,
  };
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, run]) => {
      try {
        return [name, await run()] as const;
      } catch (err) {
        return [name, { ok: false, detail: (err as Error).message }] as const;
      }
    }),
  );
  const result = Object.fromEntries(entries);
  return { ok: entries.every(([, c]) => c.ok), checks: result };
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
 * One check (its details redacted) shared by every caller for READY_TTL_MS: /readyz and the
 * dashboard ask as often as they like without turning it into Stash, Plex and database traffic.
 */
export function cachedReadiness(deps: HealthDeps, redact: (s: string) => string = (s) => s): Readiness {
  const fresh = async () => {
    const { ok, checks } = await readiness(deps);
    return {
      ok,
      checks: Object.fromEntries(
        Object.entries(checks).map(([name, c]) => [name, { ...c, detail: c.detail && redact(c.detail) }]),
      ),
    };
  };
  let cached: { at: number; result: ReturnType<typeof fresh> } | undefined;
  return () => {
    if (!cached || performance.now() - cached.at > READY_TTL_MS) cached = { at: performance.now(), result: fresh() };
    return cached.result;
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
