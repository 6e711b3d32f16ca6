import { describe, expect, test } from "bun:test";
import { headline, type HealthFacts } from "../../src/ui/headline.ts";
import { outageStats } from "../../src/ui/outage-stats.ts";
import { html, raw } from "../../src/ui/html.ts";

const fine: HealthFacts = {
  stash: { ok: true }, plex: { ok: true }, database: { ok: true }, breaker: "closed",
  pending: 0, deadLetters: 0, oldestWaitingMs: 0, lastReconcile: { status: "done", error: null, healable: 0 },
};

describe("the overview's headline", () => {
  test("green when all answers and nothing needs a person", () => {
    expect(headline(fine)).toMatchObject({ level: "green", title: "All is well" });
  });
  test("red names what is down and what to do; changes waiting are said to be kept", () => {
    const h = headline({ ...fine, plex: { ok: false, detail: "cannot connect" }, pending: 12 });
    expect(h.level).toBe("red");
    expect(h.title).toBe("Plex does not answer");
    expect(h.todo[0]).toContain("Plex does not answer (cannot connect): check PLEX_URL and PLEX_TOKEN. 12 change(s) wait");
    expect(headline({ ...fine, breaker: "open" }).level).toBe("red");
    expect(headline({ ...fine, stash: { ok: false, detail: "401" } }).todo[0]).toContain("STASH_API_KEY");
    expect(headline({ ...fine, stash: { ok: false }, plex: { ok: false } }).title).toBe("Several things are wrong");
  });
  test("amber for dead letters, a long wait, a failed or gappy reconcile, push off", () => {
    expect(headline({ ...fine, deadLetters: 2 }).todo[0]).toContain("2 push(es) gave up");
    expect(headline({ ...fine, oldestWaitingMs: 20 * 60_000 }).todo[0]).toContain("waited 20 min");
    expect(headline({ ...fine, lastReconcile: { status: "failed", error: "Plex down", healable: 0 } }).todo[0]).toContain("stopped: Plex down");
    expect(headline({ ...fine, lastReconcile: { status: "done", error: null, healable: 3 } }).todo[0]).toContain("3 gap(s)");
    expect(headline({ ...fine, plex: null }).level).toBe("amber");
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
    expect(s.mtbfMs).toBe((7 * 24 - 4.5) * H / 3);
    expect(outageStats([], 30, now)).toMatchObject({ availability: 1, mttrMs: null, mtbfMs: null });
    // An outage that began before the window counts only inside it.
    expect(outageStats([{ started_at: now - 8 * 86_400_000, ended_at: now - 6 * 86_400_000 }], 7, now).downMs).toBe(86_400_000);
  });
});

describe("html", () => {
  test("escapes every value unless it is already HTML; arrays and empty values", () => {
    const name = `<script>alert("x")</script>&'`;
    expect(html`<p title="${name}">${name}</p>`.__html).toBe(`<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>`);
    expect(html`<ul>${["a", "<b>"].map((x) => html`<li>${x}</li>`)}</ul>`.__html).toBe("<ul><li>a</li><li>&lt;b&gt;</li></ul>");
    expect(html`${null}${undefined}${false}${0}${raw("<hr>")}`.__html).toBe("0<hr>");
  });
});
