/**
 * TV-style libraries on the dashboard: the overview's card and table (each library's folder,
 * its shows and episodes, its last full pass and what it left alone), and the path tester's
 * answer to "where does this scene land": show, season, episode, link and the path Plex sees.
 */
import { ago, html, plural, when, type Html } from "../html.ts";
import type { DashboardSource, TvLibraryView } from "../source.ts";
import { instanceLabel, sceneHref, several } from "../instances.ts";

/** Problems of a library now: its last pass failed, or left things alone. */
const problemsOf = (v: TvLibraryView) => {
  const s = v.state();
  return [...(s.lastError ? [s.lastError] : []), ...(s.report?.problems ?? [])];
};

/** The layout in words: what a show is. */
const layoutText = (layout: string) =>
  layout.startsWith("group")
    ? "a show per group"
    : layout.includes("parent")
      ? "a show per top parent studio"
      : "a show per studio";

/** What a scene needs to be placed, by layout (for "not placeable"). */
const needs = (layout: string) => (layout.startsWith("group") ? "no file or in no group" : "no file or no studio");

/** A relative time ("3 min ago") whose tooltip is the moment in UTC. */
const agoAt = (ms: number | null | undefined, now: number) =>
  ms ? html`<span title="${when(ms)}">${ago(ms, now)}</span>` : html`not yet`;

/** The overview's card: shows and episodes of every TV library, and whether any needs a look. */
export function tvCard(src: DashboardSource, now = Date.now()): Html {
  const tv = src.tv ?? [];
  if (!tv.length)
    return html`<div class="card" id="tv-card"><h2>TV libraries</h2><span class="muted">none configured (TV_LIBRARIES)</span></div>`;
  const counts = tv.map((v) => v.counts());
  const problems = tv.reduce((n, v) => n + problemsOf(v).length, 0);
  // The oldest library's pass: one not synced yet makes the card say "not yet".
  const synced = Math.min(...tv.map((v) => v.state().lastSyncAt ?? 0));
  return html`<div class="card" id="tv-card"><h2>TV libraries</h2><span class="big">${counts.reduce((n, c) => n + c.episodes, 0)}</span> episodes in ${plural(
    counts.reduce((n, c) => n + c.shows, 0),
    "show",
  )}<br><span class="muted">last full sync ${agoAt(synced, now)}</span>${
    problems ? html` · <a class="bad" href="#tv">${plural(problems, "problem")}</a>` : html` <a href="#tv">see</a>`
  }</div>`;
}

/** The overview's table: one row per TV library. */
export function tvTable(src: DashboardSource, now = Date.now()): Html {
  const tv = src.tv ?? [];
  if (!tv.length) return html``;
  return html`<h2>TV libraries</h2>
  <table class="stack" id="tv"><thead><tr><th>library</th><th>episode folder</th><th>shows</th><th>episodes</th><th>last full sync</th><th>problems</th></tr></thead><tbody>
  ${tv.map((v) => {
    const s = v.state();
    const { shows, episodes } = v.counts();
    const problems = problemsOf(v);
    const changed = s.report
      ? html`<br><span class="muted">links: ${s.report.created} made, ${s.report.retargeted} moved, ${s.report.removed} removed</span>${
          s.unplaced
            ? html`<br><span class="muted">${plural(s.unplaced, "scene")} not placeable (${needs(v.layout)}: <code>stash2plex check</code> names them)</span>`
            : ""
        }`
      : "";
    return html`<tr data-tv="${v.id}"><td data-label="library">${v.id}<br><span class="muted">${layoutText(v.layout)}${several(src) ? html`, Stash ${instanceLabel(src, v.instance)}` : ""}</span></td>
      <td data-label="episode folder"><code>${v.folder}</code>${v.plexFolder && v.plexFolder !== v.folder ? html`<br><span class="muted">Plex: <code>${v.plexFolder}</code></span>` : v.plexFolder ? "" : html`<br><span class="bad">no path rule maps it to Plex: set plexFolder</span>`}</td>
      <td data-label="shows">${shows}</td><td data-label="episodes">${episodes}</td>
      <td data-label="last full sync">${agoAt(s.lastSyncAt, now)}${changed}</td>
      <td data-label="problems">${problems.length ? html`<ul>${problems.slice(0, 5).map((p) => html`<li class="bad">${p}</li>`)}</ul>${problems.length > 5 ? html`<span class="muted">and ${problems.length - 5} more</span>` : ""}` : html`<span class="ok">none</span>`}</td></tr>`;
  })}</tbody></table>`;
}

/**
 * Where each scene lands in every TV library of its instance: the path tester's section, and a
 * scene page's (`ownPage`: without the scene column, the page is the scene's).
 */
export function tvLanding(src: DashboardSource, scenes: { id: string; instance: string }[], ownPage = false): Html {
  const tv = src.tv ?? [];
  if (!tv.length || !scenes.length) return html``;
  const sceneCell = (scene: { id: string; instance: string }, linked: boolean) =>
    ownPage
      ? ""
      : html`<td class="nowrap">${linked ? html`<a href="${sceneHref(scene)}">scene ${scene.id}</a>` : `scene ${scene.id}`}</td>`;
  const rows = scenes.flatMap((scene) =>
    tv
      .filter((v) => v.instance === scene.instance)
      .map((v) => {
        const at = v.placementOf(scene.id);
        if (!at)
          return html`<tr>${sceneCell(scene, false)}<td>${v.id}</td><td colspan="4" class="muted">not placed (${needs(v.layout)}: see <code>stash2plex check</code>)</td></tr>`;
        return html`<tr>${sceneCell(scene, true)}<td>${v.id}</td>
          <td>${at.showTitle ?? at.showId} <span class="muted">(${at.showId})</span></td><td>${at.season === 0 ? "Specials (0)" : at.season}</td><td>${at.episode}</td>
          <td><code>${at.link}</code><br><span class="muted">Plex: <code>${v.plexPathOf(at.link) ?? "no path rule maps the folder"}</code></span></td></tr>`;
      }),
  );
  if (!rows.length)
    return html`<h2>In the TV libraries</h2><p class="muted" id="tv-landing">No TV library takes this Stash's scenes.</p>`;
  return html`<h2>In the TV libraries</h2><div class="scroll"><table id="tv-landing"><thead><tr>${ownPage ? "" : html`<th>scene</th>`}<th>library</th><th>show</th><th>season</th><th>episode</th><th>link</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}
