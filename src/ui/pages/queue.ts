/**
 * Queue and history: what waits and why, the dead letters (paged, with titles; retry or discard
 * one, some or all), and one scene's timeline. The lists are live parts: they refresh while the
 * page is open (held while a person is ticking boxes in them, see assets/live.js).
 */
import { sceneWriteback } from "./writeback.ts";
import { tvLanding } from "./tv.ts";
import { ago, html, plural, REFRESH_SECONDS, when, type Html } from "../html.ts";
import type { DashboardSource } from "../source.ts";
import { wordsOf } from "../../text.ts";
import { indexedTitle } from "../../stash/file-index.ts";
import { deadLetterPage } from "../../admin/status.ts";
import { DEFAULT_INSTANCE_ID, refKey, sceneRef, type Ref } from "../../domain/ref.ts";
import { refOf } from "../../sync/queue.ts";
import { instanceCell, instanceHeader, instanceLabel, sceneHref, several, viewOf } from "../instances.ts";

export const PAGE_SIZE = 50;

export interface QueueView {
  /** First dead letter shown (newest first). */
  dead: number;
  /** First waiting job shown (oldest first). */
  waiting: number;
}

/** The title Plex would show, from the index of its own instance's Stash scenes: never a Stash call per row. */
export const titleOf = (src: DashboardSource) => (ref: Ref) => {
  const index = viewOf(src, ref.instance)?.index ?? (ref.instance === DEFAULT_INSTANCE_ID ? src.stashIndex : undefined);
  const scene = index?.scene(ref.id);
  return scene ? indexedTitle(scene) : null;
};

/**
 * What a dead letter's row posts: its scene id for the default instance (as before), else the
 * reference's key, so an action never lands on the default's scene with the same id.
 */
const formValue = (d: { sceneId: string; instance?: string }) =>
  d.instance ? refKey(sceneRef(d.instance, d.sceneId)) : d.sceneId;

const query = (view: QueueView) => `dead=${view.dead}&waiting=${view.waiting}`;

/** "41–90 of 10,000" with links to the neighbouring pages (kept to the other list's place). */
function pager(total: number, offset: number, link: (offset: number) => string, label: string): Html {
  if (total <= PAGE_SIZE) return html``;
  const last = Math.min(total, offset + PAGE_SIZE);
  return html`<nav class="pager" aria-label="${label} pages"><span>${(offset + 1).toLocaleString("en")}–${last.toLocaleString("en")} of ${total.toLocaleString("en")}</span>
    ${offset > 0 ? html`<a href="${link(Math.max(0, offset - PAGE_SIZE))}" rel="prev">Previous ${PAGE_SIZE}</a>` : ""}
    ${last < total ? html`<a href="${link(offset + PAGE_SIZE)}" rel="next">Next ${PAGE_SIZE}</a>` : ""}</nav>`;
}

/** A row's scene (linked to its page, in its instance) and, with several Stash instances, which one. */
const sceneCells = (src: DashboardSource, ref: Ref, title: string | null) =>
  html`${instanceCell(src, ref.instance)}<td data-label="scene"><a href="${sceneHref(ref)}">${ref.id}</a> ${title ? html`<span class="title">${title}</span>` : html`<span class="muted">not in Stash's index</span>`}</td>`;

export function queuePage(src: DashboardSource, q: string, view: QueueView, now = Date.now()): Html {
  const id = q.trim();
  // An id names a scene in each Stash (the same id is another scene in another instance).
  const found =
    id === ""
      ? []
      : /^\d{1,18}$/.test(id)
        ? src.instances
            .filter((v, i) => i === 0 || v.index.scene(id))
            .map((v) => ({ ref: sceneRef(v.instance.id, id), title: v.index.scene(id)?.title ?? "" }))
        : src.instances
            .flatMap((v) =>
              v.index
                .scenesWithTitleWords(wordsOf(q))
                .map((s) => ({ ref: sceneRef(v.instance.id, s.id), title: s.title ?? "" })),
            )
            .slice(0, 25);
  const named = (ref: Ref) => (several(src) ? ` (${instanceLabel(src, ref.instance)})` : "");
  return html`
  <form method="get" action="/ui/queue" role="search"><label for="q">Find a scene by id or title</label>
    <input type="search" id="q" name="q" value="${q}"> <button>Search</button></form>
  ${q ? html`<h2>Scenes matching “${q}”</h2>${found.length ? html`<ul>${found.map((s) => html`<li><a href="${sceneHref(s.ref)}">Scene ${s.ref.id}${named(s.ref)}</a> ${s.title}</li>`)}</ul>` : html`<p>No scene found.</p>`}` : ""}
  ${queueLive(src, view, now)}`;
}

/** The waiting jobs and the dead letters: the part of the queue page that refreshes itself. */
export function queueLive(src: DashboardSource, view: QueueView, now = Date.now()): Html {
  const title = titleOf(src);
  const pending = src.queue.pending();
  const waiting = view.waiting < pending ? view.waiting : 0;
  const jobs = src.queue.jobs(PAGE_SIZE, waiting);
  const dead = deadLetterPage(src.queue, title, view.dead < src.queue.deadLetterCount() ? view.dead : 0, PAGE_SIZE);
  const deadFrom = view.dead < dead.total ? view.dead : 0;
  const here: QueueView = { dead: deadFrom, waiting };
  const deadPager = pager(dead.total, deadFrom, (o) => `/ui/queue?${query({ ...here, dead: o })}#dead`, "Dead letter");
  return html`<div id="queue-live" hx-get="/ui/live/queue?${query(here)}" hx-trigger="every ${REFRESH_SECONDS}s" hx-swap="outerHTML" data-hold-while-choosing>
  <h2>Waiting (${pending.toLocaleString("en")})</h2>
  ${
    jobs.length
      ? html`${pager(pending, waiting, (o) => `/ui/queue?${query({ ...here, waiting: o })}`, "Waiting")}
  <table class="stack"><thead><tr>${instanceHeader(src)}<th>scene</th><th>state</th><th>queued</th><th>attempts</th><th>next try</th><th>last error</th></tr></thead><tbody>
  ${jobs.map(
    (
      j,
    ) => html`<tr>${sceneCells(src, refOf(j), title(refOf(j)))}<td data-label="state">${j.state === "confirming" ? "awaiting Plex's fetch" : j.state}</td>
    <td data-label="queued">${ago(j.first_queued_at, now)} <span class="muted">(${j.reason})</span></td><td data-label="attempts">${j.attempts}</td>
    <td data-label="next try">${j.next_attempt_at <= now ? "due" : `in ${Math.round((j.next_attempt_at - now) / 1000)} s`}</td><td data-label="last error">${j.last_error ?? ""}</td></tr>`,
  )}
  </tbody></table>`
      : html`<p>Nothing waits: every change has reached Plex.</p>`
  }
  <h2 id="dead">Dead letters (<span id="dead-count">${dead.total.toLocaleString("en")}</span>)</h2>
  ${
    dead.total
      ? html`<p class="muted">Pushes that gave up. Retry one once its cause is fixed, or discard it; a dead letter whose scene is delivered later leaves this list by itself.</p>
  <form method="post" action="/ui/actions/dead-letters/retry" id="dead-form">
    <input type="hidden" name="back" value="/ui/queue?${query(here)}">
    <div class="actions"><button name="which" value="selected">Retry selected</button>
      <button name="which" value="selected" formaction="/ui/actions/dead-letters/discard" class="secondary">Discard selected</button>
      <button name="which" value="all" class="secondary">${dead.total === 1 ? "Retry the 1 dead letter" : `Retry all ${plural(dead.total, "dead letter")}`}</button>
      <button name="which" value="all" formaction="/ui/actions/dead-letters/discard" class="danger">${dead.total === 1 ? "Discard the 1 dead letter" : `Discard all ${plural(dead.total, "dead letter")}`}</button></div>
    ${deadPager}
    <table id="dead-letters" class="stack"><thead><tr><th><span class="visually-hidden">select</span></th>${instanceHeader(src)}<th>scene</th><th>gave up</th><th>attempts</th><th>why</th><th></th></tr></thead><tbody>
    ${dead.items.map(
      (
        d,
      ) => html`<tr><td data-label="select"><input type="checkbox" name="sceneId" value="${formValue(d)}" aria-label="Select scene ${d.sceneId}${d.instance ? ` of ${d.instance}` : ""}"></td>
      ${sceneCells(src, sceneRef(d.instance ?? DEFAULT_INSTANCE_ID, d.sceneId), d.title)}<td data-label="gave up">${ago(d.deadAt, now)}</td><td data-label="attempts">${d.attempts}</td><td data-label="why">${d.error}</td>
      <td data-label=""><button name="one" value="${formValue(d)}" class="secondary" aria-label="Retry scene ${d.sceneId}${d.instance ? ` of ${d.instance}` : ""}">Retry</button>
        <button name="one" value="${formValue(d)}" formaction="/ui/actions/dead-letters/discard" class="secondary" aria-label="Discard scene ${d.sceneId}${d.instance ? ` of ${d.instance}` : ""}">Discard</button></td></tr>`,
    )}
    </tbody></table>${deadPager}</form>`
      : html`<p>None: no push has given up.</p>`
  }</div>`;
}

/** One scene's page, all of it live (the same HTML is its fragment: htmx swaps the whole element). */
export function scenePage(src: DashboardSource, ref: Ref): Html {
  const live = sceneHref(ref).replace("/ui/scenes/", "/ui/live/scenes/");
  return html`<div id="scene-live" hx-get="${live}" hx-trigger="every ${REFRESH_SECONDS}s" hx-swap="outerHTML">${sceneLive(src, ref)}</div>`;
}

function sceneLive(src: DashboardSource, ref: Ref): Html {
  const job = src.queue.job(ref);
  const delivery = src.queue.delivery(ref);
  const history = src.queue.history(ref);
  const dead = src.queue.deadLetter(ref);
  const title = titleOf(src)(ref);
  return html`<p>${several(src) ? html`In Stash <strong data-instance="${ref.instance}">${instanceLabel(src, ref.instance)}</strong>: ` : ""}${title ? html`<span class="title">“${title}”</span>` : html`<span class="muted">not in the index of Stash scenes</span>`}.
  ${job ? html`A push is <strong>${job.state}</strong> (attempt ${job.attempts}${job.last_error ? html`, last error: ${job.last_error}` : ""}).` : "Nothing waits for it."}
  ${dead ? html`Its push gave up ${when(dead.died_at)}: ${dead.last_error} (see <a href="/ui/queue#dead">dead letters</a>).` : ""}
  ${delivery ? html`Last delivered ${when(delivery.at)}${delivery.rating_key ? ` to Plex item ${delivery.rating_key}` : ""}.` : ""}</p>
  <h2>Timeline</h2>
  ${history.length ? html`<ol class="timeline">${history.map((h) => html`<li><time>${when(h.at)}</time> <strong>${h.event}</strong> ${h.detail ?? ""}</li>`)}</ol>` : html`<p>No history yet.</p>`}
  ${tvLanding(src, [{ id: ref.id, instance: ref.instance }], true)}
  ${sceneWriteback(src, ref)}`;
}
