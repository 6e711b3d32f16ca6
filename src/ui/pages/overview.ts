/** Overview: a red/amber/green headline with what to do, and the numbers behind it. */
import { breakerText, headline } from "../headline.ts";
import { ago, html, nextRun, plural, type Html } from "../html.ts";
import type { DashboardSource } from "../source.ts";
import { gapTotals } from "../../domain/gaps.ts";
import { instanceLabel, several } from "../instances.ts";
import { stashCheckName, type Check } from "../../admin/health.ts";
import { writebackCard } from "./writeback.ts";
import { tvCard, tvHeadlineFacts, tvTable } from "./tv.ts";

type Checks = Record<string, Check>;
const notChecked: Check = { ok: false, detail: "not checked yet" };

/** Every Stash at once for the headline: ok when all answer, else the ones that do not, named. */
function allStashes(src: DashboardSource, checks: Checks): Check {
  if (!several(src)) return checks.stash ?? notChecked;
  const down = src.instances.filter((v) => !(checks[stashCheckName(v.instance)] ?? notChecked).ok);
  if (!down.length) return { ok: true };
  return {
    ok: false,
    detail: down
      .map(
        (v) =>
          `${instanceLabel(src, v.instance.id)}: ${(checks[stashCheckName(v.instance)] ?? notChecked).detail ?? "no detail"}`,
      )
      .join("; "),
  };
}

/** One row per Stash instance: reachable or not, its breaker, queue and index. */
function instancesTable(src: DashboardSource, checks: Checks, state: (c: Check | undefined) => Html): Html {
  const counts = src.queue.countsByInstance();
  return html`<h2>Stash instances</h2>
  <table class="stack" id="instances"><thead><tr><th>Stash</th><th>answers</th><th>breaker</th><th>waiting</th><th>dead letters</th><th>scenes indexed</th></tr></thead><tbody>
  ${src.instances.map((v) => {
    const c = counts[v.instance.id] ?? { pending: 0, due: 0, confirming: 0, dead: 0 };
    return html`<tr data-instance="${v.instance.id}"><td data-label="Stash">${instanceLabel(src, v.instance.id)}</td>
      <td data-label="answers">${state(checks[stashCheckName(v.instance)])}</td><td data-label="breaker">${v.breakerState()}</td>
      <td data-label="waiting">${c.pending}</td><td data-label="dead letters">${c.dead}</td><td data-label="scenes indexed">${v.index.size}</td></tr>`;
  })}</tbody></table>`;
}

/** "open: pushes wait until Plex answers again" → the state large, what it means below; `whose`: the instances it is of. */
const breakerCard = (text: string, whose = "") => {
  const [state, meaning] = text.split(/: (.*)/s);
  return html`<span class="big" id="breaker-state">${state}</span>${whose ? html` <span class="muted">(${whose})</span>` : ""}<br><span class="muted">${meaning ?? ""}</span>`;
};

const SEVERITY = ["closed", "half-open", "open"];
/**
 * The breaker the headline and its card speak of: the default's with one Stash; with several,
 * the worst of their breakers (one open pauses that Stash's pushes) and which instances it is.
 */
function worstBreaker(src: DashboardSource): { state: string; whose: string } {
  if (!several(src)) return { state: src.breaker.state, whose: "" };
  const states = src.instances.map((v) => ({ id: v.instance.id, state: v.breakerState() }));
  const state = states.reduce((w, s) => (SEVERITY.indexOf(s.state) > SEVERITY.indexOf(w) ? s.state : w), "closed");
  const whose =
    state === "closed"
      ? ""
      : states
          .filter((s) => s.state === state)
          .map((s) => instanceLabel(src, s.id))
          .join(", ");
  return { state, whose };
}

/** "2 of 2 answer" with several Stash instances (the table below names each). */
function stashSummary(src: DashboardSource, checks: Checks): Html {
  const up = src.instances.filter((v) => checks[stashCheckName(v.instance)]?.ok).length;
  return html`<span class="big">${up} of ${src.instances.length}</span> answer <a href="#instances">see each</a>`;
}

export async function overviewSection(src: DashboardSource, now = Date.now()): Promise<Html> {
  const checks = await src.checks();
  const pushOn = Boolean(src.config.plex.url);
  const jobs = src.queue.jobs(1);
  const last = src.reconciler?.reports.last();
  // Only what this service heals (src.healable) keeps the headline amber; the rest needs a person.
  const { toHeal: healable, forAPerson } = last ? gapTotals(last, src.healable) : { toHeal: 0, forAPerson: 0 };
  const pending = src.queue.pending();
  const breaker = worstBreaker(src);
  const plex = pushOn ? (checks.plex ?? { ok: false, detail: "not checked yet" }) : null;
  const h = headline({
    stash: allStashes(src, checks),
    plex,
    database: checks.database ?? { ok: true },
    breaker: breaker.state,
    pending,
    deadLetters: src.queue.deadLetterCount(),
    oldestWaitingMs: jobs[0] ? now - jobs[0].first_queued_at : 0,
    lastReconcile: last ? { status: last.status, error: last.error, healable, forAPerson } : null,
    ...(src.writeback ? { writeback: src.writeback.events.counts() } : {}),
    // The same problems and notes the TV card and table show: the headline never reads greener than they do.
    ...tvHeadlineFacts(src),
  });
  const perMinute = src.queue.deliveredSince(now - 5 * 60_000) / 5;
  const state = (c: { ok: boolean; detail?: string } | undefined) =>
    c?.ok
      ? html`<span class="ok">answers</span> <span class="muted">${c.detail ?? ""}</span>`
      : html`<span class="bad">does not answer</span> <span class="muted">${c?.detail ?? ""}</span>`;
  const scheduled = src.jobs().filter((j) => j.everySeconds > 0);
  // When the next reconcile runs: the scheduler's own next run, not a guess from the last one.
  const reconcile = scheduled.find((j) => j.id === "reconcile");
  return html`<section id="overview" hx-get="/ui/live/overview" hx-trigger="every 2s" hx-swap="outerHTML">
  <div class="headline ${h.level}" role="status" data-level="${h.level}"><h2>${h.title}</h2><ul>${h.todo.map((t) => html`<li>${t}</li>`)}</ul></div>
  <div class="cards">
    <div class="card"><h2>Stash</h2>${several(src) ? stashSummary(src, checks) : state(checks.stash)}</div>
    <div class="card"><h2>Plex</h2>${pushOn ? state(checks.plex) : html`<span class="muted">push is off (PLEX_URL not set)</span>`}</div>
    <div class="card"><h2>Circuit breaker</h2>${breakerCard(breakerText(breaker.state, plex), breaker.whose)}</div>
    <div class="card"><h2>Queue</h2><span class="big">${pending}</span> waiting<br><span class="muted">${src.queue.due()} due, ${src.queue.confirming()} awaiting Plex's fetch</span></div>
    <div class="card"><h2>Drain rate</h2><span class="big">${perMinute.toFixed(1)}</span> scenes/min <span class="muted">(last 5 min)</span></div>
    <div class="card"><h2>Last delivery</h2>${ago(src.queue.lastDeliveryAt(), now)}</div>
    <div class="card"><h2>Dead letters</h2><span class="big">${src.queue.deadLetterCount()}</span> <a href="/ui/queue#dead">see why</a></div>
    <div class="card" id="reconcile-card"><h2>Last reconcile</h2>${
      last
        ? html`${last.status} ${ago(last.finishedAt, now)}; ${plural(
            Object.values(last.counts).reduce((a, b) => a + b, 0),
            "gap",
          )} <a href="/ui/gaps">see</a>`
        : "none yet"
    }
      <br><span class="muted">next: ${reconcile ? nextRun(reconcile, now) : "never (push is off)"}</span></div>
    ${writebackCard(src)}
    ${tvCard(src, now)}
    <div class="card"><h2>Indexes</h2>${plural(
      src.instances.reduce((n, v) => n + v.index.size, 0),
      "Stash scene",
    )}, ${plural(src.plexItems(), "Plex item")}</div>
  </div>
  ${several(src) ? instancesTable(src, checks, state) : ""}
  ${tvTable(src, now)}
  <h2>Next scheduled runs</h2>
  <table class="stack"><thead><tr><th>job</th><th>last run</th><th>next</th></tr></thead><tbody>
  ${scheduled.map((j) => html`<tr><td data-label="job">${j.name}</td><td data-label="last run">${ago(j.lastRunAt, now)}</td><td data-label="next">${nextRun(j, now)}</td></tr>`)}
  </tbody></table></section>`;
}

/**
 * The overview when the database fails under the page itself (damaged pages, a truncated file):
 * the rest of the overview reads the database, so only what happened and what to do, in the
 * same red headline; the provider still answers Plex meanwhile.
 */
export function databaseDownPage(problem: { kind: string; message: string }): Html {
  const title = problem.kind === "damaged" ? "The database is damaged" : "The database cannot be written";
  const text = `${problem.message.charAt(0).toUpperCase()}${problem.message.slice(1)}.`;
  return html`<section id="overview">
  <div class="headline red" role="status" data-level="red"><h2>${title}</h2><ul><li>${text}</li></ul></div>
  <p>Plex's scans and refreshes are still answered (they need no database). The other pages show again once the database works.</p>
</section>`;
}
