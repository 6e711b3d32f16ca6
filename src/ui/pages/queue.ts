/** Queue and history: what waits and why, dead letters with requeue, and one scene's timeline. */
import { ago, html, when, type Html } from "../html.ts";
import type { DashboardSource } from "../source.ts";
import { wordsOf } from "../../text.ts";

export function queuePage(src: DashboardSource, q: string, now = Date.now()): Html {
  const jobs = src.queue.jobs(200);
  const dead = src.queue.deadLetters();
  const found = q.trim() === "" ? [] : /^\d{1,18}$/.test(q.trim())
    ? [{ id: q.trim(), title: src.stashIndex.scene(q.trim())?.title ?? "" }]
    : src.stashIndex.scenesWithTitleWords(wordsOf(q)).slice(0, 25).map((s) => ({ id: s.id, title: s.title ?? "" }));
  return html`
  <form method="get" action="/ui/queue" role="search"><label for="q">Find a scene by id or title</label>
    <input type="search" id="q" name="q" value="${q}"> <button>Search</button></form>
  ${q ? html`<h2>Scenes matching “${q}”</h2>${found.length ? html`<ul>${found.map((s) => html`<li><a href="/ui/scenes/${s.id}">Scene ${s.id}</a> ${s.title}</li>`)}</ul>` : html`<p>No scene found.</p>`}` : ""}
  <h2>Waiting (${src.queue.pending()})</h2>
  ${jobs.length ? html`<div class="scroll"><table><thead><tr><th>scene</th><th>state</th><th>queued</th><th>attempts</th><th>next try</th><th>last error</th></tr></thead><tbody>
  ${jobs.map((j) => html`<tr><td><a href="/ui/scenes/${j.scene_id}">${j.scene_id}</a></td><td>${j.state === "confirming" ? "awaiting Plex's fetch" : j.state}</td><td>${ago(j.first_queued_at, now)} <span class="muted">(${j.reason})</span></td><td>${j.attempts}</td><td>${j.next_attempt_at <= now ? "due" : `in ${Math.round((j.next_attempt_at - now) / 1000)} s`}</td><td>${j.last_error ?? ""}</td></tr>`)}
  </tbody></table></div>` : html`<p>Nothing waits: every change has reached Plex.</p>`}
  <h2 id="dead">Dead letters (${dead.length})</h2>
  ${dead.length ? html`<form method="post" action="/ui/actions/requeue"><button>Requeue all</button></form>
  <div class="scroll"><table id="dead-letters"><thead><tr><th>scene</th><th>gave up</th><th>attempts</th><th>why</th><th></th></tr></thead><tbody>
  ${dead.map((d) => html`<tr><td><a href="/ui/scenes/${d.scene_id}">${d.scene_id}</a></td><td>${ago(d.died_at, now)}</td><td>${d.attempts}</td><td>${d.last_error}</td>
    <td><form method="post" action="/ui/actions/requeue" class="inline"><input type="hidden" name="sceneId" value="${d.scene_id}"><button class="secondary" aria-label="Requeue scene ${d.scene_id}">Requeue</button></form></td></tr>`)}
  </tbody></table></div>` : html`<p>None: no push has given up.</p>`}`;
}

export function scenePage(src: DashboardSource, sceneId: string): Html {
  const job = src.queue.job(sceneId);
  const delivery = src.queue.delivery(sceneId);
  const history = src.queue.history(sceneId);
  const title = src.stashIndex.scene(sceneId)?.title;
  return html`<p>${title ? html`“${title}”` : html`<span class="muted">not in the index of Stash scenes</span>`}.
  ${job ? html`A push is <strong>${job.state}</strong> (attempt ${job.attempts}${job.last_error ? html`, last error: ${job.last_error}` : ""}).` : "Nothing waits for it."}
  ${delivery ? html`Last delivered ${when(delivery.at)}${delivery.rating_key ? ` to Plex item ${delivery.rating_key}` : ""}.` : ""}</p>
  <h2>Timeline</h2>
  ${history.length ? html`<ol class="timeline">${history.map((h) => html`<li><time>${when(h.at)}</time> <strong>${h.event}</strong> ${h.detail ?? ""}</li>`)}</ol>` : html`<p>No history yet.</p>`}`;
}
