import { describe, expect, test } from "bun:test";
import { cluesFrom, findDate, isConfidentSearchMatch, scoreCandidate, searchWords } from "../../src/provider/score.ts";
import { typoAllowance, withinEdits } from "../../src/text.ts";
import { nameAgrees } from "../../src/provider/match.ts";
import { refusalNote, refusedBy } from "../../src/provider/gates.ts";
import { gateBits } from "../../src/domain/scene.ts";

describe("match scoring", () => {
  test("dates in the usual scene-name forms", () => {
    expect(findDate("Vixen.24.01.15.Alice.Title.XXX.1080p.mp4")).toBe("2024-01-15");
    expect(findDate("2023-12-31 Title.mp4")).toBe("2023-12-31");
    expect(findDate("Title 2023.02.30.mp4")).toBeUndefined();
    expect(findDate("Title 1080p.mp4")).toBeUndefined();
  });

  test("clues drop noise words, numbers and the extension", () => {
    const c = cluesFrom({ filename: "Adult/Vixenia/Vixenia.24.01.15.Golden.Hour.XXX.1080p.mp4" });
    expect(c.date).toBe("2024-01-15");
    expect(c.words).toEqual(["vixenia", "golden", "hour"]); // the folder just above the file counts, the library root does not
    expect(searchWords(c)).toEqual(["vixenia", "golden", "hour"]);
  });

  test("title, date and studio add up; a perfect fit scores 100", () => {
    const c = cluesFrom({ filename: "Adult/Vixenia/Vixenia.24.01.15.Golden.Hour.mp4" });
    expect(scoreCandidate(c, { title: "Golden Hour", date: "2024-01-15", studio: "Vixenia" })).toBe(100);
    expect(scoreCandidate(c, { title: "Golden Hour", date: "2024-01-16", studio: "Vixenia" })).toBe(85);
    expect(scoreCandidate(c, { title: "Golden Hour" })).toBe(60);
    expect(scoreCandidate(c, { title: "Silver Night", date: "2020-01-01" })).toBe(0);
  });

  test("accents and case do not matter; studio names with spaces are found compacted", () => {
    const c = cluesFrom({ filename: "Lib/StudioEtoile.Cafe.Noir.mp4" });
    expect(scoreCandidate(c, { title: "Café Noir", studio: "Studio Étoile" })).toBe(75);
  });

  test("automatic search matches need a high score and a clear lead", () => {
    expect(isConfidentSearchMatch(90, undefined)).toBe(true);
    expect(isConfidentSearchMatch(90, 85)).toBe(false);
    expect(isConfidentSearchMatch(84, undefined)).toBe(false);
  });
});

describe("typo tolerance", () => {
  test("within edits: insert, delete, substitute, swapped neighbours; early give-up is still exact", () => {
    expect(withinEdits("harbor", "harbor", 0)).toBe(true);
    expect(withinEdits("harbr", "harbor", 1)).toBe(true);
    expect(withinEdits("harbour", "harbor", 1)).toBe(true);
    expect(withinEdits("midnigth", "midnight", 1)).toBe(true);
    expect(withinEdits("harbor", "garden", 2)).toBe(false);
    expect(withinEdits("cat", "dog", 2)).toBe(false);
    expect(withinEdits("a", "abcd", 2)).toBe(false);
    expect([typoAllowance("sun"), typoAllowance("velvet"), typoAllowance("midnight")]).toEqual([0, 1, 2]);
  });

  test("a unique file name is evidence only with something that agrees", () => {
    expect(nameAgrees("intro.mp4", { title: "Sunset Velvet", date: "2024-01-02" })).toBe(false);
    expect(nameAgrees("IMG_0042.mp4", { title: "Sunset Velvet" })).toBe(false);
    expect(nameAgrees("2024-01-02 intro.mp4", { title: "Sunset Velvet", date: "2024-01-02" })).toBe(true);
    expect(nameAgrees("sunset-velvet.mp4", { title: "Sunset Velvet" })).toBe(true);
    expect(nameAgrees("rooftop lanterns at dusk.mp4", { title: null })).toBe(true);
  });
});

describe("match gates", () => {
  test("each gate refuses exactly the scenes lacking its fact", () => {
    const full = gateBits({ organized: true, urls: ["https://x"], stash_ids: [{ stash_id: "a" }] });
    const bare = gateBits({ organized: false, urls: null, stash_ids: [] });
    expect(refusedBy(["organized", "stashId", "url"], full)).toEqual([]);
    expect(refusedBy(["organized", "stashId", "url"], bare)).toEqual(["organized", "stashId", "url"]);
    expect(refusedBy(["url"], gateBits({ organized: true, urls: [] }))).toEqual(["url"]);
    expect(refusedBy([], bare)).toEqual([]);
    expect(refusalNote(["organized", "url"])).toBe("not organized, no URL");
  });
});
