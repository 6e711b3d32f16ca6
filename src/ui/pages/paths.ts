/** Path tester: a path through the rules both ways, and the match ladder rung by rung. */
import { html, plural, type Html } from "../html.ts";
import type { DashboardSource } from "../source.ts";
import { explainLadder } from "../../provider/match.ts";
import { tokenOf } from "../../tv/names.ts";
import { DEFAULT_INSTANCE_ID } from "../../domain/ref.ts";
import { tvLanding } from "./tv.ts";

/** The episode token of a tested path's name (a link of an episode folder), or null. */
const episodeTokenOf = (path: string) => {
  const token = tokenOf(path.split(/[\\/]/).at(-1) ?? "");
  return token?.kind === "episode" ? token : null;
};

/** The TV library whose episode folder (as Stash or Plex sees it) holds a path. */
const libraryOf = (src: DashboardSource, path: string) =>
  (src.tv ?? []).find((v) =>
    [v.folder, v.plexFolder].some((f) => f && path.startsWith(`${f.replace(/[\\/]+$/, "")}/`)),
  );

/** The scenes a tested path stands for: a link of an episode folder names its own (of its library's Stash); else the ladder's answer. */
function scenesOf(src: DashboardSource, path: string, answer: { id: string }[]) {
  const token = episodeTokenOf(path);
  if (token) return [{ id: token.sceneId, instance: libraryOf(src, path)?.instance ?? DEFAULT_INSTANCE_ID }];
  return answer.map((a) => ({ id: a.id, instance: DEFAULT_INSTANCE_ID }));
}

/** For a link of an episode folder: the TV provider matches it by its token, not by the ladder below. */
function tvLinkNote(src: DashboardSource, path: string): Html | "" {
  const token = episodeTokenOf(path);
  if (!token) return "";
  const lib = libraryOf(src, path);
  return html`<p class="notice" id="tv-link-note">This name ends with an episode token (<code>{s2p-${token.scheme}-${token.sceneId}}</code>): it is a link of ${lib ? html`the TV library <b>${lib.id}</b>` : "a TV library"}, and the TV provider matches it to scene ${token.sceneId} by that token. The ladder below is the movie provider's, for movie libraries.</p>`;
}

export async function pathsPage(src: DashboardSource, path: string): Promise<Html> {
  const form = html`<form method="get" action="/ui/paths"><label for="path">A path as Plex or Stash sees it (or the name PMS sends, relative to a library folder)</label>
    <input type="text" id="path" name="path" value="${path}" placeholder="/media/Scenes/Studio/scene.mp4"> <button>Test</button></form>
    <p class="muted">${plural(src.mapper.rules.length, "rule")} in use: ${src.mapper.rules.map((r) => r.name).join(", ") || "none (the same paths on both sides)"}.
    ${src.suggest ? html`<a href="/api/paths/suggest">Rules inferred from both sides' files</a>.` : ""}</p>`;
  if (!path.trim()) return form;
  const toStash = src.mapper.toStash(path);
  const toPlex = src.mapper.toPlex(path);
  const back = toStash ? src.mapper.toPlex(toStash.path) : null;
  const relative = src.mapper.plexCandidates(path);
  const ladder = await explainLadder(path, src.match).catch((err: Error) => err);
  const list = (found: { id: string; score: number }[]) =>
    found.length
      ? found.map((f, i) => html`${i ? ", " : ""}<a href="/ui/scenes/${f.id}">scene ${f.id}</a> (${f.score})`)
      : html`<span class="muted">nothing</span>`;
  return html`${form}
  <h2>Through the rules</h2><div class="scroll"><table id="rules"><tbody>
    <tr><th>as a Plex path → Stash</th><td id="to-stash">${toStash ? html`<code>${toStash.path}</code> <span class="muted">(rule ${toStash.rule})</span>` : "no rule matches"}</td></tr>
    <tr><th>and back</th><td>${toStash ? (back?.path === path.normalize("NFC") ? html`<span class="ok">round trip ok</span>` : html`<span class="bad">comes back as ${back?.path ?? "nothing"}</span>`) : "—"}</td></tr>
    <tr><th>as a Stash path → Plex</th><td id="to-plex">${toPlex ? html`<code>${toPlex.path}</code> <span class="muted">(rule ${toPlex.rule})</span>` : "no rule matches"}</td></tr>
    ${relative.length ? html`<tr><th>as a library-relative name</th><td>${relative.join(", ")}</td></tr>` : ""}
  </tbody></table></div>
  <h2>The match ladder</h2>
  ${tvLinkNote(src, path)}
  ${
    ladder instanceof Error
      ? html`<p class="bad">Stash cannot be asked now: ${ladder.message}</p>`
      : html`<div class="scroll"><table id="ladder"><thead><tr><th>rung</th><th>finds</th><th>why</th></tr></thead><tbody>
  ${ladder.rungs.map((r) => html`<tr><td>${r.rung}</td><td>${list(r.found)}</td><td>${r.note}</td></tr>`)}
  <tr><th>PMS is answered</th><td colspan="2" id="answer">${ladder.answer.length ? list(ladder.answer) : html`no automatic match (Fix Match lists candidates)`}</td></tr>
  </tbody></table></div>`
  }
  ${identityNote(src, path)}
  ${tvLanding(src, scenesOf(src, path, ladder instanceof Error ? [] : ladder.answer))}`;
}

/** A Plex file no rule places, found by its size and duration or fingerprint (or left with several candidates). */
function identityNote(src: DashboardSource, path: string): Html | "" {
  const found = src.identityAt?.(path.normalize("NFC"));
  if (!found) return "";
  if (found.how === "ambiguous")
    return html`<p class="notice" id="identity">Plex item ${found.rating_key}: its name tells nothing and several Stash files have its size and duration (${found.candidates.map((c, i) => html`${i ? ", " : ""}<a href="/ui/scenes/${c.sceneId}">scene ${c.sceneId}</a>`)}); left unmatched. Mounting the media here (read-only, under a path the rules map) lets their fingerprints tell them apart.</p>`;
  const how = found.how === "oshash" ? "its fingerprint (oshash)" : "its exact size and duration";
  return html`<p class="notice" id="identity">Plex item ${found.rating_key} was bound to <a href="/ui/scenes/${found.ref?.id ?? ""}">scene ${found.ref?.id ?? "?"}</a> by ${how}: no rule or name places it.</p>`;
}
