import { describe, expect, test } from "bun:test";
import { inferPathRules } from "../../src/paths/infer.ts";
import { compilePathRules } from "../../src/paths/mapper.ts";

/** A library where many files share a name across folders (intro.mp4 in every set). */
function library(root: string, sep = "/", count = 60): string[] {
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const studio = ["Alpha Films", "Delta (Europe)", "Kilo-Studio"][i % 3]!;
    files.push([root, studio, `set ${i}`, i % 2 ? "intro.mp4" : `Scene ${i} Title.mp4`].join(sep));
  }
  return files;
}

function compiled(rules: ReturnType<typeof inferPathRules>["rules"]) {
  const { mapper, problems } = compilePathRules(rules.map((r) => r.rule));
  expect(problems).toEqual([]);
  return mapper;
}

describe("path rule inference", () => {
  test("different roots: the prefix pair a person would write, every file covered both ways", () => {
    const plex = library("/data/media/Adult");
    const stash = library("/stash/library");
    const { rules } = inferPathRules(plex, stash, ["/data/media/Adult"]);
    expect(rules).toHaveLength(1);
    expect(rules[0]!.rule).toMatchObject({
      name: "Adult",
      plex: "^/data/media/Adult/",
      stash: "/stash/library/",
      plexRoots: ["/data/media/Adult"],
    });
    expect(rules[0]!.plex).toEqual({ touched: 60, mapped: 60 });
    expect(rules[0]!.stash).toEqual({ touched: 60, mapped: 60 });
    const mapper = compiled(rules);
    plex.forEach((p, i) => expect(mapper.toStash(p)?.path).toBe(stash[i]!));
    stash.forEach((s, i) => expect(mapper.toPlex(s)?.path).toBe(plex[i]!));
  });

  test("the same folder name on both sides: goes down to the Plex library folder, not above it", () => {
    const { rules } = inferPathRules(library("/data/media/Adult"), library("/stash/Adult"), ["/data/media/Adult/"]);
    expect(rules.map((r) => [r.rule.plex, r.rule.stash])).toEqual([["^/data/media/Adult/", "/stash/Adult/"]]);
  });

  test("Windows-style Stash paths: drive letter, backslashes, case ignored as NTFS does", () => {
    const plex = library("/mnt/scenes");
    const stash = library("D:\\Scenes", "\\").map((p, i) =>
      i % 5 === 0 ? p.toUpperCase().replace("D:\\SCENES", "D:\\Scenes") : p,
    );
    const { rules } = inferPathRules(plex, stash, ["/mnt/scenes"]);
    expect(rules).toHaveLength(1);
    expect(rules[0]!.rule).toMatchObject({
      plex: "^/mnt/scenes/",
      stash: "D:\\Scenes\\",
      caseInsensitive: true,
      stashSeparator: "\\",
      plexSeparator: "/",
    });
    expect(rules[0]!.plex).toEqual({ touched: 60, mapped: 60 });
    const mapper = compiled(rules);
    expect(mapper.toStash(plex[1]!)?.path).toBe(stash[1]!);
    expect(mapper.toPlex(stash[1]!)?.path).toBe(plex[1]!);
  });

  test("two libraries under different roots: one rule each", () => {
    const plex = [
      ...library("/media/a"),
      ...library("/media/b/Scenes", "/", 30).map((p) => p.replace(".mp4", " b.mp4")),
    ];
    const stash = [...library("/x/one"), ...library("/y/two", "/", 30).map((p) => p.replace(".mp4", " b.mp4"))];
    const { rules } = inferPathRules(plex, stash, ["/media/a", "/media/b/Scenes"]);
    expect(rules.map((r) => [r.rule.plex, r.rule.stash, r.plex.mapped])).toEqual([
      ["^/media/a/", "/x/one/", 60],
      ["^/media/b/Scenes/", "/y/two/", 30],
    ]);
    compiled(rules);
  });

  test("a POSIX and a Windows library side by side (the demo's layout): the two rules the demo configures by hand", () => {
    const plex = [
      ...library("/media/Scenes"),
      ...library("/media/Windows", "/", 30).map((p) => p.replace(".mp4", " w.mp4")),
    ];
    const stash = [
      ...library("/data/stash"),
      ...library("D:\\Scenes", "\\", 30).map((p) => p.replace(".mp4", " w.mp4")),
    ];
    const { rules } = inferPathRules(plex, stash, ["/media/Scenes", "/media/Windows"]);
    expect(rules.map((r) => [r.rule.plex, r.rule.stash, r.rule.caseInsensitive, r.plex.mapped])).toEqual([
      ["^/media/Scenes/", "/data/stash/", false, 60],
      ["^/media/Windows/", "D:\\Scenes\\", true, 30],
    ]);
    const mapper = compiled(rules);
    expect(mapper.toStash("/media/Windows/Alpha Films/set 0/Scene 0 Title w.mp4")?.path).toBe(
      "D:\\Scenes\\Alpha Films\\set 0\\Scene 0 Title w.mp4",
    );
  });

  test("a case-sensitive side: names differing only in case do not map", () => {
    const plex = library("/data/media/Adult");
    const stash = library("/stash/library").map((p) => p.replace("intro", "Intro"));
    const { rules } = inferPathRules(plex, stash, ["/data/media/Adult"]);
    expect(rules[0]!.plex).toEqual({ touched: 60, mapped: 30 });
  });

  test("the same paths on both sides: no rule needed", () => {
    const files = library("/data");
    const result = inferPathRules(files, files, ["/data"]);
    expect(result.rules).toEqual([]);
    expect(result.identical).toBe(60);
  });

  test("coverage counts what Stash lacks; stray namesakes elsewhere do not make rules", () => {
    const plex = library("/data/media/Adult");
    const stash = library("/stash/library").slice(0, 50);
    stash.push("/somewhere/else/intro.mp4", "/tmp/Scene 0 Title.mp4");
    const { rules } = inferPathRules(plex, stash, ["/data/media/Adult"]);
    expect(rules).toHaveLength(1);
    expect(rules[0]!.plex).toEqual({ touched: 60, mapped: 50 });
    expect(rules[0]!.stash).toEqual({ touched: 50, mapped: 50 });
  });

  test("nothing in common: no proposal", () => {
    expect(inferPathRules(library("/a"), ["/b/other.mp4"], []).rules).toEqual([]);
    expect(inferPathRules([], [], []).rules).toEqual([]);
  });
});
