/**
 * Reads the reference data (Stash's GraphQL schema, PMS's OpenAPI description) from
 * ../shared beside the clone, or from STASH2PLEX_REFERENCE; it is never copied into the repo.
 * A clone without it still runs every other test: the tests that need it are skipped with one
 * line saying so, except under CI (CI=true), where its absence is a failure.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { buildSchema, type GraphQLSchema } from "graphql";

export const SHARED = process.env.STASH2PLEX_REFERENCE ?? join(import.meta.dir, "../../../shared");
const present =
  existsSync(join(SHARED, "plex/pms-openapi.json")) && existsSync(join(SHARED, "stash-schema/schema.graphql"));
const announced = new Set<string>();

/** Whether `what` can run; outside CI a missing reference is a skip announced once, under CI an error. */
export function referenceAvailable(what: string): boolean {
  if (present) return true;
  const where = `the reference data (Stash's schema, PMS's OpenAPI) in ${SHARED}`;
  if (/^(1|true)$/i.test(process.env.CI ?? "")) {
    throw new Error(
      `${what} needs ${where}, which is missing: CI must run with shared/ beside the clone (or STASH2PLEX_REFERENCE)`,
    );
  }
  if (!announced.has(what)) {
    announced.add(what);
    console.warn(`skipped: ${what}: it needs ${where}; put shared/ beside the clone or set STASH2PLEX_REFERENCE`);
  }
  return false;
}

export function realStashSchema(): GraphQLSchema {
  const dir = join(SHARED, "stash-schema");
  const parts = [readFileSync(join(dir, "schema.graphql"), "utf8")];
  for (const f of readdirSync(join(dir, "types")).sort()) parts.push(readFileSync(join(dir, "types", f), "utf8"));
  return buildSchema(parts.join("\n"));
}

export function pmsOpenApi(): { paths: Record<string, Record<string, unknown>> } {
  return JSON.parse(readFileSync(join(SHARED, "plex/pms-openapi.json"), "utf8"));
}

/** The OpenAPI path template a concrete path matches, if any ({param} matches one segment). */
export function openApiPathFor(paths: string[], concrete: string): string | undefined {
  const exact = paths.find((p) => p === concrete);
  if (exact) return exact;
  return paths.find((p) =>
    new RegExp(`^${p.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "[^/]+")}$`).test(concrete),
  );
}

/** Every request the service really sent that the PMS API description does not have (none checked without it). */
export function undocumentedCalls(calls: { method: string; path: string }[]): string[] {
  if (!referenceAvailable("the PMS API conformance of the calls the push tests make")) return [];
  const api = pmsOpenApi();
  const paths = Object.keys(api.paths);
  const out = new Set<string>();
  for (const c of calls) {
    const template = openApiPathFor(paths, c.path);
    if (!template || !(c.method.toLowerCase() in api.paths[template]!)) out.add(`${c.method} ${c.path}`);
  }
  return [...out];
}
