/** TV libraries in the config: what start-up refuses (issue 20), and how a library resolves. */
import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../src/config/load.ts";
import { folderProblems, schemesOf, tvLibrariesOf } from "../../src/tv/libraries.ts";

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env, undefined);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};
const base = { STASH_URL: "http://stash:9999" };
const TWO = JSON.stringify([{ url: "http://stash-a:9999" }, { id: "vault", url: "http://stash-b:9999" }]);

describe("TV libraries in the config", () => {
  test("an unknown instance, a folder shared (or nested), an id twice: one line each", () => {
    const libraries = JSON.stringify([
      { id: "a", folder: "/srv/tv" },
      { id: "b", folder: "/srv/tv/", layout: "group" },
      { id: "a", folder: "/srv/other" },
      { id: "c", folder: "/srv/other/inner", instance: "nope" },
    ]);
    expect(problemsOf({ ...base, TV_LIBRARIES: libraries })).toEqual([
      "tv.libraries[1].folder: /srv/tv/ is (or is inside, or holds) the folder of tv.libraries[0] (/srv/tv) — give each TV library a folder of its own",
      'tv.libraries[2].id: "a" is also the id of tv.libraries[0] — give each its own id',
      'tv.libraries[3].instance: no Stash instance has the id "nope" (known: default)',
      "tv.libraries[3].folder: /srv/other/inner is (or is inside, or holds) the folder of tv.libraries[2] (/srv/other) — give each TV library a folder of its own",
    ]);
  });

  test('the instance id "tv" is reserved', () => {
    const instances = JSON.stringify([{ url: "http://stash-a:9999" }, { id: "tv", url: "http://stash-b:9999" }]);
    expect(problemsOf({ STASH_INSTANCES: instances })).toContain(
      'stash[1].id: "tv" is reserved (the TV provider\'s identifier ends in .tv) — choose another id',
    );
  });

  test("a library resolves to its instance (default: the first) and the scheme of its layout", () => {
    const libraries = JSON.stringify([
      { id: "a", folder: "/srv/a" },
      { id: "b", folder: "/srv/b", parentStudio: true },
      { id: "c", folder: "/srv/c", layout: "group", instance: "vault" },
    ]);
    const config = loadConfig({ STASH_INSTANCES: TWO, TV_LIBRARIES: libraries }, undefined);
    const libs = tvLibrariesOf(config);
    expect(libs.map((l) => [l.id, l.instance, l.scheme])).toEqual([
      ["a", "default", "st"],
      ["b", "default", "sn"],
      ["c", "vault", "gr"],
    ]);
    expect(schemesOf(libs, "default")).toEqual(["st", "sn"]);
    expect(schemesOf(libs, "vault")).toEqual(["gr"]);
  });

  test("an episode folder equal to, inside or holding a Stash library folder is refused; beside it is fine", () => {
    const lib = (folder: string, instance = "default") => ({
      id: "t",
      instance,
      layout: { layout: "studio" as const, parentStudio: false },
      scheme: "st" as const,
      folder,
    });
    const stash = new Map([
      ["default", ["/data/stash", "D:\\Scenes"]],
      ["vault", ["/vault"]],
    ]);
    for (const folder of ["/data/stash", "/data/stash/tv", "/data", "/", "d:/scenes/TV", "D:\\Scenes\\tv\\"])
      expect(folderProblems([lib(folder)], stash)).toHaveLength(1);
    for (const folder of ["/data/stash-tv", "/data/tv", "/vault/tv", "E:\\Scenes"])
      expect(folderProblems([lib(folder)], stash)).toEqual([]);
    expect(folderProblems([lib("/vault/tv", "vault")], stash)[0]).toBe(
      'TV library "t": its episode folder /vault/tv overlaps Stash\'s library folder /vault (Stash would scan the links as new scenes) — put the episode folder outside every Stash library folder',
    );
  });
});
