/**
 * Matching with NO path rules, as a new user starts: Plex and Stash see the same files under
 * different roots, many files share a name across folders. The tail of the path finds them;
 * a bare file name alone is not evidence enough; a tie is left to Fix Match.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { addStashScene, post, startWorld, type World } from "../helpers.ts";
import type { SimScene } from "../../sim/stash/library.ts";

let w: World;
const addScene = (world: World, files: string[], patch: Partial<SimScene> = {}) =>
  addStashScene(world.stash, files, patch);

const match = async (filename: string, manual = false) => {
  const res = await post(`${w.app.url}/library/metadata/matches`, {
    type: 1,
    filename,
    ...(manual ? { manual: 1 } : {}),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as any).MediaContainer.Metadata as { ratingKey: string; score: number }[];
};

beforeAll(async () => {
  w = await startWorld({ env: { PATHS_RULES: "[]" }, seed: { scenes: 300 } });
});
afterAll(() => w.close());

describe("no path rules: the tail of the path finds the file", () => {
  test("20 scenes whose files are all called intro.mp4, in different folders, POSIX and Windows: each to its own scene", async () => {
    const posix = Array.from({ length: 10 }, (_, i) => addScene(w, [`/data/stash/Studio ${i}/set ${i}/intro.mp4`]));
    const windows = Array.from({ length: 10 }, (_, i) =>
      addScene(w, [`D:\\Scenes\\Maker ${i}\\shoot ${i}\\intro.mp4`]),
    );
    await w.app.stashIndex.refresh();
    for (let i = 0; i < 10; i++) {
      expect((await match(`Scenes/Studio ${i}/set ${i}/intro.mp4`)).map((m) => [m.ratingKey, m.score])).toEqual([
        [posix[i]!, 98],
      ]);
      expect((await match(`Windows/Maker ${i}/shoot ${i}/intro.mp4`)).map((m) => m.ratingKey)).toEqual([windows[i]!]);
    }
  });

  test("two Stash files end with the same longest tail: no automatic match; Fix Match lists both", async () => {
    const a = addScene(w, ["/data/stash/North/day 1/clip.mp4"]);
    const b = addScene(w, ["/data/stash/South/day 1/clip.mp4"]);
    await w.app.stashIndex.refresh();
    expect(await match("Scenes/West/day 1/clip.mp4")).toEqual([]);
    expect((await match("Scenes/West/day 1/clip.mp4", true)).map((m) => m.ratingKey).sort()).toEqual([a, b].sort());
    // A longer tail tells them apart.
    expect((await match("Scenes/North/day 1/clip.mp4")).map((m) => m.ratingKey)).toEqual([a]);
  });

  test("a generic name Stash has once, in another folder, is not matched automatically; a distinctive one still is", async () => {
    const generic = addScene(w, ["/data/stash/Delta (Europe)/set 41/closing.mp4"], { title: "Sunset Velvet" });
    const distinctive = addScene(w, ["/data/stash/Old/2024-03-09 Harbor Lights Rooftop.mp4"], {
      title: "Harbor Lights Rooftop",
      date: "2024-03-09",
    });
    await w.app.stashIndex.refresh();
    expect(await match("Scenes/Alpha Films/new shoot/closing.mp4")).toEqual([]);
    expect((await match("Scenes/Alpha Films/new shoot/closing.mp4", true)).map((m) => m.ratingKey)).toContain(generic);
    expect((await match("Scenes/Moved/2024-03-09 Harbor Lights Rooftop.mp4")).map((m) => m.ratingKey)).toEqual([
      distinctive,
    ]);
  });

  test("a whole scan with no rules: every file Stash knows is matched to the scene that owns it, none wrongly", async () => {
    const report = await w.pms.scan("1", { concurrency: 16 });
    const owner = new Map<string, string>();
    for (const scene of w.stash.library.scenes.values()) for (const f of scene.files) owner.set(f.basename, scene.id);
    const wrong: string[] = [];
    let matched = 0;
    for (const r of report.results) {
      const guid = "metadata" in r ? (r.metadata as { guid?: string } | undefined)?.guid : undefined;
      const want = owner.get(r.file.path.split("/").at(-1)!);
      if (!guid) continue;
      matched++;
      if (!guid.endsWith(`/movie/${want}`)) wrong.push(`${r.file.path} → ${guid}`);
    }
    expect(wrong).toEqual([]);
    const unmatched = report.results.filter((r) => !("metadata" in r && r.metadata)).map((r) => r.file.path);
    expect(unmatched).toEqual(["/media/Scenes/Unknown/2020-01-01 Not In Stash.mp4"]);
    expect(matched).toBe(report.results.length - 1);
  }, 60_000);
});

describe("a miss from a complete index", () => {
  test("200 files Stash does not have cost at most one Stash query per two seconds, not two each; a scene added since is still found", async () => {
    await w.app.stashIndex.refresh();
    const before = w.stash.queries;
    const started = Date.now();
    for (let i = 0; i < 200; i++) expect(await match(`Scenes/Nowhere ${i}/unknown clip ${i}.mp4`)).toEqual([]);
    const windows = Math.ceil((Date.now() - started) / 2000);
    expect(w.stash.queries - before).toBeLessThanOrEqual(windows);
    // A scene Stash got a moment ago: once the index is older than two seconds, the miss loads the delta first.
    const added = addScene(w, ["/data/stash/Fresh/just added/brand new take.mp4"], { title: "Brand New Take" });
    await Bun.sleep(2100);
    expect((await match("Scenes/Fresh/just added/brand new take.mp4")).map((m) => m.ratingKey)).toEqual([added]);
  });
});

describe("Fix Match that finds", () => {
  const fixMatch = async (filename: string, title: string) => {
    const res = await post(`${w.app.url}/library/metadata/matches`, { type: 1, filename, title, manual: 1 });
    return ((await res.json()) as any).MediaContainer.Metadata as { ratingKey: string; score: number; title: string }[];
  };

  test("a typed title finds the scene first whatever the file is called (a renamed copy, a camera name)", async () => {
    const scene = w.stash.library.scenes.get("42")!;
    for (const file of [
      "Scenes/Downloads/IMG_0042 (1).mp4",
      "Scenes/Phone/VID_20240101_120000.mp4",
      "Scenes/Misc/copy of something else.mp4",
    ]) {
      expect((await fixMatch(file, scene.title!))[0]?.ratingKey).toBe("42");
    }
  });

  test("one word misspelt still finds it; exact hits rank above fuzzy ones", async () => {
    const exact = addScene(w, ["/data/stash/Fix/rooftop lanterns.mp4"], { title: "Rooftop Lanterns Evening" });
    const near = addScene(w, ["/data/stash/Fix/rooftop lantern.mp4"], { title: "Rooftop Lantern Evening" });
    await w.app.stashIndex.refresh();
    const typo = await fixMatch("Scenes/Downloads/clip (1).mp4", "Roftop Lanterns Evening");
    expect(
      typo
        .map((m) => m.ratingKey)
        .slice(0, 2)
        .sort(),
    ).toEqual([exact, near].sort());
    const typed = await fixMatch("Scenes/Downloads/clip (1).mp4", "Rooftop Lanterns Evening");
    expect(typed[0]!.ratingKey).toBe(exact);
    const fuzzyRank = typed.findIndex((m) => m.ratingKey === near);
    expect(fuzzyRank).toBeGreaterThan(0);
    expect(typed[fuzzyRank]!.score).toBeLessThan(typed[0]!.score);
  });
});
