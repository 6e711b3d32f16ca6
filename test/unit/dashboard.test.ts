import { describe, expect, test } from "bun:test";
import { breakerText, headline, type HealthFacts } from "../../src/ui/headline.ts";
import { outageStats, percentText } from "../../src/ui/outage-stats.ts";
import { plural } from "../../src/ui/plural.ts";
import { html, raw } from "../../src/ui/html.ts";

const fine: HealthFacts = {
  stash: { ok: true },
  plex: { ok: true },
  database: { ok: true },
  breaker: "closed",
  pending: 0,
  deadLetters: 0,
  oldestWaitingMs: 0,
  lastReconcile: { status: "done", error: null, healable: 0 },
};

describe("the overview's headline", () => {
  test("green when all answers and nothing needs a person", () => {
    expect(headline(fine)).toMatchObject({ level: "green", title: "All is well" });
  });
  test("red names what is down and what to do; changes waiting are said to be kept", () => {
    const h = headline({ ...fine, plex: { ok: false, detail: "cannot connect" }, pending: 12 });
    expect(h.level).toBe("red");
    expect(h.title).toBe("Plex does not answer");
    expect(h.todo[0]).toContain(
      "Plex does not answer (cannot connect): check PLEX_URL and PLEX_TOKEN. 12 changes wait",
    );
    expect(headline({ ...fine, plex: { ok: false }, pending: 1 }).todo[0]).toContain(
      "1 change waits in the queue and is pushed",
    );
    expect(headline({ ...fine, breaker: "open" }).level).toBe("red");
    expect(headline({ ...fine, stash: { ok: false, detail: "401" } }).todo[0]).toContain("STASH_API_KEY");
    expect(headline({ ...fine, stash: { ok: false }, plex: { ok: false } }).title).toBe("Several things are wrong");
  });
  test("amber for dead letters, a long wait, a failed or gappy reconcile, push off", () => {
    expect(headline({ ...fine, deadLetters: 2 }).todo[0]).toContain("2 pushes gave up");
    expect(headline({ ...fine, deadLetters: 1 }).title).toBe("1 push gave up");
    expect(headline({ ...fine, oldestWaitingMs: 20 * 60_000 }).todo[0]).toContain("waited 20 min");
    expect(
      headline({ ...fine, lastReconcile: { status: "failed", error: "Plex down", healable: 0 } }).todo[0],
    ).toContain("stopped: Plex down");
    expect(headline({ ...fine, lastReconcile: { status: "done", error: null, healable: 3 } }).todo[0]).toContain(
      "3 gaps that",
    );
    expect(headline({ ...fine, lastReconcile: { status: "done", error: null, healable: 1 } }).todo[0]).toContain(
      "1 gap that",
    );
    expect(headline({ ...fine, plex: null }).level).toBe("amber");
  });
  test("write-back and TV libraries: a failed event or a TV library out of sync is amber; events on their way are said", () => {
    const failed = headline({ ...fine, writeback: { failed: 1, pending: 0 } });
    expect(failed).toMatchObject({ level: "amber", title: "1 write-back event failed" });
    expect(failed.todo[0]).toContain("1 event from Plex could not be written to Stash");
    const tv = headline({ ...fine, tvProblems: ["sites: Stash did not answer"] });
    expect(tv).toMatchObject({ level: "amber", title: "A TV library is not in sync" });
    expect(tv.todo[0]).toContain("TV library sites: Stash did not answer");
    const waiting = headline({ ...fine, writeback: { failed: 0, pending: 2 } });
    expect(waiting.level).toBe("green");
    expect(waiting.todo).toContain("2 events from Plex on their way to Stash.");
  });
  test("notes never turn the headline amber, but a green title counts them; a genuine problem still turns it amber", () => {
    const windows = "TV library sites: 12 scenes on a Windows path: no link (see the note under TV libraries).";
    const one = headline({ ...fine, notes: [windows] });
    expect(one).toMatchObject({ level: "green", title: "All is well — 1 note" });
    expect(one.todo).toEqual(["Plex shows what Stash holds; nothing waits.", windows]);
    // Gaps nobody can heal from here are a note like any other.
    const two = headline({
      ...fine,
      notes: [windows],
      lastReconcile: { status: "done", error: null, healable: 0, forAPerson: 3 },
    });
    expect(two.title).toBe("All is well — 2 notes");
    expect(two.todo).toHaveLength(3);
    // With a problem the headline is amber and its title the problem's; the note is still said.
    const amber = headline({ ...fine, notes: [windows], tvProblems: ["sites: the episode folder's parent is gone"] });
    expect(amber).toMatchObject({ level: "amber", title: "A TV library is not in sync" });
    expect(amber.todo).toEqual([
      "TV library sites: the episode folder's parent is gone (see the TV libraries table below).",
      windows,
    ]);
    expect(headline({ ...fine, notes: [] }).title).toBe("All is well");
  });
});

describe("the headline and the breaker card tell one story", () => {
  test('breaker open while Plex answers a check: not "Plex does not answer" beside a card saying it answers', () => {
    const h = headline({ ...fine, breaker: "open", pending: 3 });
    expect(h).toMatchObject({ level: "red", title: "Pushes to Plex are paused" });
    expect(h.todo[0]).not.toContain("does not answer");
    expect(breakerText("open", { ok: true })).toContain("pushes wait");
  });
  test("the card's words follow the same facts", () => {
    expect(breakerText("closed", { ok: true })).toBe("closed: pushes go out");
    expect(breakerText("closed", { ok: false })).toContain("no push has failed yet");
    expect(breakerText("half-open", { ok: true })).toContain("Plex answers again");
    expect(breakerText("closed", null)).toContain("push is off");
    expect(headline({ ...fine, pending: 1 }).todo[0]).toBe("1 change on its way to Plex.");
  });
});

describe("plurals", () => {
  test("1 push, 2 pushes, 10,000 dead letters", () => {
    expect(plural(1, "push", "pushes")).toBe("1 push");
    expect(plural(2, "push", "pushes")).toBe("2 pushes");
    expect(plural(0, "gap")).toBe("0 gaps");
    expect(plural(10_000, "dead letter")).toBe("10,000 dead letters");
  });
});

describe("outage statistics", () => {
  const H = 3_600_000;
  const now = 100 * 86_400_000;
  test("availability, MTTR and MTBF over the window; an ongoing outage counts until now; older ones do not", () => {
    const outages = [
      { started_at: now - 2 * H, ended_at: now - 1 * H },
      { started_at: now - 50 * H, ended_at: now - 47 * H },
      { started_at: now - 0.5 * H, ended_at: null },
      { started_at: now - 40 * 86_400_000, ended_at: now - 39 * 86_400_000 },
    ];
    const s = outageStats(outages, 7, now);
    expect(s.outages).toBe(3);
    expect(s.downMs).toBe(4.5 * H);
    expect(s.availability).toBeCloseTo(1 - 4.5 / (7 * 24), 6);
    expect(s.mttrMs).toBe(2 * H);
    // Up between the outages in the window: 47 h → 2 h ago (45 h), 1 h → 0.5 h ago (0.5 h).
    expect(s.mtbfMs).toBe(((45 + 0.5) / 2) * H);
    expect(outageStats([], 30, now)).toMatchObject({ availability: 1, mttrMs: null, mtbfMs: null });
    // An outage that began before the window counts only inside it.
    expect(outageStats([{ started_at: now - 8 * 86_400_000, ended_at: now - 6 * 86_400_000 }], 7, now).downMs).toBe(
      86_400_000,
    );
  });
  test("one short outage: MTBF is not the window's length, and availability does not read 100%", () => {
    const demo = [{ started_at: now - 10 * 60_000, ended_at: now - 10 * 60_000 + 1500 }];
    const week = outageStats(demo, 7, now);
    const month = outageStats(demo, 30, now);
    expect(week.mtbfMs).toBeNull();
    expect(month.mtbfMs).toBeNull();
    expect(percentText(week.availability)).toBe("99.99975%");
    expect(percentText(0.995)).toBe("99.50%");
    expect(percentText(month.availability)).not.toStartWith("100");
    expect(percentText(1)).toBe("100%");
    expect(percentText(0.5)).toBe("50.0%");
    expect(percentText(1 - 1e-12)).not.toStartWith("100");
  });
});

describe("html", () => {
  test("escapes every value unless it is already HTML; arrays and empty values", () => {
    const name = `<script>alert("x")</script>&'`;
    expect(html`<p title="${name}">${name}</p>`.__html).toBe(
      `<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>`,
    );
    expect(html`<ul>${["a", "<b>"].map((x) => html`<li>${x}</li>`)}</ul>`.__html).toBe(
      "<ul><li>a</li><li>&lt;b&gt;</li></ul>",
    );
    expect(html`${null}${undefined}${false}${0}${raw("<hr>")}`.__html).toBe("0<hr>");
  });
});
