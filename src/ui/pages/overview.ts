/** Overview: a red/amber/green headline with what to do, and the numbers behind it. */
import { breakerText, headline } from "../headline.ts";
import { ago, html, nextRun, plural, type Html } from "../html.ts";
import type { DashboardSource } from "../source.ts";
import { gapTotals } from "../../domain/gaps.ts";

/** "open: pushes wait until Plex answers again" → the state large, what it means below. */
const breakerCard = (text: string) => {
  const [state, meaning] = text.split(/: (.*)/s);
  return html`<span class="big" id="breaker-state">${state}</span><br><span class="muted">${meaning ?? ""}</span>`;
};

export async function overviewSection(src: DashboardSource, now = Date.now()): Promise<Html> {
  const checks = await src.checks();
  const pushOn = Boolean(src.config.plex.url);
  const jobs = src.queue.jobs(1);
  const last = src.reconciler?.reports.last();
  // Only what this service heals (src.healable) keeps the headline amber; the rest needs a person.
  const { toHeal: healable, forAPerson } = last ? gapTotals(last, src.healable) : { toHeal: 0, forAPerson: 0 };
  const pending = src.queue.pending();
  const plex = pushOn ? checks.plex ?? { ok: false, detail: "not checked yet" } : null;
  const h = headline({
    stash: checks.stash ?? { ok: false, detail: "not checked yet" },
    plex,
    database: checks.database ?? { ok: true },
    breaker: src.breaker.state,
    pending,
    deadLetters: src.queue.deadLetterCount(),
    oldestWaitingMs: jobs[0] ? now - jobs[0].first_queued_at : 0,
    lastReconcile: last ? { status: last.status, error: last.error, healable, forAPerson } : null,
  });
  const perMinute = src.queue.deliveredSince(now - 5 * 60_000) / 5;
  const state = (c: { ok: boolean; detail?: string } | undefined) =>
    c?.ok ? html`<span class="ok">answers</span> <span class="muted">${c.detail ?? ""}</span>` : html`<span class="bad">does not answer</span> <span class="muted">${c?.detail ?? ""}</span>`;
  const scheduled = src.jobs().filter((j) => j.everySeconds > 0);
  // When the next reconcile runs: the scheduler's own next run, not a guess from the last one.
  const reconcile = scheduled.find((j) => j.id === "reconcile");
  return html`<section id="overview" hx-get="/ui/live/overview" hx-trigger="every 2s" hx-swap="outerHTML">
  <div class="headline ${h.level}" role="status" data-level="${h.level}"><h2>${h.title}</h2><ul>${h.todo.map((t) => html`<li>${t}</li>`)}</ul></div>
  <div class="cards">
    <div class="card"><h2>Stash</h2>${state(checks.stash)}</div>
    <div class="card"><h2>Plex</h2>${pushOn ? state(checks.plex) : html`<span class="muted">push is off (PLEX_URL not set)</span>`}</div>
    <div class="card"><h2>Circuit breaker</h2>${breakerCard(breakerText(src.breaker.state, plex))}</div>
    <div class="card"><h2>Queue</h2><span class="big">${pending}</span> waiting<br><span class="muted">${src.queue.due()} due, ${src.queue.confirming()} awaiting Plex's fetch</span></div>
    <div class="card"><h2>Drain rate</h2><span class="big">${perMinute.toFixed(1)}</span> scenes/min <span class="muted">(last 5 min)</span></div>
    <div class="card"><h2>Last delivery</h2>${ago(src.queue.lastDeliveryAt(), now)}</div>
    <div class="card"><h2>Dead letters</h2><span class="big">${src.queue.deadLetterCount()}</span> <a href="/ui/queue#dead">see why</a></div>
    <div class="card" id="reconcile-card"><h2>Last reconcile</h2>${last ? html`${last.status} ${ago(last.finishedAt, now)}; ${plural(Object.values(last.counts).reduce((a, b) => a + b, 0), "gap")} <a href="/ui/gaps">see</a>` : "none yet"}
      <br><span class="muted">next: ${reconcile ? nextRun(reconcile, now) : "never (push is off)"}</span></div>
    <div class="card"><h2>Indexes</h2>${plural(src.stashIndex.size, "Stash scene")}, ${plural(src.plexItems(), "Plex item")}</div>
  </div>
  <h2>Next scheduled runs</h2>
  <table class="stack"><thead><tr><th>job</th><th>last run</th><th>next</th></tr></thead><tbody>
  ${scheduled.map((j) => html`<tr><td data-label="job">${j.name}</td><td data-label="last run">${ago(j.lastRunAt, now)}</td><td data-label="next">${nextRun(j, now)}</td></tr>`)}
  </tbody></table></section>`;
}
