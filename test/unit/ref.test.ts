import { expect, test } from "bun:test";
import {
  guidOf,
  instanceIdentifier,
  instancePath,
  parseRefKey,
  ratingKeyOf,
  refFromGuid,
  refKey,
  sceneRef,
} from "../../src/domain/ref.ts";

const BASE = "tv.plex.agents.custom.stash2plex";
const instances = [
  { id: "default", identifier: instanceIdentifier(BASE, "default", true) },
  { id: "partner", identifier: instanceIdentifier(BASE, "partner", false) },
];

test("the default instance keeps today's identifier, GUIDs and provider URL byte for byte", () => {
  expect(instances[0]!.identifier).toBe(BASE);
  expect(guidOf(BASE, sceneRef("default", "42"))).toBe("tv.plex.agents.custom.stash2plex://movie/42");
  expect(instancePath("default", true)).toBe("");
  expect(ratingKeyOf(sceneRef("default", "42"))).toBe("42");
});

test("a GUID's scheme names its instance; overlapping scene ids stay apart", () => {
  const a = sceneRef("default", "7");
  const b = sceneRef("partner", "7");
  expect(guidOf(instances[1]!.identifier, b)).toBe("tv.plex.agents.custom.stash2plex.partner://movie/7");
  expect(refFromGuid(guidOf(instances[0]!.identifier, a), instances)).toEqual(a);
  expect(refFromGuid(guidOf(instances[1]!.identifier, b), instances)).toEqual(b);
  expect(refFromGuid(`${BASE}://movie/7?lang=en`, instances)).toEqual(a);
  expect(instancePath("partner", false)).toBe("/instances/partner");
});

test("anyone else's GUID, a collection or junk is no reference", () => {
  for (const guid of [
    undefined,
    "",
    "local://12",
    "com.plexapp.agents.none://1",
    `${BASE}://collection/g3`,
    `${BASE}.other://movie/1`,
    `${BASE}://movie/abc`,
    "movie/1",
  ]) {
    expect(refFromGuid(guid, instances)).toBeNull();
  }
});

test("queue keys round-trip and refuse what is not one", () => {
  const ref = sceneRef("partner", "123");
  expect(refKey(ref)).toBe("partner:scene:123");
  expect(parseRefKey(refKey(ref))).toEqual(ref);
  for (const bad of ["123", "partner:scene:", "Partner:scene:1", "partner:movie:1", "partner:scene:1:2"])
    expect(parseRefKey(bad)).toBeNull();
});
