/**
 * Gaps: the last reconcile by kind, its gaps (a stale one with Stash's and Plex's values side by
 * side), what was kept in Plex or skipped and why, heal or run now, with live progress. While a
 * run goes, the whole body is polled, so its report replaces the bar when it ends (no reload).
 */
import { ago, html, type Html } from "../html.ts";
import type { DashboardSource } from "../source.ts";
import { GAP_KINDS, gapTotals, type FieldValues, type Gap, type GapKind } from "../../domain/gaps.ts";
import { DEFAULT_INSTANCE_ID, sceneRef } from "../../domain/ref.ts";
import { instanceLabel, sceneHref, several } from "../instances.ts";

const BODY = "gaps-body";
const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The progress bar; `here` is the page it sits in (what to poll while a run goes). */
export function reconcileProgress(src: DashboardSource, here = "/ui/gaps"): Html {
  const p = src.reconciler?.progress;
  // Idle: ask now and then whether a run started (from here, the schedule, the CLI or the API).
  if (!p)
    return html`<div id="reconcile-progress" hx-get="/ui/live/reconcile" hx-trigger="every 2s" hx-swap="outerHTML"><p class="muted">No reconcile is running.</p></div>`;
  const share = p.total ? Math.min(100, Math.round((p.done / p.total) * 100)) : 0;
  return html`<div id="reconcile-progress" hx-get="${here}" hx-select="#${BODY}" hx-target="#${BODY}" hx-trigger="every 1s" hx-swap="outerHTML">
    <p>Reconciling: ${p.phase}, ${p.done} of ${p.total || "?"}</p>
    <progress max="100" value="${share}" aria-label="Reconcile progress">${share}%</progress></div>`;
}

/** Each field as Stash would have it and as Plex shows it. */
const sideBySide = (values: Record<string, FieldValues> | undefined) =>
  values && Object.keys(values).length
    ? html`<div class="scroll"><table class="values"><thead><tr><th>field</th><th>Stash</th><th>Plex</th></tr></thead><tbody>
    ${Object.entries(values).map(([field, v]) => html`<tr><td>${field}</td><td>${v.stash || "(none)"}</td><td>${v.plex || "(none)"}</td></tr>`)}
    </tbody></table></div>`
    : "";

/** A gap's scene, linked in its own instance; with several Stash instances, named with it. */
function gapScene(src: DashboardSource, g: Pick<Gap, "sceneId" | "instance">): Html | "" {
  if (!g.sceneId) return "";
  const ref = sceneRef(g.instance ?? DEFAULT_INSTANCE_ID, g.sceneId);
  return html`<a href="${sceneHref(ref)}">scene ${g.sceneId}</a>${several(src) ? html` <span class="instance" data-instance="${ref.instance}">of ${instanceLabel(src, ref.instance)}</span>` : ""}`;
}

export function gapsPage(src: DashboardSource, kind: GapKind | undefined, offset: number): Html {
  if (!src.reconciler) return html`<p>Reconciling compares Stash with Plex: set PLEX_URL and PLEX_TOKEN.</p>`;
  const report = src.reconciler.reports.lastDone();
  const last = src.reconciler.reports.last();
  const gaps = report ? src.reconciler.reports.gaps(report.id, kind, offset, 50) : [];
  const healable = (k: GapKind) => src.healable.includes(k);
  const query = [kind ? `kind=${kind}` : "", offset ? `offset=${offset}` : ""].filter(Boolean).join("&");
  const here = `/ui/gaps${query ? `?${query}` : ""}`;
  const totals = report ? gapTotals(report, src.healable) : { toHeal: 0, forAPerson: 0 };
  return html`<div id="${BODY}">${reconcileProgress(src, here)}
  <form method="post" action="/ui/actions/reconcile"><button name="heal" value="none" class="secondary">Run now (report only)</button>
    <button name="heal" value="all">Run now and heal</button></form>
  ${last?.status === "failed" ? html`<p class="notice">The last run stopped: ${last.error}</p>` : ""}
  ${
    report
      ? html`<section data-run="${report.id}"><h2>Last report (${ago(report.finishedAt)}, ${report.scenes} scenes, ${report.items} Plex items)</h2>
  <p>${count(totals.toHeal, "gap")} can be healed from here; ${totals.forAPerson} cannot be healed from here and need a person
    (a file Stash does not know while Stash scanning is off, a scene Stash emptied, an item of a deleted scene, a copy several scenes may be).</p>
  <form method="post" action="/ui/actions/reconcile"><div class="scroll"><table><thead><tr><th>heal</th><th>kind</th><th>found</th><th>healed</th></tr></thead><tbody>
  ${GAP_KINDS.map(
    (
      k,
    ) => html`<tr><td>${healable(k) && report.counts[k] ? html`<input type="checkbox" name="kind" value="${k}" id="heal-${k}" aria-label="heal ${k}">` : ""}</td>
    <td><a href="/ui/gaps?kind=${k}">${k}</a>${healable(k) ? "" : html` <span class="muted">(needs a person)</span>`}</td><td>${report.counts[k] ?? 0}</td><td>${report.healed[k] ?? 0}</td></tr>`,
  )}
  <tr><td></td><td>kept in Plex <span class="muted">(locked there: not a gap)</span></td><td>${report.kept ?? 0}</td><td>—</td></tr>
  </tbody></table></div><button name="heal" value="selected">Heal the selected kinds</button></form>
  ${report.skipped?.length ? html`<h3>Sections skipped</h3><ul>${report.skipped.map((s) => html`<li>"${s.title}" (section ${s.key}): ${s.reason}</li>`)}</ul>` : ""}
  ${
    report.keptItems?.length
      ? html`<h3>Kept in Plex</h3>
    <p class="muted">${count(report.kept ?? report.keptItems.length, "item")} ${report.kept === 1 ? "has" : "have"} fields locked in Plex that differ from Stash:
    the choice made in Plex, never healed. Unlock a field in Plex to let Stash's value through.</p>
    <ul>${report.keptItems.slice(0, 20).map((k) => html`<li>${gapScene(src, k)}, Plex item ${k.ratingKey}: ${k.fields.join(", ")}${sideBySide(k.values)}</li>`)}</ul>`
      : ""
  }
  <h2>${kind ? `Gaps: ${kind}` : "Gaps"} ${offset ? `from ${offset + 1}` : ""}</h2>
  ${
    gaps.length
      ? html`<ul>${gaps.map((g) => html`<li><strong>${g.kind}</strong> ${gapScene(src, g)} ${g.reason}${sideBySide(g.values)}</li>`)}</ul>
    ${gaps.length === 50 ? html`<a href="/ui/gaps?${kind ? `kind=${kind}&` : ""}offset=${offset + 50}">more</a>` : ""}`
      : html`<p>No gap${kind ? ` of this kind` : ""}.</p>`
  }</section>`
      : html`<p>No reconcile has completed yet.</p>`
  }</div>`;
}
