import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDetector, pathKeys, type PlexItemView, type SectionView } from "../../src/gaps/detect.ts";
import { createItemSpill, openScratch, type SpillCodec } from "../../src/gaps/item-spill.ts";
import {
  differingFields,
  expectedFields,
  fieldText,
  listingMayHide,
  lockedFields,
  shownFields,
  showsNothing,
  type Shown,
} from "../../src/gaps/compare.ts";
import { stashIsEmpty } from "../../src/domain/scene.ts";
import { gapTotals } from "../../src/domain/gaps.ts";
import { headline, type HealthFacts } from "../../src/ui/headline.ts";
import { compilePathRules } from "../../src/paths/mapper.ts";
import { sceneToMetadata, type MetadataContext } from "../../src/provider/metadata.ts";
import type { StashScene } from "../../src/schema/stash.ts";

const ID = "tv.plex.agents.custom.stash2plex";
const ctx: MetadataContext = {
  identifier: ID,
  publicUrl: "http://s2p",
  contentRating: "XXX",
  genreMode: "all",
  excludeTags: [],
  taglineFrom: "code",
};
const { mapper } = compilePathRules([
  {
    name: "nas",
    plex: "^/media/",
    stash: "/data/",
    plexRoots: ["/media"],
    caseInsensitive: false,
    plexSeparator: "keep",
    stashSeparator: "keep",
    samples: [],
  },
]);

function scene(id: string, patch: Partial<StashScene> = {}): StashScene {
  return {
    id,
    title: `Scene ${id}`,
    code: null,
    details: `About ${id}`,
    director: null,
    urls: [],
    date: "2024-01-02",
    rating100: 80,
    organized: true,
    created_at: "2024-01-01T00:00:00Z",
    updated_at: "2024-01-01T00:00:00Z",
    files: [{ id: `f${id}`, path: `/data/S/${id}.mp4`, basename: `${id}.mp4`, duration: 60, width: 1, height: 1 }],
    paths: { screenshot: null },
    studio: { id: "1", name: "Studio", image_path: null, parent_studio: null },
    performers: [
      { id: "1", name: "Ann", disambiguation: null, image_path: null },
      { id: "2", name: "Bea", disambiguation: null, image_path: null },
    ],
    tags: [{ id: "1", name: "Outdoor" }],
    groups: [],
    scene_markers: [],
    stash_ids: [],
    ...patch,
  } as StashScene;
}
const meta = (s: StashScene) => sceneToMetadata(s, ctx);
/** The item Plex holds after pulling a scene from us: what a listing row shows. */
function item(
  s: StashScene,
  ratingKey: string,
  patch: Partial<PlexItemView> = {},
  fields: Record<string, unknown> = {},
): PlexItemView {
  return {
    ratingKey,
    sectionId: "1",
    guid: `${ID}://movie/${s.id}`,
    files: s.files.map((f) => f.path.replace("/data/", "/media/")),
    shown: shownFields({ ...meta(s), ...fields }, "critic"),
    ...patch,
  };
}
const ours: SectionView = { key: "1", title: "Scenes", locations: ["/media"], ours: true };
/** The items in a scratch file, as a reconcile keeps them (item-spill.ts). */
function spilled(items: PlexItemView[]) {
  const dir = mkdtempSync(join(tmpdir(), "s2p-spill-"));
  const scratch = openScratch(dir);
  const codec: SpillCodec<PlexItemView> = {
    encode: (i) => JSON.stringify({ ...i, skip: i.skip && [...i.skip], locked: i.locked && [...i.locked] }),
    decode: (json) => {
      const i = JSON.parse(json);
      if (i.skip) i.skip = new Set(i.skip);
      if (i.locked) i.locked = new Set(i.locked);
      return i;
    },
  };
  const spill = createItemSpill(scratch.db, "movies", codec);
  spill.addAll(items.map((item) => ({ item, keys: pathKeys(item) })));
  return {
    spill,
    close() {
      scratch.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
function detect(items: PlexItemView[], scenes: StashScene[], sections = [ours], onDisk = false) {
  const disk = onDisk ? spilled(items) : undefined;
  try {
    return detectIn(disk?.spill ?? items, scenes, sections);
  } finally {
    disk?.close();
  }
}
function detectIn(items: Parameters<typeof createDetector>[0], scenes: StashScene[], sections: SectionView[]) {
  const d = createDetector(items, {
    identifier: ID,
    mapper,
    sections,
    expected: (s) => expectedFields(meta(s), "critic", s.rating100),
  });
  scenes.forEach(d.scene);
  return d
    .finish()
    .map((g) => ({ kind: g.kind, scene: g.sceneId, item: g.ratingKey, fields: g.fields, reason: g.reason }));
}

describe("the items a reconcile keeps in its scratch file (item-spill.ts)", () => {
  test("found by each key in the order listed, the same object until released (those kept stay), claims left out at the end", () => {
    const [a, b, c] = ["1", "2", "3"].map((id, i) => item(scene(id), String(10 + i)));
    const disk = spilled([]);
    try {
      const { spill } = disk;
      spill.addAll([
        { item: a!, keys: ["x", "y"] },
        { item: b!, keys: ["x"] },
        { item: c!, keys: [] },
      ]);
      expect(spill.size).toBe(3);
      const [a1, b1] = spill.holding("x");
      expect([a1?.ratingKey, b1?.ratingKey]).toEqual(["10", "11"]);
      expect(spill.holding("y")[0]).toBe(a1!);
      expect(spill.holding("z")).toEqual([]);
      spill.release([b1!]);
      expect(spill.holding("x")[1]).toBe(b1!);
      expect(spill.holding("x")[0]).not.toBe(a1!);
      expect(spill.holding("x")[0]).toEqual(a!);
      spill.claim(b1!);
      expect([...spill.unclaimed()].map((i) => i.ratingKey)).toEqual(["10", "12"]);
    } finally {
      disk.close();
    }
  });

  test("a page's keys looked up at once answer as one lookup each would: the same items, objects and order", () => {
    const [a, b, c] = ["1", "2", "3"].map((id, i) => item(scene(id), String(10 + i)));
    const rows = [
      { item: b!, keys: ["x"] },
      { item: a!, keys: ["x", "y"] },
      { item: c!, keys: ["z"] },
    ];
    const each = spilled([]);
    const once = spilled([]);
    try {
      each.spill.addAll(rows);
      once.spill.addAll(rows);
      once.spill.prefetch(["x", "y", "x", "none"]);
      const keys = (s: typeof once.spill, k: string) => s.holding(k).map((i) => i.ratingKey);
      for (const k of ["x", "y", "z", "none"]) expect(keys(once.spill, k)).toEqual(keys(each.spill, k));
      expect(keys(once.spill, "x")).toEqual(["11", "10"]);
      // One object per item, whichever key found it.
      expect(once.spill.holding("y")[0]).toBe(once.spill.holding("x")[1]!);
      expect(once.spill.holding("none")).toEqual([]);
    } finally {
      each.close();
      once.close();
    }
  });

  test("named by process in the data folder, removed when closed; one a dead process left is removed", () => {
    const dir = mkdtempSync(join(tmpdir(), "s2p-spill-"));
    try {
      writeFileSync(join(dir, "reconcile-99999999.scratch.sqlite"), "left by a process that died");
      writeFileSync(join(dir, "stash2plex.sqlite"), "not a scratch file");
      const scratch = openScratch(dir);
      expect(readdirSync(dir).sort()).toEqual([`reconcile-${process.pid}.scratch.sqlite`, "stash2plex.sqlite"]);
      scratch.close();
      expect(readdirSync(dir)).toEqual(["stash2plex.sqlite"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the detector finds the same gaps in it as in an array", () => {
    const [s1, s2, s3, s4, s5] = ["1", "2", "3", "4", "5"].map((id) => scene(id));
    const two = scene("6", {
      files: [scene("6").files[0]!, { ...scene("6").files[0]!, id: "f6b", path: "/data/S/6-alt.mkv" }],
    });
    const items: PlexItemView[] = [
      item(s1!, "10"),
      item(s2!, "11", {}, { title: "Mine", Role: [{ tag: "Bea" }] }),
      item(s3!, "12", { guid: `${ID}://movie/4` }),
      item(s4!, "13", { guid: "local://13" }),
      item(scene("7"), "14"),
      item(two, "15", { locked: new Set(["title"]) }, { title: "Locked" }),
      {
        ratingKey: "16",
        sectionId: "1",
        guid: "local://16",
        files: ["/media/X/new.mp4"],
        shown: shownFields({}, "critic"),
      },
      item(s5!, "17", { skip: new Set(["summary"]) }, { summary: "user text" }),
    ];
    const scenes = [s1!, s2!, s3!, s4!, s5!, two];
    const inMemory = detect(items, scenes);
    expect(inMemory.map((g) => g.kind).sort()).toEqual([
      "orphaned",
      "stale",
      "unknown-to-stash",
      "unmatched",
      "wrong-scene",
    ]);
    expect(detect(items, scenes, [ours], true)).toEqual(inMemory);
  });
});

describe("gap detection (pure)", () => {
  test("in sync: no gap", () => {
    const scenes = [scene("1"), scene("2")];
    expect(
      detect(
        scenes.map((s, i) => item(s, String(i + 10))),
        scenes,
      ),
    ).toEqual([]);
  });

  test("missing-in-plex: only for a file inside a synced section's folder", () => {
    const inside = scene("1");
    const outside = scene("2", { files: [{ ...scene("2").files[0]!, path: "/elsewhere/2.mp4" }] });
    expect(detect([], [inside, outside])).toEqual([
      {
        kind: "missing-in-plex",
        scene: "1",
        item: undefined,
        fields: undefined,
        reason: 'Plex has no item for /media/S/1.mp4 in section "Scenes"',
      },
    ]);
  });

  test("missing-in-plex: a scene's second file Plex lacks, though its first is an item", () => {
    const two = scene("3", {
      files: [scene("3").files[0]!, { ...scene("3").files[0]!, id: "f3b", path: "/data/S/3-alt.mkv" }],
    });
    expect(detect([item(scene("3"), "30")], [two]).map((g) => [g.kind, g.reason])).toEqual([
      ["missing-in-plex", 'Plex has no item for /media/S/3-alt.mkv in section "Scenes"'],
    ]);
  });

  test("unknown-to-stash, with the Stash path its file would have", () => {
    const stray: PlexItemView = {
      ratingKey: "9",
      sectionId: "1",
      guid: "local://9",
      files: ["/media/X/new.mp4"],
      shown: shownFields({ title: "new" }, "critic"),
    };
    expect(detect([stray], [])).toMatchObject([
      { kind: "unknown-to-stash", item: "9", reason: "item 9 (/media/X/new.mp4): Stash has no file /data/X/new.mp4" },
    ]);
  });

  test("unmatched: not matched, or bound to another agent; only in sections on our provider", () => {
    const s1 = scene("1");
    const s2 = scene("2");
    const gaps = detect(
      [item(s1, "10", { guid: "local://10" }), item(s2, "11", { guid: "plex://movie/5d776" })],
      [s1, s2],
    );
    expect(gaps.map((g) => [g.kind, g.item, g.reason])).toEqual([
      ["unmatched", "10", "item 10 is not matched, though Stash scene 1 has its file"],
      ["unmatched", "11", "item 11 is bound to another agent (plex), though Stash scene 2 has its file"],
    ]);
    const editSection: SectionView = { ...ours, ours: false };
    expect(detect([item(s1, "10", { guid: "plex://movie/5d776" })], [s1], [editSection])).toEqual([]);
  });

  test("an item no path places, found by size and duration: its scene's (unmatched, then compared); several candidates: unmatched with them, no scene", () => {
    const [s1, s2] = [scene("1"), scene("2")];
    const copy = (ratingKey: string, patch: Partial<PlexItemView>): PlexItemView => ({
      ratingKey,
      sectionId: "1",
      guid: `local://${ratingKey}`,
      files: [`/media/Tidy/Studio - 2024-01-02 - Copy ${ratingKey}.mp4`],
      shown: shownFields({ title: "Copy" }, "critic"),
      ...patch,
    });
    const items = [
      item(s1, "10"),
      item(s2, "11"),
      copy("20", { foundBy: { sceneId: "1", how: "size+duration" } }),
      // Bound already (an index refresh did): its scene's item, compared like any other.
      copy("21", {
        guid: `${ID}://movie/2`,
        foundBy: { sceneId: "2", how: "oshash" },
        shown: shownFields(meta(s2), "critic"),
      }),
      copy("22", {
        ambiguous: {
          candidates: [
            { sceneId: "1", path: "/data/S/1.mp4" },
            { sceneId: "2", path: "/data/S/2.mp4" },
          ],
          why: "several Stash files have its size and duration",
        },
      }),
    ];
    for (const onDisk of [false, true])
      expect(detect(items, [s1, s2], [ours], onDisk).map((g) => [g.kind, g.scene, g.item, g.reason])).toEqual([
        [
          "unmatched",
          "1",
          "20",
          "item 20 is not matched, though its size and duration are Stash scene 1's file's (its name tells nothing)",
        ],
        [
          "unmatched",
          undefined,
          "22",
          "item 22 (/media/Tidy/Studio - 2024-01-02 - Copy 22.mp4) is not matched and its name tells nothing: several Stash files have its size and duration (scenes 1, 2); left unmatched for a person (Fix Match lists them first)",
        ],
      ]);
    // Without identity the copies are files Stash does not know.
    const bare = items.map(({ foundBy, ambiguous, ...i }) => i);
    expect(detect(bare, [s1, s2]).map((g) => g.kind)).toEqual([
      "unknown-to-stash",
      "unknown-to-stash",
      "unknown-to-stash",
    ]);
  });

  test("wrong-scene and orphaned: decided once every scene has been seen, whatever the order", () => {
    const [s1, s2, s3] = [scene("1"), scene("2"), scene("3")];
    const items = [
      item(s1, "10", { guid: `${ID}://movie/2` }),
      item(s2, "11"),
      item(s3, "12", { guid: `${ID}://movie/77` }),
    ];
    for (const order of [
      [s1, s2, s3],
      [s3, s2, s1],
    ]) {
      expect(
        detect(items, order)
          .map((g) => [g.kind, g.item, g.scene])
          .sort(),
      ).toEqual([
        ["orphaned", "12", "3"],
        ["wrong-scene", "10", "1"],
      ]);
    }
  });

  test("orphaned without an owner: the scene is gone and no scene has the file", () => {
    const gone = scene("5");
    expect(detect([item(gone, "50")], [])).toMatchObject([
      {
        kind: "orphaned",
        item: "50",
        reason: "item 50 is bound to scene 5, which Stash no longer has, and no scene has its file",
      },
    ]);
  });

  test("stale: the fields that differ, normalised as PMS does", () => {
    const s = scene("1");
    const same = item(s, "10", {}, { title: "  Scene   1 ", summary: "About 1\n", Genre: [{ tag: "OUTDOOR" }] });
    expect(detect([same], [s])).toEqual([]);
    const edited = item(s, "10", {}, { title: "Mine", studio: "Other", Role: [{ tag: "Bea" }] });
    expect(detect([edited], [s])).toMatchObject([
      {
        kind: "stale",
        scene: "1",
        fields: ["title", "studio", "performers"],
        reason: "item 10 differs from Stash scene 1 in title, studio, performers",
      },
    ]);
  });

  test("stale: a listing shows the first tags only; at that limit it is checked as a subset", () => {
    const s = scene("1", { tags: ["A", "B", "C", "D"].map((name, i) => ({ id: String(i), name })) });
    expect(detect([item(s, "10", {}, { Genre: [{ tag: "A" }, { tag: "B" }] })], [s])).toEqual([]);
    expect(detect([item(s, "10", {}, { Genre: [{ tag: "A" }, { tag: "Z" }] })], [s])).toMatchObject([
      { kind: "stale", fields: ["genres"] },
    ]);
    // Below the limit the list is whole: a missing tag is drift.
    const two = scene("2", {
      tags: [
        { id: "1", name: "A" },
        { id: "2", name: "B" },
      ],
    });
    expect(detect([item(two, "20", {}, { Genre: [{ tag: "A" }] })], [two])).toMatchObject([
      { kind: "stale", fields: ["genres"] },
    ]);
  });

  test("edit sections compare only their fields, and not what the user changed (keepUserEdits)", () => {
    const s = scene("1");
    const section: SectionView = { ...ours, ours: false, compared: new Set(["title", "summary"]) };
    const edited = item(
      s,
      "10",
      { guid: "plex://movie/x", skip: new Set(["summary"]) },
      { summary: "user text", studio: "Other" },
    );
    expect(detect([edited], [s], [section])).toEqual([]);
    const titled = item(s, "10", { guid: "plex://movie/x" }, { title: "Other" });
    expect(detect([titled], [s], [section])).toMatchObject([{ kind: "stale", fields: ["title"] }]);
  });

  test("empty, and stash-empty (never pushed over what Plex shows)", () => {
    const s = scene("1");
    const bare: PlexItemView = { ...item(s, "10"), shown: shownFields({ title: "1" }, "critic") };
    expect(detect([bare], [s])).toMatchObject([{ kind: "empty", item: "10" }]);
    const wiped = scene("2", { title: null, date: null, details: null, studio: null, performers: [], tags: [] });
    expect(detect([item(scene("2"), "20")], [wiped])).toMatchObject([{ kind: "stash-empty", scene: "2" }]);
  });
});

describe("field comparison", () => {
  const base: Shown = shownFields({ title: "T" }, "critic");
  test("rating: critic from the provider's Rating; user from userRating", () => {
    const s = scene("1", { rating100: 75 });
    expect(expectedFields(meta(s), "critic", 75).rating).toBe(7.5);
    expect(expectedFields(meta(s), "user", 75).rating).toBe(7.5);
    expect(shownFields({ userRating: 7.5 }, "user").rating).toBe(7.5);
    expect(shownFields({ audienceRating: "7.5" }, "critic").rating).toBe(7.5);
  });
  test("showsNothing and stashIsEmpty", () => {
    expect(showsNothing(base)).toBe(true);
    expect(showsNothing(shownFields({ title: "T", studio: "S" }, "critic"))).toBe(false);
    expect(stashIsEmpty(scene("1"))).toBe(false);
    expect(
      stashIsEmpty(scene("1", { title: " ", date: null, details: null, studio: null, performers: [], tags: [] })),
    ).toBe(true);
  });
  test("differingFields limited to some fields", () => {
    const other = shownFields({ title: "U", studio: "S" }, "critic");
    expect(differingFields(base, other, false, new Set(["studio"]))).toEqual(["studio"]);
    expect(differingFields(base, other, false)).toEqual(["title", "studio"]);
  });
});

describe("locks, sections of other agents, whole items (issue 17: defects 6–8)", () => {
  test("a field locked in Plex that differs is kept, not stale, where PMS re-pulls from us; other fields still count", () => {
    const s = scene("1");
    const locked = item(s, "10", { locked: new Set(["title"]) }, { title: "Mine", studio: "Other" });
    const d = createDetector([locked], {
      identifier: ID,
      mapper,
      sections: [ours],
      expected: (x) => expectedFields(meta(x), "critic", x.rating100),
    });
    expect(d.scene(s).map((g) => [g.kind, g.fields])).toEqual([["stale", ["studio"]]]);
    expect(d.kept()).toEqual([{ ratingKey: "10", sceneId: "1", fields: ["title"] }]);
    // In an edit section our own edits lock every field we write: a lock there says nothing.
    const editSection: SectionView = { ...ours, ours: false };
    expect(
      detect(
        [item(s, "10", { guid: "plex://movie/x", locked: new Set(["title"]) }, { title: "Mine" })],
        [s],
        [editSection],
      ),
    ).toMatchObject([{ kind: "stale", fields: ["title"] }]);
  });

  test("a whole item (not a listing row) is compared whole: a tag past the listed ones counts", () => {
    const s = scene("1", { tags: ["A", "B", "C"].map((name, i) => ({ id: String(i), name })) });
    const row = item(s, "10", {}, { Genre: [{ tag: "A" }, { tag: "B" }] });
    expect(listingMayHide(row.shown)).toBe(true);
    expect(detect([row], [s])).toEqual([]);
    expect(detect([{ ...row, full: true }], [s])).toMatchObject([{ kind: "stale", fields: ["genres"] }]);
  });

  test("a default-picked section of another agent: skipped with why when Stash knows no file in it; compared when it does", () => {
    const home: SectionView = {
      key: "2",
      title: "Home Videos",
      locations: ["/media/Home"],
      ours: false,
      optional: true,
      agent: "tv.plex.agents.none",
    };
    const stray: PlexItemView = {
      ratingKey: "9",
      sectionId: "2",
      guid: "local://9",
      files: ["/media/Home/a.mp4"],
      shown: shownFields({ title: "a" }, "critic"),
    };
    const d = createDetector([stray], {
      identifier: ID,
      mapper,
      sections: [ours, home],
      expected: (x) => expectedFields(meta(x), "critic", x.rating100),
    });
    expect(d.finish()).toEqual([]);
    expect(d.skipped()).toEqual([
      {
        key: "2",
        title: "Home Videos",
        agent: "tv.plex.agents.none",
        reason: expect.stringContaining("holds no file Stash knows"),
      },
    ]);
    // A scene whose file lies in that section: Stash knows it, so its other items are reported.
    const there = scene("3", { files: [{ ...scene("3").files[0]!, path: "/data/Home/b.mp4" }] });
    const d2 = createDetector([stray], {
      identifier: ID,
      mapper,
      sections: [ours, home],
      expected: (x) => expectedFields(meta(x), "critic", x.rating100),
    });
    d2.scene(there);
    expect(
      d2
        .finish()
        .map((g) => g.kind)
        .sort(),
    ).toEqual(["missing-in-plex", "unknown-to-stash"]);
    expect(d2.skipped()).toEqual([]);
  });

  test("locks as PMS shows them (Field elements); values as a person reads them", () => {
    expect([
      ...lockedFields({
        Field: [
          { name: "title", locked: true },
          { name: "summary", locked: false },
          { name: "genre", locked: "1" },
          { name: "thumb", locked: true },
        ],
      }),
    ]).toEqual(["title", "genres"]);
    expect(lockedFields({})).toEqual(new Set());
    expect(fieldText({ Genre: [{ tag: "A" }, { tag: " B " }] }, "genres", "critic")).toBe("A, B");
    expect(fieldText({ summary: "x".repeat(500) }, "summary", "critic")).toHaveLength(300);
    expect(fieldText({ userRating: 7 }, "rating", "user")).toBe("7");
  });

  test("gaps nobody can heal from here are counted apart and never keep the headline amber", () => {
    const run = { counts: { "unknown-to-stash": 5, "stash-empty": 2, stale: 3 }, healed: { stale: 3 } };
    expect(gapTotals(run, ["stale", "empty"])).toEqual({ toHeal: 0, forAPerson: 7 });
    expect(gapTotals(run, ["stale", "unknown-to-stash"])).toEqual({ toHeal: 5, forAPerson: 2 });
    // An unmatched item several scenes may be has no heal: a person's, not one to heal from here.
    const unsure = { counts: { unmatched: 4 }, healed: { unmatched: 3 }, unhealable: { unmatched: 1 } };
    expect(gapTotals(unsure, ["unmatched"])).toEqual({ toHeal: 0, forAPerson: 1 });
    const facts: HealthFacts = {
      stash: { ok: true },
      plex: { ok: true },
      database: { ok: true },
      breaker: "closed",
      pending: 0,
      deadLetters: 0,
      oldestWaitingMs: 0,
      lastReconcile: { status: "done", error: null, healable: 0, forAPerson: 7 },
    };
    const h = headline(facts);
    expect(h.level).toBe("green");
    expect(h.todo.join(" ")).toContain("7 gaps cannot be healed from here and need a person");
    expect(
      headline({ ...facts, lastReconcile: { status: "done", error: null, healable: 1, forAPerson: 7 } }).level,
    ).toBe("amber");
  });
});
