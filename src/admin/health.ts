/**
 * Health: `/healthz` says the process answers; `/readyz` says whether each part it needs
 * works, naming the one that fails.
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

export const healthRoutes = (deps: HealthDeps) =>
  new Elysia({ name: "health" })
    .get("/healthz", () => ({ ok: true, version: VERSION }))
    .get("/readyz", async ({ set }) => {
      const result = await readiness(deps);
      if (!result.ok) set.status = 503;
      return result;
    });
