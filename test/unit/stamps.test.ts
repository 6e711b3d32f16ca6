/** Stash's stamps in Stash's own (text) terms, and the JSON nesting scan: pure helpers. */
import { describe, expect, test } from "bun:test";
import { instantOf, offsetOf, secondOf, stampAt, textMax, wallClock } from "../../src/stash/stamps.ts";
import { nestingDepth } from "../../src/json-body.ts";

const NOON_UTC = Date.UTC(2026, 10, 24, 12, 0, 5, 700);

describe("Stash stamps", () => {
  test("written as Stash writes them: local wall clock with the offset, Z at UTC, to the second", () => {
    expect(stampAt(NOON_UTC, -300)).toBe("2026-11-24T07:00:05-05:00");
    expect(stampAt(NOON_UTC, 330)).toBe("2026-11-24T17:30:05+05:30");
    expect(stampAt(NOON_UTC, 0)).toBe("2026-11-24T12:00:05Z");
    expect(wallClock(NOON_UTC, -720)).toBe("2026-11-24T00:00:05");
  });

  test("offsets, seconds and instants read back", () => {
    expect([
      offsetOf("2026-11-24T07:00:05-05:00"),
      offsetOf("2026-11-24T17:30:05+05:30"),
      offsetOf("2026-11-24T12:00:05Z"),
      offsetOf(""),
    ]).toEqual([-300, 330, 0, undefined]);
    expect(secondOf("2026-11-24T07:00:05-05:00")).toBe("2026-11-24T07:00:05");
    expect(instantOf("2026-11-24T07:00:05-05:00")).toBe(instantOf("2026-11-24T12:00:05Z"));
  });

  test("order is Stash's text order, not time order: the same instant west of UTC sorts lower", () => {
    expect(textMax("2026-11-24T07:00:05-05:00", "2026-11-24T12:00:04Z")).toBe("2026-11-24T12:00:04Z");
    // A second's own prefix sorts below every stamp of that second, whatever its offset.
    expect(secondOf("2026-11-24T07:00:05-05:00") < "2026-11-24T07:00:05-05:00").toBe(true);
    expect(secondOf("2026-11-24T07:00:05Z") < "2026-11-24T07:00:05Z").toBe(true);
  });
});

describe("JSON nesting depth", () => {
  test("counts arrays and objects, not brackets inside strings or escaped quotes", () => {
    expect(nestingDepth('{"a":[1,{"b":2}]}', 10)).toBe(3);
    expect(nestingDepth('{"a":"[[[[{{{{","b":"\\\\\\"[["}', 10)).toBe(1);
    expect(nestingDepth("42", 10)).toBe(0);
  });

  test("stops one level past the limit instead of scanning the rest", () => {
    expect(nestingDepth("[".repeat(100_000), 8)).toBe(9);
  });
});
