import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../src/config/load.ts";
import { settings } from "../../src/config/settings.ts";
import { tempDir } from "../helpers.ts";

const problemsOf = (env: Record<string, string>, file?: string): string[] => {
  try {
    loadConfig(env, file);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe("config", () => {
  test("defaults for everything that can have one", () => {
    const c = loadConfig({}, undefined);
    expect(c.listen).toEqual({ host: "0.0.0.0", port: 8787 });
    expect(c.publicUrl).toBe("http://localhost:8787");
    expect(c.provider.identifier).toBe("tv.plex.agents.custom.stash2plex");
    expect(c.provider.title).toBe("Stash");
    expect(c.stash).toMatchObject({ url: "http://localhost:9999", apiKey: "", timeoutMs: 10000 });
    expect(c.sync.pollSeconds).toBe(30);
    expect(c.paths.rules).toEqual([]);
  });

  test("env vars are named after the key and converted", () => {
    const c = loadConfig(
      {
        LISTEN_PORT: "9000",
        STASH_URL: "http://stash:9999/",
        STASH_API_KEY: "k",
        PROVIDER_EXCLUDE_TAGS: "a, b",
        PLEX_URL: "http://plex:32400",
        PLEX_TOKEN: "t",
        PLEX_SECTIONS: "1,2",
        PLEX_KEEP_USER_EDITS: "no",
        PUBLIC_URL: "http://nas:9000/",
      },
      undefined,
    );
    expect(c.listen.port).toBe(9000);
    expect(c.stash.url).toBe("http://stash:9999");
    expect(c.publicUrl).toBe("http://nas:9000");
    expect(c.provider.excludeTags).toEqual(["a", "b"]);
    expect(c.plex.sections).toEqual([
      { id: "1", strategy: "auto" },
      { id: "2", strategy: "auto" },
    ]);
    expect(c.plex.keepUserEdits).toBe(false);
  });

  test("YAML file for path rules, env wins over the file", () => {
    const dir = tempDir();
    const file = join(dir, "config.yaml");
    writeFileSync(
      file,
      [
        "listen: { port: 7000 }",
        "paths:",
        "  rules:",
        "    - name: nas",
        "      plex: ^/media/(.*)$",
        "      stash: /data/$1",
        "      samples: [{ plex: /media/a.mp4, stash: /data/a.mp4 }]",
      ].join("\n"),
    );
    const c = loadConfig({ LISTEN_PORT: "7001" }, file);
    expect(c.listen.port).toBe(7001);
    expect(c.paths.rules[0]).toMatchObject({ name: "nas", caseInsensitive: false, plexRoots: [] });
  });

  test("one line per problem, naming the key and the fix", () => {
    const problems = problemsOf({
      LISTEN_PORT: "abc",
      STASH_URL: "stash:9999",
      PROVIDER_IDENTIFIER: "my.agent",
      PROVIDER_GENRE_MODE: "some",
      PLEX_URL: "http://plex:32400",
    });
    expect(problems).toContainEqual(expect.stringContaining('listen.port: "abc" is not a number (from LISTEN_PORT)'));
    expect(problems).toHaveLength(1); // conversion problems stop before validation
    const next = problemsOf({ STASH_URL: "stash:9999", PROVIDER_IDENTIFIER: "my.agent", PROVIDER_GENRE_MODE: "some" });
    expect(next.find((p) => p.startsWith("stash.url"))).toContain("must be an http(s) URL");
    expect(next.find((p) => p.startsWith("stash.url"))).toContain("STASH_URL");
    expect(next.find((p) => p.startsWith("provider.identifier"))).toContain("PROVIDER_IDENTIFIER");
    expect(next.find((p) => p.startsWith("provider.genreMode"))).toContain('"all", "first", "joined"');
  });

  test("push needs a token; bad path rules stop start-up; unknown keys are named", () => {
    expect(problemsOf({ PLEX_URL: "http://plex:32400" })).toContainEqual(expect.stringContaining("PLEX_TOKEN"));
    const rules = problemsOf({
      PATHS_RULES: JSON.stringify([
        { name: "x", plex: "^/a/(.*)$", stash: "/b/$1", samples: [{ plex: "/a/1", stash: "/c/1" }] },
      ]),
    });
    expect(rules[0]).toContain('path rule "x"');
    const dir = tempDir();
    writeFileSync(join(dir, "c.yaml"), "stash: { url: http://s:1, apikey: x }\nlisten: [1]\n");
    const unknown = problemsOf({}, join(dir, "c.yaml"));
    expect(unknown).toContainEqual(expect.stringContaining("stash.apikey: unknown setting"));
  });

  test("a broken YAML file or JSON env value is a readable problem", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "bad.yaml"), "listen: [\n");
    expect(problemsOf({}, join(dir, "bad.yaml"))[0]).toContain("cannot read it as YAML");
    expect(problemsOf({ PATHS_RULES: "[{oops" })[0]).toContain("paths.rules: not valid JSON");
    expect(problemsOf({}, join(dir, "missing.yaml"))[0]).toContain("does not exist");
  });

  test("secrets never appear in problems", () => {
    const problems = problemsOf({ STASH_API_KEY: "x".repeat(300), PLEX_TOKEN: "sekrit-token", PLEX_URL: "nope" });
    expect(problems.join("\n")).not.toContain("sekrit-token");
  });

  test("every setting has an env name and a description", () => {
    for (const s of settings) {
      expect(s.env).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(s.description.length).toBeGreaterThan(5);
    }
    expect(new Set(settings.map((s) => s.env)).size).toBe(settings.length);
  });
});
