/** Reads the reference data in ../shared (never copied into the repo). */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { buildSchema, type GraphQLSchema } from "graphql";

export const SHARED = join(import.meta.dir, "../../../shared");

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
  return paths.find((p) => new RegExp(`^${p.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "[^/]+")}$`).test(concrete));
}

/** Every request the service really sent that the PMS API description does not have. */
export function undocumentedCalls(calls: { method: string; path: string }[]): string[] {
  const api = pmsOpenApi();
  const paths = Object.keys(api.paths);
  const out = new Set<string>();
  for (const c of calls) {
    const template = openApiPathFor(paths, c.path);
    if (!template || !(c.method.toLowerCase() in api.paths[template]!)) out.add(`${c.method} ${c.path}`);
  }
  return [...out];
}
