import { describe, expect, test } from "bun:test";
import { compilePathRules, createPathMapper } from "../../src/paths/mapper.ts";
import { deriveReverse } from "../../src/paths/derive.ts";
import type { PathRuleConfig } from "../../src/schema/path-rule.ts";

const rule = (r: Partial<PathRuleConfig> & Pick<PathRuleConfig, "name" | "plex" | "stash">): PathRuleConfig => ({
  plexRoots: [],
  caseInsensitive: false,
  plexSeparator: "keep",
  stashSeparator: "keep",
  samples: [],
  ...r,
});
const mapperOf = (...rules: PathRuleConfig[]) => {
  const { mapper, problems } = compilePathRules(rules);
  expect(problems).toEqual([]);
  return mapper;
};

describe("path mapper", () => {
  test("maps a prefix both ways with a derived reverse", () => {
    const m = mapperOf(rule({ name: "nas", plex: "^/media/(.*)$", stash: "/data/$1" }));
    expect(m.toStash("/media/Studio/a b.mp4")).toEqual({ rule: "nas", path: "/data/Studio/a b.mp4" });
    expect(m.toPlex("/data/Studio/a b.mp4")).toEqual({ rule: "nas", path: "/media/Studio/a b.mp4" });
  });

  test("a replacement with a hyphen derives a reverse that compiles (no \\- under the u flag)", () => {
    const m = mapperOf(rule({ name: "dash", plex: "^/data/", stash: "/my-stash/media-1/" }));
    expect(m.toStash("/data/a-b.mp4")?.path).toBe("/my-stash/media-1/a-b.mp4");
    expect(m.toPlex("/my-stash/media-1/a-b.mp4")?.path).toBe("/data/a-b.mp4");
  });

  test("first matching rule wins, in order", () => {
    const m = mapperOf(
      rule({ name: "special", plex: "^/media/special/(.*)$", stash: "/special/$1" }),
      rule({ name: "all", plex: "^/media/(.*)$", stash: "/data/$1" }),
    );
    expect(m.toStash("/media/special/x.mp4")?.rule).toBe("special");
    expect(m.toStash("/media/other/x.mp4")).toEqual({ rule: "all", path: "/data/other/x.mp4" });
  });

  test("no rule matching gives null; no rules at all is the identity", () => {
    const m = mapperOf(rule({ name: "nas", plex: "^/media/(.*)$", stash: "/data/$1" }));
    expect(m.toStash("/elsewhere/x.mp4")).toBeNull();
    expect(m.toPlex("/elsewhere/x.mp4")).toBeNull();
    expect(createPathMapper([]).toStash("/a/b.mp4")).toEqual({ rule: "(identity)", path: "/a/b.mp4" });
  });

  test("Windows drive letters and backslashes, converting separators", () => {
    const m = mapperOf(
      rule({
        name: "win",
        plex: "^/mnt/scenes/(.*)$",
        stash: "D:\\Scenes\\$1",
        stashSeparator: "\\",
        plexSeparator: "/",
      }),
    );
    expect(m.toStash("/mnt/scenes/Studio/Sub/a.mp4")?.path).toBe("D:\\Scenes\\Studio\\Sub\\a.mp4");
    expect(m.toPlex("D:\\Scenes\\Studio\\Sub\\a.mp4")?.path).toBe("/mnt/scenes/Studio/Sub/a.mp4");
  });

  test("UNC paths", () => {
    const m = mapperOf(
      rule({
        name: "unc",
        plex: "^\\\\\\\\nas\\\\media\\\\(.*)$",
        stash: "/data/$1",
        stashSeparator: "/",
        plexSeparator: "\\",
      }),
    );
    expect(m.toStash("\\\\nas\\media\\Studio\\a.mp4")?.path).toBe("/data/Studio/a.mp4");
    expect(m.toPlex("/data/Studio/a.mp4")?.path).toBe("\\\\nas\\media\\Studio\\a.mp4");
  });

  test("unicode: an NFD path matches an NFC rule, output is NFC", () => {
    const m = mapperOf(rule({ name: "fr", plex: "^/media/Étoile/(.*)$", stash: "/data/Étoile/$1" }));
    const nfd = "/media/Étoile/Café.mp4".normalize("NFD");
    expect(nfd).not.toBe("/media/Étoile/Café.mp4");
    expect(m.toStash(nfd)?.path).toBe("/data/Étoile/Café.mp4".normalize("NFC"));
    expect(m.toPlex("/data/Étoile/東京.mp4")?.path).toBe("/media/Étoile/東京.mp4");
  });

  test("regex metacharacters in paths are literal in the derived reverse", () => {
    const m = mapperOf(rule({ name: "meta", plex: "^/media/\\(new\\)\\+\\[x\\]/(.*)$", stash: "/data/a.b$$c/$1" }));
    expect(m.toStash("/media/(new)+[x]/f (1).mp4")?.path).toBe("/data/a.b$c/f (1).mp4");
    expect(m.toPlex("/data/a.b$c/f (1).mp4")?.path).toBe("/media/(new)+[x]/f (1).mp4");
    expect(m.toPlex("/data/aXb$c/f.mp4")).toBeNull(); // the dot is literal
  });

  test("case-insensitive rules", () => {
    const m = mapperOf(rule({ name: "ci", plex: "^c:/media/(.*)$", stash: "/data/$1", caseInsensitive: true }));
    expect(m.toStash("C:/MEDIA/Foo.mp4")?.path).toBe("/data/Foo.mp4");
    expect(m.toPlex("/DATA/Foo.mp4")?.path).toBe("c:/media/Foo.mp4");
  });

  test("repeated segments: one substitution only, anchored where the rule says", () => {
    const m = mapperOf(rule({ name: "rep", plex: "^/media/(.*)$", stash: "/media/media/$1" }));
    expect(m.toStash("/media/media/media/x.mp4")?.path).toBe("/media/media/media/media/x.mp4");
    expect(m.toPlex("/media/media/media/media/x.mp4")?.path).toBe("/media/media/media/x.mp4");
    const unanchored = mapperOf(rule({ name: "mid", plex: "/old/", stash: "/new/" }));
    expect(unanchored.toStash("/a/old/b/old/c")?.path).toBe("/a/new/b/old/c");
  });

  test("named groups and several groups", () => {
    const m = mapperOf(
      rule({ name: "named", plex: "^/m/(?<studio>[^/]+)/(?<file>.*)$", stash: "/s/$<studio>/x/$<file>" }),
    );
    expect(m.toStash("/m/Vixen/a.mp4")?.path).toBe("/s/Vixen/x/a.mp4");
    expect(m.toPlex("/s/Vixen/x/a.mp4")?.path).toBe("/m/Vixen/a.mp4");
  });

  test("an explicit reverse is used as given", () => {
    const m = mapperOf(
      rule({
        name: "explicit",
        plex: "^/media/.*?/(.*)$",
        stash: "/data/$1",
        reverse: { stash: "^/data/(.*)$", plex: "/media/all/$1" },
      }),
    );
    expect(m.toStash("/media/anything/x.mp4")?.path).toBe("/data/x.mp4");
    expect(m.toPlex("/data/x.mp4")?.path).toBe("/media/all/x.mp4");
  });

  test("relative filenames from PMS resolve through the rule's library roots", () => {
    const m = mapperOf(
      rule({ name: "a", plex: "^/media/Adult/(.*)$", stash: "/data/$1", plexRoots: ["/media/Adult/"] }),
      rule({ name: "b", plex: "^D:\\\\Lib\\\\(.*)$", stash: "/win/$1", plexRoots: ["D:\\Lib"] }),
    );
    expect(m.plexCandidates("Adult/Studio/x.mp4")).toEqual(["/media/Adult/Studio/x.mp4"]);
    expect(m.plexCandidates("Lib/Studio/x.mp4")).toEqual(["D:\\Lib\\Studio\\x.mp4"]);
    expect(m.plexCandidates("Other/x.mp4")).toEqual([]);
    expect(m.plexCandidates("x.mp4")).toEqual([]);
  });
});

describe("path rule checks at start-up", () => {
  test("samples map both ways and round-trip", () => {
    const { problems } = compilePathRules([
      rule({
        name: "ok",
        plex: "^/media/(.*)$",
        stash: "/data/$1",
        samples: [{ plex: "/media/a.mp4", stash: "/data/a.mp4" }],
      }),
    ]);
    expect(problems).toEqual([]);
  });

  test("a wrong sample names the rule, the sample, what was expected and what came out", () => {
    const { problems } = compilePathRules([
      rule({
        name: "nas",
        plex: "^/media/(.*)$",
        stash: "/data/$1",
        samples: [{ plex: "/media/a.mp4", stash: "/stash/a.mp4" }],
      }),
    ]);
    expect(problems.length).toBe(2);
    expect(problems[0]).toContain('path rule "nas"');
    expect(problems[0]).toContain('"/media/a.mp4"');
    expect(problems[0]).toContain('expected "/stash/a.mp4"');
    expect(problems[0]).toContain('got "/data/a.mp4"');
    expect(problems[1]).toContain("Stash → Plex");
    expect(problems[1]).toContain("no rule matching");
  });

  test("a sample caught by an earlier rule is reported", () => {
    const { problems } = compilePathRules([
      rule({ name: "broad", plex: "^/media/(.*)$", stash: "/data/$1" }),
      rule({
        name: "narrow",
        plex: "^/media/x/(.*)$",
        stash: "/data/x/$1",
        samples: [{ plex: "/media/x/a.mp4", stash: "/data/x/a.mp4" }],
      }),
    ]);
    expect(problems.some((p) => p.includes('earlier rule "broad"'))).toBe(true);
  });

  test("invalid regex, underivable reverse and duplicate names are clear problems", () => {
    const { problems } = compilePathRules([
      rule({ name: "bad", plex: "^/media/(", stash: "/x" }),
      rule({ name: "loose", plex: "^/media/.*/(.*)$", stash: "/data/$1" }),
      rule({ name: "loose", plex: "^/a/(.*)$", stash: "/b/$1" }),
    ]);
    expect(problems.find((p) => p.includes('"bad"'))).toContain("not a valid regex");
    expect(problems.find((p) => p.includes('"loose"') && p.includes("derive"))).toContain("add reverse");
    expect(problems.some((p) => p.includes("names must be unique"))).toBe(true);
  });

  test("deriveReverse explains what it cannot invert", () => {
    expect(deriveReverse("^/a|/b$", "/x")).toContain("cannot be inverted");
    expect(deriveReverse("^/a/(.*)$", "/x/$2")).toContain("does not capture");
    expect(deriveReverse("^/a/(.*)/(.*)$", "/x/$1")).toContain("every captured group");
    expect(deriveReverse("^/a/\\d+/(.*)$", "/x/$1")).toContain("not literal");
  });
});
