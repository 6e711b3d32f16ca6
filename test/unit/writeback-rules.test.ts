import { describe, expect, test } from "bun:test";
import {
  decideProgress,
  decideRating,
  ECHO_WINDOW_MS,
  hasPlayAt,
  isAllowedAccount,
  ratingsAgree,
  resumeSeconds,
  toPlexRating,
  toRating100,
} from "../../src/writeback/rules.ts";

const T = Date.UTC(2026, 11, 2, 7, 0, 0);

describe("the scales: Plex stars (0–10) and Stash's rating100", () => {
  test("4 stars (8) is 80; half stars and fractions round to whole rating100; the ends are clamped", () => {
    expect(toRating100(8)).toBe(80);
    expect(toRating100(7)).toBe(70);
    expect(toRating100(7.5)).toBe(75);
    expect(toRating100(7.3)).toBe(73);
    expect(toRating100(0)).toBe(0);
    expect(toRating100(10)).toBe(100);
    expect(toRating100(11)).toBe(100);
    expect(toPlexRating(73)).toBeCloseTo(7.3);
  });
  test("Stash 73 agrees with Plex 7, 7.5 and 7.3 (our own push), not with 8; unset agrees only with unset", () => {
    expect(ratingsAgree(73, 7)).toBe(true);
    expect(ratingsAgree(73, 7.5)).toBe(true);
    expect(ratingsAgree(73, 7.3)).toBe(true);
    expect(ratingsAgree(73, 8)).toBe(false);
    expect(ratingsAgree(75, 7)).toBe(false); // half a Plex step away: a change
    expect(ratingsAgree(null, null)).toBe(true);
    expect(ratingsAgree(null, 8)).toBe(false);
    expect(ratingsAgree(80, null)).toBe(false);
  });
});

describe("a rate event", () => {
  test("a value that agrees after rounding is not written: Stash's 73 is never rewritten to 70", () => {
    expect(decideRating(7, 73, undefined, T)).toMatchObject({ write: false, reason: "agrees" });
    expect(decideRating(7.5, 73, undefined, T)).toMatchObject({ write: false, reason: "agrees" });
  });
  test("a new value is written ×10", () => {
    expect(decideRating(8, 73, undefined, T)).toMatchObject({ write: true, rating100: 80 });
    expect(decideRating(8, null, undefined, T)).toMatchObject({ write: true, rating100: 80 });
  });
  test("the echo of our own push within the window is ignored; after it, or another value, is a user's rating", () => {
    const pushed = { value: 6, by: "push" as const, at: T };
    expect(decideRating(6, 90, pushed, T + 1000)).toMatchObject({ write: false, reason: "echo" });
    expect(decideRating(6, 90, pushed, T + ECHO_WINDOW_MS)).toMatchObject({ write: false, reason: "echo" });
    expect(decideRating(6, 90, pushed, T + ECHO_WINDOW_MS + 1)).toMatchObject({ write: true, rating100: 60 });
    expect(decideRating(8, 60, pushed, T + 1000)).toMatchObject({ write: true, rating100: 80 });
    // A user's own earlier rating is never an echo.
    expect(decideRating(6, 90, { ...pushed, by: "plex" }, T + 1000)).toMatchObject({ write: true, rating100: 60 });
  });
  test("cleared in Plex: Stash's rating is cleared only when it agrees with what Plex had", () => {
    const had = { value: 8, by: "plex" as const, at: T - 60_000 };
    expect(decideRating(null, 80, had, T)).toMatchObject({ write: true, rating100: null });
    expect(decideRating(null, 82, had, T)).toMatchObject({ write: true, rating100: null });
    // Changed in Stash since (not what Plex showed), or never known: the Stash rating is kept.
    expect(decideRating(null, 40, had, T)).toMatchObject({ write: false, reason: "kept" });
    expect(decideRating(null, 80, undefined, T)).toMatchObject({ write: false, reason: "kept" });
    expect(decideRating(null, null, had, T)).toMatchObject({ write: false, reason: "agrees" });
  });
});

describe("plays and resume points", () => {
  test("a play is in the history when one lies within ±2 s of Plex's time (Stash keeps seconds)", () => {
    const history = ["2026-12-02T07:00:01Z", "2026-11-30T20:00:00Z"];
    expect(hasPlayAt(history, T + 1500)).toBe(true);
    expect(hasPlayAt(history, T - 900)).toBe(true);
    expect(hasPlayAt(history, T + 3100)).toBe(false);
    expect(hasPlayAt([], T)).toBe(false);
  });
  test("a stop sets the resume point in seconds; past 90% it is a finish and clears it", () => {
    expect(resumeSeconds(754_400)).toBe(754);
    expect(resumeSeconds(754_400, 1_800_000)).toBe(754);
    expect(resumeSeconds(1_700_000, 1_800_000)).toBe(0);
    expect(resumeSeconds(0)).toBe(0);
  });
  test("a stop is written unless Stash has it (±5 s) or it is older than Stash's last play", () => {
    const stop = { at: T, viewOffsetMs: 600_000, durationMs: 1_800_000 };
    expect(decideProgress(stop, { resume_time: 0 })).toMatchObject({ write: true, resumeSeconds: 600 });
    expect(decideProgress(stop, { resume_time: 604 })).toMatchObject({ write: false, reason: "agrees" });
    expect(decideProgress(stop, { resume_time: 606 })).toMatchObject({ write: true });
    expect(decideProgress(stop, { resume_time: 0, last_played_at: "2026-12-02T07:05:00Z" })).toMatchObject({
      write: false,
      reason: "stale",
    });
    expect(decideProgress(stop, { resume_time: 0, last_played_at: "2026-12-02T06:05:00Z" })).toMatchObject({
      write: true,
    });
  });
});

describe("which Plex users count", () => {
  test("by default the server owner (account 1) alone", () => {
    expect(isAllowedAccount({ id: "1", name: "owner" }, [])).toBe(true);
    expect(isAllowedAccount({ id: "7", name: "guest" }, [])).toBe(false);
  });
  test("an allow-list by id or name (any case) replaces the default", () => {
    const users = ["7", "Alice"];
    expect(isAllowedAccount({ id: "7" }, users)).toBe(true);
    expect(isAllowedAccount({ id: "9", name: "alice" }, users)).toBe(true);
    expect(isAllowedAccount({ id: "1", name: "owner" }, users)).toBe(false);
  });
});
