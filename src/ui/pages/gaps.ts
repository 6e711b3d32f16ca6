/** Gaps: the last reconcile by kind, its gaps, heal or run now, with live progress. */
import { ago, html, type Html } from "../html.ts";
import type { DashboardSource } from "../source.ts";
import { GAP_KINDS, type GapKind } from "../../gaps/model.ts";

export function reconcileProgress(src: DashboardSource): Html {
  const p = src.reconciler?.progress;
  const live = html`hx-get="/ui/live/reconcile" hx-trigger="every 1s" hx-swap="outerHTML"`;
  if (!p) return html`<div id="reconcile-progress" ${live}><p class="muted">No reconcile is running.</p></div>`;
  const share = p.total ? Math.min(100, Math.round((p.done / p.total) * 100)) : 0;
  return html`<div id="reconcile-progress" ${live}><p>Reconciling: ${p.phase}, ${p.done} of ${p.total || "?"}</p>
    <progress max="100" value="${share}" aria-label="Reconcile progress">${share}%</progress></div>`;
}

export function gapsPage(src: DashboardSource, kind: GapKind | undefined, offset: number): Html {
  if (!src.reconciler) return html`<p>Reconciling compares Stash with Plex: set PLEX_URL and PLEX_TOKEN.</p>`;
  const report = src.reconciler.reports.lastDone();
  const last = src.reconciler.reports.last();
  const gaps = report ? src.reconciler.reports.gaps(report.id, kind, offset, 50) : [];
  const healable = (k: GapKind) => src.healable.includes(k);
  return html`${reconcileProgress(src)}
  <form method="post" action="/ui/actions/reconcile"><button name="heal" value="none" class="secondary">Run now (report only)</button>
    <button name="heal" value="all">Run now and heal</button></form>
  ${last?.status === "failed" ? html`<p class="notice">The last run stopped: ${last.error}</p>` : ""}
  ${report ? html`<h2>Last report (${ago(report.finishedAt)}, ${report.scenes} scenes, ${report.items} Plex items)</h2>
  <form method="post" action="/ui/actions/reconcile"><div class="scroll"><table><thead><tr><th>heal</th><th>kind</th><th>found</th><th>healed</th></tr></thead><tbody>
  ${GAP_KINDS.map((k) => html`<tr><td>${healable(k) && report.counts[k] ? html`<input type="checkbox" name="kind" value="${k}" id="heal-${k}" aria-label="heal ${k}">` : ""}</td>
    <td><a href="/ui/gaps?kind=${k}">${k}</a></td><td>${report.counts[k] ?? 0}</td><td>${report.healed[k] ?? 0}</td></tr>`)}
  </tbody></table></div><button name="heal" value="selected">Heal the selected kinds</button></form>
  <h2>${kind ? `Gaps: ${kind}` : "Gaps"} ${offset ? `from ${offset + 1}` : ""}</h2>
  ${gaps.length ? html`<ul>${gaps.map((g) => html`<li><strong>${g.kind}</strong> ${g.sceneId ? html`<a href="/ui/scenes/${g.sceneId}">scene ${g.sceneId}</a>` : ""} ${g.reason}</li>`)}</ul>
    ${gaps.length === 50 ? html`<a href="/ui/gaps?${kind ? `kind=${kind}&` : ""}offset=${offset + 50}">more</a>` : ""}` : html`<p>No gap${kind ? ` of this kind` : ""}.</p>`}`
  : html`<p>No reconcile has completed yet.</p>`}`;
}
