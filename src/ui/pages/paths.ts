/** Path tester: a path through the rules both ways, and the match ladder rung by rung. */
import { html, plural, type Html } from "../html.ts";
import type { DashboardSource } from "../source.ts";
import { explainLadder } from "../../provider/match.ts";
import { tokenOf } from "../../tv/names.ts";
import { DEFAULT_INSTANCE_ID } from "../../domain/ref.ts";
import { tvLanding } from "./tv.ts";

/** The scenes a tested path stands for: a link of an episode folder names its own; else the ladder's answer. */
function scenesOf(path: string, answer: { id: string }[]) {
  const token = tokenOf(path.split(/[\\/]/).at(-1) ?? "");
  const ids = token?.kind === "episode" ? [token.sceneId] : answer.map((a) => a.id);
  return ids.map((id) => ({ id, instance: DEFAULT_INSTANCE_ID }));
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
  <h2>Through the rules</h2><div class="scroll"><table><tbody>
    <tr><th>as a Plex path → Stash</th><td id="to-stash">${toStash ? html`<code>${toStash.path}</code> <span class="muted">(rule ${toStash.rule})</span>` : "no rule matches"}</td></tr>
    <tr><th>and back</th><td>${toStash ? (back?.path === path.normalize("NFC") ? html`<span class="ok">round trip ok</span>` : html`<span class="bad">comes back as ${back?.path ?? "nothing"}</span>`) : "—"}</td></tr>
    <tr><th>as a Stash path → Plex</th><td id="to-plex">${toPlex ? html`<code>${toPlex.path}</code> <span class="muted">(rule ${toPlex.rule})</span>` : "no rule matches"}</td></tr>
    ${relative.length ? html`<tr><th>as a library-relative name</th><td>${relative.join(", ")}</td></tr>` : ""}
  </tbody></table></div>
  <h2>The match ladder</h2>
  ${
    ladder instanceof Error
      ? html`<p class="bad">Stash cannot be asked now: ${ladder.message}</p>`
      : html`<div class="scroll"><table id="ladder"><thead><tr><th>rung</th><th>finds</th><th>why</th></tr></thead><tbody>
  ${ladder.rungs.map((r) => html`<tr><td>${r.rung}</td><td>${list(r.found)}</td><td>${r.note}</td></tr>`)}
  <tr><th>PMS is answered</th><td colspan="2" id="answer">${ladder.answer.length ? list(ladder.answer) : html`no automatic match (Fix Match lists candidates)`}</td></tr>
  </tbody></table></div>`
  }
  ${tvLanding(src, scenesOf(path, ladder instanceof Error ? [] : ladder.answer))}`;
}
