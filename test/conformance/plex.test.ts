import { describe, expect, test } from "bun:test";
import { PLEX_CALLS } from "../../src/plex/client.ts";
import { WATCH_CALLS } from "../../src/writeback/pms-watch.ts";
import { openApiPathFor, pmsOpenApi, referenceAvailable } from "./shared.ts";

const available = referenceAvailable("PMS conformance (../shared/plex/pms-openapi.json)");
const api = available ? pmsOpenApi() : { paths: {} };
const paths = Object.keys(api.paths);

describe.skipIf(!available)("PMS conformance (../shared/plex/pms-openapi.json)", () => {
  // The push side's calls and write-back's (/accounts is not in the description: python-plexapi
  // reads it; nor is the stream's second spelling, /:/websockets/notifications, which the clients
  // in use connect to: write-back tries it when the described one is not answered).
  for (const [method, path] of [...PLEX_CALLS, ...WATCH_CALLS]) {
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
