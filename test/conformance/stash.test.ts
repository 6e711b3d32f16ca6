import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  buildSchema,
  getNamedType,
  getVariableValues,
  isInputObjectType,
  isObjectType,
  parse,
  validate,
} from "graphql";
import { ALL_DOCUMENTS } from "../../src/stash/queries.ts";
import { realStashSchema, referenceAvailable } from "./shared.ts";
import { StashSim } from "../../sim/stash/server.ts";
import { createStashClient } from "../../src/stash/client.ts";

const available = referenceAvailable("Stash conformance (../shared/stash-schema)");
const real = available ? realStashSchema() : buildSchema("type Query { unused: Int }");
const sim = buildSchema(readFileSync(join(import.meta.dir, "../../sim/stash/schema.graphql"), "utf8"));

describe.skipIf(!available)("Stash conformance (../shared/stash-schema)", () => {
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
            problems.push(
              `${type.name}.${fname}: simulator ${String(field.type)}, Stash ${String(fields[fname]!.type)}`,
            );
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(getNamedType(real.getQueryType()!.getFields().findScenes!.type).name).toBe("FindScenesResultType");
  });
});

describe.skipIf(!available)("the variables the client really sends are valid for Stash's schema", () => {
  test("every lookup's filter, as sent over the wire, coerces against the real input types", async () => {
    const sim = new StashSim({ scenes: 30 }).start();
    try {
      const c = createStashClient({ url: sim.url, apiKey: "", timeoutMs: 2000 });
      const scene = sim.library.scenes.get("3")!;
      await Promise.all([
        c.sceneById("3"),
        c.scenesByIds(["1", "2"]),
        c.sceneByPath(scene.files[0]!.path),
        c.scenesByBasename(scene.files[0]!.basename),
        c.searchScenes("golden hour"),
        c.scenesWithTitleWords(["golden", "hour", "12"]),
        c.sceneFilesPage(1, 10),
        c.scenesStampedBetween("2025-01-01T00:00:00", "2025-01-02T00:00:00"),
        c.scenesStampedAt("2025-01-01T00:00:00-05:00", 1),
        c.newestStamp(),
        c.groups(["1"]),
        c.version(),
      ]);
      expect(sim.requests.length).toBeGreaterThanOrEqual(9);
      const problems: string[] = [];
      for (const r of sim.requests) {
        const op = parse(r.query).definitions.find((d) => d.kind === "OperationDefinition")!;
        if (op.kind !== "OperationDefinition") continue;
        const { errors } = getVariableValues(real, op.variableDefinitions ?? [], r.variables);
        for (const e of errors ?? []) problems.push(`${op.name?.value}: ${e.message}`);
      }
      expect(problems).toEqual([]);
      // The check itself catches a wrong field name.
      const op = parse("query Q($f: SceneFilterType) { findScenes(scene_filter: $f) { count } }").definitions[0]!;
      if (op.kind === "OperationDefinition") {
        expect(
          getVariableValues(real, op.variableDefinitions ?? [], { f: { basename: { value: "x", modifier: "EQUALS" } } })
            .errors?.length,
        ).toBe(1);
      }
    } finally {
      await sim.stop();
    }
  });
});
