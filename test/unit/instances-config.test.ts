/** Several Stash instances in the config, and the single-Stash forms unchanged (issue 19). */
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../src/config/load.ts";
import { instancesOf, normalisedStashUrl } from "../../src/config/instances.ts";
import { tempDir } from "../helpers.ts";

const yaml = (...lines: string[]) => {
  const file = join(tempDir(), "config.yaml");
  writeFileSync(file, lines.join("\n"));
  return file;
};
const problemsOf = (env: Record<string, string>, file?: string): string[] => {
  try {
    loadConfig(env, file);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};
const TWO = JSON.stringify([
  { name: "Main", url: "http://stash-a:9999/", apiKey: "key-a-secret" },
  { id: "vault", name: "Vault", url: "http://stash-b:9999", apiKey: "key-b-secret", provider: { contentRating: "R" } },
]);

describe("stash instances: the single-Stash forms are one instance, `default`", () => {
  test("STASH_URL / STASH_API_KEY / PATHS_RULES env: same identifier, URL and rules as before", () => {
    const rules = JSON.stringify([{ name: "nas", plex: "^/media/(.*)$", stash: "/data/$1" }]);
    const c = loadConfig({ STASH_URL: "http://stash:9999/", STASH_API_KEY: "k", PATHS_RULES: rules }, undefined);
    const [only, ...rest] = instancesOf(c);
    expect(rest).toEqual([]);
    expect(only).toMatchObject({
      id: "default",
      isDefault: true,
      path: "",
      stash: { url: "http://stash:9999", apiKey: "k", timeoutMs: 10000 },
    });
    expect(only!.provider.identifier).toBe("tv.plex.agents.custom.stash2plex");
    expect(only!.provider.title).toBe("Stash");
    expect(only!.paths.rules[0]).toMatchObject({ name: "nas" });
    // Code that knows one Stash reads the same values as before.
    expect(c.stash).toMatchObject({ url: "http://stash:9999", apiKey: "k" });
    expect(c.provider.identifier).toBe("tv.plex.agents.custom.stash2plex");
  });

  test("a YAML `stash:` mapping and a custom identifier are kept byte for byte", () => {
    const c = loadConfig(
      {},
      yaml(
        "stash: { url: http://stash:9999, apiKey: k }",
        "provider: { identifier: tv.plex.agents.custom.mine, title: Mine }",
      ),
    );
    const [only] = instancesOf(c);
    expect(only).toMatchObject({ id: "default", path: "", stash: { url: "http://stash:9999" } });
    expect(only!.provider).toMatchObject({ identifier: "tv.plex.agents.custom.mine", title: "Mine" });
    expect(instancesOf(c)).toEqual(
      instancesOf(
        loadConfig(
          {},
          yaml(
            "stash: { url: http://stash:9999, apiKey: k }",
            "provider: { identifier: tv.plex.agents.custom.mine, title: Mine }",
          ),
        ),
      ),
    );
  });
});

describe("stash instances: the list forms", () => {
  test("YAML `stash:` as a list: each its own provider, unset settings from the top level", () => {
    const c = loadConfig(
      {},
      yaml(
        "provider: { identifier: tv.plex.agents.custom.mine, contentRating: X, excludeTags: [wip] }",
        "paths: { rules: [{ name: shared, plex: '^/media/(.*)$', stash: '/data/$1' }] }",
        "stash:",
        "  - { name: Main, url: http://stash-a:9999, apiKey: ka }",
        "  - id: vault",
        "    name: The Vault",
        "    url: http://stash-b:9999",
        "    timeoutMs: 2000",
        "    provider: { contentRating: R, matchOnly: [organized] }",
        "    paths: { rules: [{ name: own, plex: '^/vault/(.*)$', stash: '/v/$1' }] }",
      ),
    );
    const [main, vault] = instancesOf(c);
    expect(main).toMatchObject({
      id: "default",
      name: "Main",
      isDefault: true,
      path: "",
      stash: { url: "http://stash-a:9999", apiKey: "ka", timeoutMs: 10000 },
    });
    expect(main!.provider).toMatchObject({
      identifier: "tv.plex.agents.custom.mine",
      title: "Stash",
      contentRating: "X",
      excludeTags: ["wip"],
    });
    expect(main!.paths.rules.map((r) => r.name)).toEqual(["shared"]);
    expect(vault).toMatchObject({
      id: "vault",
      name: "The Vault",
      isDefault: false,
      path: "/instances/vault",
      stash: { url: "http://stash-b:9999", apiKey: "", timeoutMs: 2000 },
    });
    expect(vault!.provider).toMatchObject({
      identifier: "tv.plex.agents.custom.mine.vault",
      title: "Stash (The Vault)",
      contentRating: "R",
      excludeTags: ["wip"],
      matchOnly: ["organized"],
    });
    expect(vault!.paths.rules.map((r) => r.name)).toEqual(["own"]);
    expect(vault!.paths.rules[0]).toMatchObject({ caseInsensitive: false, plexRoots: [] });
    // The top-level view is the default instance's.
    expect(c.stash.url).toBe("http://stash-a:9999");
  });

  test("STASH_INSTANCES env (JSON) gives the same instances", () => {
    const c = loadConfig({ STASH_INSTANCES: TWO }, undefined);
    expect(instancesOf(c).map((i) => [i.id, i.path, i.provider.identifier, i.provider.contentRating])).toEqual([
      ["default", "", "tv.plex.agents.custom.stash2plex", "XXX"],
      ["vault", "/instances/vault", "tv.plex.agents.custom.stash2plex.vault", "R"],
    ]);
  });

  test("STASH_URL and STASH_API_KEY are the first instance's when it has no url (a template that requires STASH_URL)", () => {
    const c = loadConfig(
      {
        STASH_URL: "http://stash:9999/",
        STASH_API_KEY: "main-key",
        STASH_INSTANCES: JSON.stringify([
          { name: "Main" },
          { id: "vault", url: "http://vault:9999", apiKey: "vault-key" },
        ]),
      },
      undefined,
    );
    expect(instancesOf(c).map((i) => [i.id, i.name, i.stash.url, i.stash.apiKey])).toEqual([
      ["default", "Main", "http://stash:9999", "main-key"],
      ["vault", "vault", "http://vault:9999", "vault-key"],
    ]);
    // Loading fills every instance in: deriving again gives the same.
    expect(instancesOf(c)).toEqual(instancesOf(structuredClone(c)));
  });

  test("the first instance's id defaults to `default`", () => {
    const c = loadConfig(
      { STASH_INSTANCES: JSON.stringify([{ url: "http://a:1" }, { id: "b", url: "http://b:1" }]) },
      undefined,
    );
    expect(instancesOf(c).map((i) => i.id)).toEqual(["default", "b"]);
  });
});

describe("stash instances: start-up refuses a list that cannot work, one line each", () => {
  test("two instances with the same id", () => {
    const problems = problemsOf({
      STASH_INSTANCES: JSON.stringify([
        { url: "http://a:1" },
        { id: "b", url: "http://b:1" },
        { id: "b", url: "http://c:1" },
      ]),
    });
    expect(problems).toEqual([`stash[2].id: "b" is also the id of stash[1] — give each Stash its own id`]);
  });

  test("the first instance is the default: its id is `default`, whatever its name", () => {
    expect(
      problemsOf({
        STASH_INSTANCES: JSON.stringify([
          { id: "main", url: "http://a:1" },
          { id: "b", url: "http://b:1" },
        ]),
      }),
    ).toEqual([
      `stash[0].id: the first Stash is the default instance (today's provider URL and identifier) and its id is "default", not "main" — leave id out (or write id: default) and use name: to label it`,
    ]);
    expect(
      problemsOf({
        STASH_INSTANCES: JSON.stringify([
          { id: "default", url: "http://a:1" },
          { id: "b", url: "http://b:1" },
        ]),
      }),
    ).toEqual([]);
  });

  test("the same Stash URL twice, however it is spelt", () => {
    const problems = problemsOf(
      {},
      yaml("stash:", "  - { url: 'http://Stash:80/' }", "  - { id: b, url: 'http://stash' }"),
    );
    expect(problems).toEqual([`stash[1].url: http://stash is also the URL of "default" — list each Stash once`]);
    expect(normalisedStashUrl("https://Stash:443/sub/")).toBe("https://stash/sub");
    expect(normalisedStashUrl("http://stash:9999/sub")).not.toBe(normalisedStashUrl("http://stash:9998/sub"));
  });

  test("an id that is missing or not a-z0-9, an unknown key, STASH_URL beside the list", () => {
    expect(problemsOf({ STASH_INSTANCES: JSON.stringify([{ url: "http://a:1" }, { url: "http://b:1" }]) })).toEqual([
      "stash[1].id: missing — every Stash after the first needs an id (a-z, 0-9), e.g. id: stash2",
    ]);
    const bad = problemsOf({ STASH_INSTANCES: JSON.stringify([{ id: "Main", url: "http://a:1", colour: "red" }]) });
    expect(bad.some((p) => p.startsWith("stash[0].id: must match ^[a-z][a-z0-9]{0,31}$"))).toBe(true);
    expect(bad.some((p) => p.startsWith("stash[0]") && p.includes("colour"))).toBe(true);
    expect(problemsOf({ STASH_INSTANCES: TWO, STASH_URL: "http://x:1" })).toEqual([
      "stash.url: set (STASH_URL) beside a list of Stash instances whose first has its own url — unset STASH_URL, or leave url and apiKey out of the first instance to use it there",
    ]);
    expect(problemsOf({ STASH_INSTANCES: JSON.stringify([{}, { id: "b" }]) })).toEqual([
      "stash[1].url: missing — every Stash after the first needs its url (the first's defaults to STASH_URL)",
    ]);
  });

  test("an instance's bad path rule names the instance; its API key never appears", () => {
    const problems = problemsOf({
      STASH_INSTANCES: JSON.stringify([
        { url: "http://a:1", apiKey: "sekrit-key-a" },
        { id: "b", apiKey: "sekrit-key-b", paths: { rules: [{ name: "r", plex: "([", stash: "x" }] } },
      ]),
    });
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join("\n")).not.toContain("sekrit");
    expect(problems.some((p) => p.startsWith("stash[1].url"))).toBe(true);
    const rule = problemsOf({
      STASH_INSTANCES: JSON.stringify([
        { url: "http://a:1" },
        { id: "b", url: "http://b:1", paths: { rules: [{ name: "r", plex: "([", stash: "x" }] } },
      ]),
    });
    expect(rule.length).toBe(1);
    expect(rule[0]).toStartWith("stash[1] (b): ");
  });
});

test("the README's example of several instances is a valid config giving what it says", () => {
  const readme = readFileSync(join(import.meta.dir, "../../README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### Several Stash instances"));
  const block = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
  const c = loadConfig({}, yaml(block));
  expect(
    instancesOf(c).map((i) => [i.id, i.path, i.provider.identifier, i.provider.title, i.provider.contentRating]),
  ).toEqual([
    ["default", "", "tv.plex.agents.custom.stash2plex", "Stash", "XXX"],
    ["vault", "/instances/vault", "tv.plex.agents.custom.stash2plex.vault", "Stash (Vault)", "R"],
  ]);
});
