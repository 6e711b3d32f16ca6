/**
 * TV-style libraries on the dashboard: the overview's card and table (each library's folder,
 * its shows and episodes, its last full pass, its problems and notes), and the path tester's
 * answer to "where does this scene land": show, season, episode, link and the path Plex sees.
 *
 * One number for episodes everywhere: what Plex can show, i.e. the links in the episode folder
 * (the catalog less the scenes that got no link). What is not linked is said apart, by cause.
 */
import { ago, html, plural, when, type Html } from "../html.ts";
import type { DashboardSource, TvLibraryView } from "../source.ts";
import { instanceLabel, sceneHref, several } from "../instances.ts";
import type { NoLinkCause } from "../../tv/episode-folder.ts";

/** A standing condition: `title` short (the headline says it), `why` what causes it and what to do. */
interface Note {
  title: string;
  why: string;
}

/** What a library asks of a person. Problems can clear or need action now: red, the headline amber. */
interface Findings {
  problems: string[];
  notes: Note[];
}

const their = (n: number, one: string, many: string) => (n === 1 ? one : many);

/**
 * The scenes not linked for a cause that never clears by itself, as one note, with the first
 * one's detail as the example (a path, what is in the way).
 */
const noteOf: Record<Exclude<NoLinkCause, "io">, (n: number, details: string[]) => Note> = {
  "windows-path": (n, [example]) => ({
    title: `${plural(n, "scene")} on a Windows path: no link`,
    why: `Stash names ${their(n, "its file", "their files")} like ${example}, a path this system does not have, so no link can point at ${their(n, "it", "them")} (the movie library is not affected). To have ${their(n, "it", "them")} here, Stash must name ${their(n, "it", "them")} by a path this system has too (the share mounted on both); stash2plex check lists ${their(n, "it", "them")}.`,
  }),
  "not-a-path": (n, [example]) => ({
    title: `${plural(n, "scene")} without a full path: no link`,
    why: `Stash names ${their(n, "its file", "their files")} like ${example}, not a full path on this system, so no link can point at ${their(n, "it", "them")}; stash2plex check lists ${their(n, "it", "them")}.`,
  }),
  "in-the-way": (n, [example]) => ({
    title: `${plural(n, "scene")}: something not stash2plex's is where ${their(n, "its link goes", "their links go")}`,
    why: `It is left alone (${example}), so ${their(n, "the scene has", "they have")} no link. Move it out of the episode folder; the next full sync (hourly, or run it on the Jobs page) makes the ${their(n, "link", "links")}.`,
  }),
};

/** The scenes not linked, grouped by cause: cause → the details of each. */
function unlinkedByCause(v: TvLibraryView): Map<NoLinkCause, string[]> {
  const groups = new Map<NoLinkCause, string[]>();
  for (const u of v.state().unlinked.values()) {
    const group = groups.get(u.cause);
    if (group) group.push(u.detail);
    else groups.set(u.cause, [u.detail]);
  }
  return groups;
}

/** A library's problems and notes now, each grouped into one line. */
function findingsOf(v: TvLibraryView): Findings {
  const s = v.state();
  const problems = s.lastError ? [s.lastError] : [];
  if (!v.plexFolder)
    problems.push(
      "no path rule maps the episode folder to a path Plex sees, so Plex is not asked to scan it: set plexFolder",
    );
  const notes: Note[] = [];
  for (const [cause, details] of unlinkedByCause(v)) {
    // The filesystem refusing (permissions, a full disk) can clear and needs action now: a problem.
    if (cause !== "io") notes.push(noteOf[cause](details.length, details));
    else
      problems.push(
        `${plural(details.length, "scene")} without a link: the filesystem refused it (${[...new Set(details)].join(", ")}); make the episode folder writable by the service, with free space: the next full sync tries again`,
      );
  }
  const strays = s.report?.strays ?? 0;
  if (strays)
    notes.push({
      title: `${plural(strays, "symlinked folder")} named like stash2plex's: never entered`,
      why: "A show or season folder that is a symlink could lead out of the episode folder, so it is left alone; remove it unless something else needs it (the service's log names it).",
    });
  return { problems, notes };
}

/** For the overview's headline: each library's problems and notes, named by library. */
export function tvHeadlineFacts(src: DashboardSource): { tvProblems: string[]; notes: string[] } {
  const all = (src.tv ?? []).map((v) => ({ id: v.id, ...findingsOf(v) }));
  return {
    tvProblems: all.flatMap((f) => f.problems.map((p) => `${f.id}: ${p}`)),
    notes: all.flatMap((f) => f.notes.map((n) => `TV library ${f.id}: ${n.title} (see the note under TV libraries).`)),
  };
}

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

/** The card's number: episodes Plex can show in every library written so far, and the libraries not yet written. */
function shownTotal(tv: TvLibraryView[]): Html {
  const shown = tv.map((v) => v.state().shown);
  const known = shown.filter((s) => s !== null);
  if (!known.length)
    return html`<span class="muted">episodes are counted once the first full sync has written the folder</span>`;
  const waiting = tv.filter((_, i) => shown[i] === null).map((v) => v.id);
  return html`<span class="big">${known.reduce((n, s) => n + s.episodes, 0)}</span> episodes in ${plural(
    known.reduce((n, s) => n + s.shows, 0),
    "show",
  )}<br><span class="muted">linked in the episode folder: what Plex can show${waiting.length ? html`; not counted yet: ${waiting.join(", ")}` : ""}</span>`;
}

/** The overview's card: episodes Plex can show in every TV library, and whether any needs a look. */
export function tvCard(src: DashboardSource, now = Date.now()): Html {
  const tv = src.tv ?? [];
  if (!tv.length)
    return html`<div class="card" id="tv-card"><h2>TV libraries</h2><span class="muted">none configured (TV_LIBRARIES)</span></div>`;
  const found = tv.map(findingsOf);
  const problems = found.reduce((n, f) => n + f.problems.length, 0);
  const notes = found.reduce((n, f) => n + f.notes.length, 0);
  const unlinked = tv.reduce((n, v) => n + v.state().unlinked.size, 0);
  // The oldest library's pass: one not synced yet makes the card say "not yet".
  const synced = Math.min(...tv.map((v) => v.state().lastSyncAt ?? 0));
  const links = [
    ...(problems ? [html`<a class="bad" href="#tv">${plural(problems, "problem")}</a>`] : []),
    ...(notes ? [html`<a class="note" href="#tv">${plural(notes, "note")}</a>`] : []),
  ];
  return html`<div class="card" id="tv-card"><h2>TV libraries</h2>${shownTotal(tv)}${
    unlinked ? html`<br><span class="muted">${plural(unlinked, "scene")} not linked</span>` : ""
  }<br><span class="muted">last full sync ${agoAt(synced, now)}</span>${
    links.length ? links.map((l) => html` · ${l}`) : html` <a href="#tv">see</a>`
  }</div>`;
}

/** A library's problems (red) and notes (why and what to do), or "none". */
function findingsCell(f: Findings): Html {
  if (!f.problems.length && !f.notes.length) return html`<span class="ok">none</span>`;
  return html`<ul>${f.problems.map((p) => html`<li class="bad">${p}</li>`)}${f.notes.map(
    (n) => html`<li class="note"><strong>${n.title}</strong> — ${n.why}</li>`,
  )}</ul>`;
}

/** The overview's table: one row per TV library. */
export function tvTable(src: DashboardSource, now = Date.now()): Html {
  const tv = src.tv ?? [];
  if (!tv.length) return html``;
  return html`<h2>TV libraries</h2>
  <table class="stack" id="tv"><thead><tr><th>library</th><th>episode folder</th><th>shows</th><th>episodes</th><th>last full sync</th><th>problems and notes</th></tr></thead><tbody>
  ${tv.map((v) => {
    const s = v.state();
    // What Plex can show (the card's number; read once, it is counted when read); "not yet" before a pass wrote the folder.
    const shown = s.shown;
    const shows = shown?.shows ?? "not yet";
    const episodes = shown?.episodes ?? "not yet";
    const changed = s.report
      ? html`<br><span class="muted">links: ${s.report.created} made, ${s.report.retargeted} moved, ${s.report.removed} removed</span>${
          s.unplaced
            ? html`<br><span class="muted">${plural(s.unplaced, "scene")} not placeable (${needs(v.layout)}: <code>stash2plex check</code> names them)</span>`
            : ""
        }`
      : "";
    return html`<tr data-tv="${v.id}"><td data-label="library">${v.id}<br><span class="muted">${layoutText(v.layout)}${several(src) ? html`, Stash ${instanceLabel(src, v.instance)}` : ""}</span></td>
      <td data-label="episode folder"><code>${v.folder}</code>${v.plexFolder && v.plexFolder !== v.folder ? html`<br><span class="muted">Plex: <code>${v.plexFolder}</code></span>` : v.plexFolder ? "" : html`<br><span class="muted">Plex: not mapped (see problems)</span>`}</td>
      <td data-label="shows">${shows}</td><td data-label="episodes">${episodes}</td>
      <td data-label="last full sync">${agoAt(s.lastSyncAt, now)}${changed}</td>
      <td data-label="problems and notes">${findingsCell(findingsOf(v))}</td></tr>`;
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
