/**
 * Walks the config schema into a flat list of settings: the one source for env var names,
 * the README's reference and the container templates.
 */
import { Kind, type TSchema } from "@sinclair/typebox";
import { ConfigSchema } from "./schema.ts";

export interface Setting {
  path: string[];
  key: string; // dotted, as in the YAML file
  env: string;
  schema: TSchema;
  description: string;
  secret: boolean;
  defaultValue: unknown;
}

const snake = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
export const envName = (path: string[]) => path.map(snake).join("_");

function walk(schema: TSchema, path: string[], out: Setting[]): void {
  if (schema[Kind] === "Object" && path.length < 2) {
    for (const [name, child] of Object.entries(schema.properties as Record<string, TSchema>)) {
      walk(child, [...path, name], out);
    }
    return;
  }
  out.push({
    path,
    key: path.join("."),
    env: envName(path),
    schema,
    description: schema.description ?? "",
    secret: schema.secret === true,
    defaultValue: schema.default,
  });
}

export const settings: Setting[] = (() => {
  const out: Setting[] = [];
  walk(ConfigSchema, [], out);
  return out;
})();

export const secretKeys = new Set(settings.filter((s) => s.secret).map((s) => s.path.at(-1)!));
