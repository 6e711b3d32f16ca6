import { describe, expect, test } from "bun:test";
import { PLEX_CALLS } from "../../src/plex/client.ts";
import { PLEX_COLLECTION_CALLS } from "../../src/plex/collections.ts";
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

  // The collection client's calls (src/plex/collections.ts), spelled as python-plexapi spells
  // them; four of its spellings are not in the description, which has its own instead.
  const NOT_DESCRIBED: Record<string, string> = {
    "GET /library/collections/{collectionId}/children":
      "python-plexapi's Collection.items() (the description has GET …/items)",
    "DELETE /library/collections/{collectionId}/items/{itemId}":
      "python-plexapi's Collection.removeItems() (the description has PUT …/items/{itemId})",
    "PUT /library/collections/{collectionId}/prefs":
      "python-plexapi's Collection.sortUpdate() through editAdvanced (the description has PUT /library/metadata/{ids}/prefs)",
    "DELETE /library/collections/{collectionId}":
      "python-plexapi's delete() of a collection (the description has DELETE /library/sections/{sectionId}/collection/{collectionId})",
  };
  for (const [method, path] of PLEX_COLLECTION_CALLS) {
    const why = NOT_DESCRIBED[`${method} ${path}`];
    test(`${method} ${path} ${why ? `is python-plexapi's, not described: ${why}` : "exists in the PMS API description"}`, () => {
      const template = openApiPathFor(paths, path);
      const described = !!template && Object.keys(api.paths[template]!).includes(method.toLowerCase());
      expect(described).toBe(!why);
    });
  }

  test("the path matcher itself tells a missing path from a present one", () => {
    expect(openApiPathFor(paths, "/library/metadata/12/refresh")).toBe("/library/metadata/{ids}/refresh");
    expect(openApiPathFor(paths, "/library/nonsense/12")).toBeUndefined();
  });
});
