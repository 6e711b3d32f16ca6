import { describe, expect, test } from "bun:test";
import { PLEX_CALLS } from "../../src/plex/client.ts";
import { openApiPathFor, pmsOpenApi, referenceAvailable } from "./shared.ts";

const available = referenceAvailable("PMS conformance (../shared/plex/pms-openapi.json)");
const api = available ? pmsOpenApi() : { paths: {} };
const paths = Object.keys(api.paths);

describe.skipIf(!available)("PMS conformance (../shared/plex/pms-openapi.json)", () => {
  for (const [method, path] of PLEX_CALLS) {
    test(`${method} ${path} exists in the PMS API description`, () => {
      const template = openApiPathFor(paths, path);
      expect(template).toBeDefined();
      expect(Object.keys(api.paths[template!]!)).toContain(method.toLowerCase());
    });
  }

  test("the path matcher itself tells a missing path from a present one", () => {
    expect(openApiPathFor(paths, "/library/metadata/12/refresh")).toBe("/library/metadata/{ids}/refresh");
    expect(openApiPathFor(paths, "/library/nonsense/12")).toBeUndefined();
  });
});
