import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildSchema, getNamedType, isInputObjectType, isObjectType, parse, validate } from "graphql";
import { ALL_DOCUMENTS } from "../../src/stash/queries.ts";
import { realStashSchema } from "./shared.ts";

const real = realStashSchema();
const sim = buildSchema(readFileSync(join(import.meta.dir, "../sim/stash/schema.graphql"), "utf8"));

describe("Stash conformance (../shared/stash-schema)", () => {
  for (const [name, source] of Object.entries(ALL_DOCUMENTS)) {
    test(`${name} is valid against Stash's real schema`, () => {
      expect(validate(real, parse(source)).map((e) => e.message)).toEqual([]);
    });
    test(`${name} is valid against the simulator's schema`, () => {
      expect(validate(sim, parse(source)).map((e) => e.message)).toEqual([]);
    });
  }

  test("every type and field the simulator serves exists in Stash's schema with the same type", () => {
    const problems: string[] = [];
    for (const type of Object.values(sim.getTypeMap())) {
      if (type.name.startsWith("__")) continue;
      const twin = real.getType(type.name);
      if (!twin) {
        problems.push(`type ${type.name} is not in Stash`);
        continue;
      }
      if ((isObjectType(type) && isObjectType(twin)) || (isInputObjectType(type) && isInputObjectType(twin))) {
        const fields = twin.getFields() as Record<string, { type: unknown }>;
        for (const [fname, field] of Object.entries(type.getFields() as Record<string, { type: unknown }>)) {
          if (!fields[fname]) problems.push(`${type.name}.${fname} is not in Stash`);
          else if (String(fields[fname]!.type) !== String(field.type)) {
            problems.push(`${type.name}.${fname}: simulator ${String(field.type)}, Stash ${String(fields[fname]!.type)}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(getNamedType(real.getQueryType()!.getFields().findScenes!.type).name).toBe("FindScenesResultType");
  });
});
