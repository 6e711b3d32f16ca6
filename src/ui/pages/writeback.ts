/**
 * Write-back (Plex → Stash): the overview's card and the page listing what waits, what failed
 * and the latest events; a scene's page lists its own. Reads the event queue (writeback/events.ts).
 */
import { ago, html, plural, REFRESH_SECONDS, when, type Html } from "../html.ts";
import type { DashboardSource } from "../source.ts";
import type { StoredEvent } from "../../writeback/events.ts";
import type { PlexEvent } from "../../writeback/types.ts";
import type { WritebackState } from "../../writeback/types.ts";
import { DEFAULT_INSTANCE_ID, episodeRef, sceneIdOf, type Ref } from "../../domain/ref.ts";
import { instanceLabel, several } from "../instances.ts";

const LIST = 50;

/** What an event says, in words: "play", "stopped at 12:34", "rated 8 (4 stars)". */
export function eventText(e: PlexEvent): string {
  if (e.kind === "play") return "watched to the end";
  if (e.kind === "progress") {
    const s = Math.round(e.viewOffsetMs / 1000);
    return s ? `stopped at ${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}` : "finished";
  }
  return e.rating === null ? "rating cleared" : `rated ${e.rating} (${e.rating / 2} stars)`;
}

const who = (e: PlexEvent) => e.account.name ?? `account ${e.account.id}`;
const sceneLink = (src: DashboardSource, e: PlexEvent) => {
  const id = sceneIdOf(e.ref);
  if (!id) return html`${e.ref.kind} ${e.ref.id}`;
  const q = e.ref.instance === DEFAULT_INSTANCE_ID ? "" : `?instance=${encodeURIComponent(e.ref.instance)}`;
  return html`<a href="/ui/scenes/${id}${q}">scene ${id}</a>${several(src) ? html` <span class="muted">(${instanceLabel(src, e.ref.instance)})</span>` : ""}`;
};
/** Where an event stands: done with what it did, ignored with why, waiting or failed with the error. */
const standing = (s: StoredEvent) =>
  s.state === "done"
    ? html`<span class="ok">done</span> ${s.outcome ?? ""}`
    : s.state === "ignored"
      ? html`<span class="muted">ignored: ${s.lastError ?? ""}</span>`
      : s.state === "failed"
        ? html`<span class="bad">failed</span> ${s.lastError ?? ""}`
        : html`waiting${s.attempts ? html` (attempt ${s.attempts + 1}; ${s.lastError ?? ""})` : ""}`;

function eventsTable(src: DashboardSource, rows: StoredEvent[], id: string): Html {
  if (!rows.length) return html`<p id="${id}" class="muted">None.</p>`;
  return html`<table class="stack" id="${id}"><thead><tr><th>when (Plex)</th><th>scene</th><th>what</th><th>who</th><th>from</th><th>state</th></tr></thead><tbody>
  ${rows.map(
    (
      s,
    ) => html`<tr data-key="${s.key}" data-state="${s.state}"><td data-label="when">${when(s.event.at)}</td><td data-label="scene">${sceneLink(src, s.event)}</td>
    <td data-label="what">${eventText(s.event)}</td><td data-label="who">${who(s.event)}</td><td data-label="from">${s.sources.join(", ")}</td><td data-label="state">${standing(s)}</td></tr>`,
  )}</tbody></table>`;
}

/** The notification stream in words, with its class: "connected since …", "reconnecting since … (error)", "off". */
function streamText(s: WritebackState["stream"]): { text: string; cls: string } {
  switch (s.state) {
    case "connected":
      return { text: `connected since ${when(s.since)}`, cls: "ok" };
    case "connecting":
      return { text: "connecting", cls: "muted" };
    case "reconnecting":
      return {
        text: `reconnecting since ${when(s.since)} (${plural(s.failures, "failed try", "failed tries")}${s.lastError ? `; last error: ${s.lastError}` : ""})`,
        cls: "bad",
      };
    default:
      return { text: "off (WRITEBACK_NOTIFICATIONS=false, or PLEX_URL/PLEX_TOKEN not set)", cls: "muted" };
  }
}

const breakerText = (b: WritebackState["breakers"][number]) =>
  b.state === "open"
    ? html`<span class="bad">open since ${when(b.since)}</span> <span class="muted">(its Stash does not answer; events wait${b.lastError ? `: ${b.lastError}` : ""})</span>`
    : html`<span class="ok">closed</span>`;

/** The stream, each Stash's breaker and the catch-up, as a small table (the page's live part). */
function movingParts(src: DashboardSource, st: WritebackState): Html {
  const stream = streamText(st.stream);
  const c = st.catchUp;
  const catchUp = !c.on
    ? html`<span class="muted">off (PLEX_URL/PLEX_TOKEN not set)</span>`
    : html`history read up to ${c.watermark === null ? "— (not yet)" : when(c.watermark * 1000)};
      last run ${c.lastRun ? html`${ago(c.lastRun.at)}: ${plural(c.lastRun.read, "entry", "entries")} read, ${c.lastRun.recorded} new` : "not yet"}${
        c.lastError ? html`; <span class="bad">last try failed ${ago(c.lastError.at)}: ${c.lastError.error}</span>` : ""
      }`;
  return html`<table class="stack" id="writeback-parts"><tbody>
  <tr><th>Notification stream</th><td data-label="Notification stream" id="writeback-stream" data-state="${st.stream.state}"><span class="${stream.cls}">${stream.text}</span></td></tr>
  ${st.breakers.map(
    (b) =>
      html`<tr><th>Write-back breaker${several(src) ? html` (${instanceLabel(src, b.instance)})` : ""}</th><td data-label="breaker" class="writeback-breaker" data-instance="${b.instance}" data-state="${b.state}">${breakerText(b)}</td></tr>`,
  )}
  <tr><th>Catch-up</th><td data-label="Catch-up" id="writeback-catch-up">${catchUp}</td></tr>
  </tbody></table>`;
}

/** The overview's card: off, or what waits and what failed, the stream and any open breaker. */
export function writebackCard(src: DashboardSource): Html {
  const wb = src.writeback;
  if (!wb)
    return html`<div class="card" id="writeback-card"><h2>Write-back</h2><span class="muted">off (WRITEBACK_ENABLED)</span></div>`;
  const c = wb.events.counts();
  const st = wb.state?.();
  const stream = st && streamText(st.stream);
  const open = st?.breakers.filter((b) => b.state === "open") ?? [];
  return html`<div class="card" id="writeback-card"><h2>Write-back</h2><span class="big">${c.pending}</span> waiting<br>
    <span class="${c.failed ? "bad" : "muted"}">${plural(c.failed, "failure")}</span><span class="muted">, ${c.done} done, ${c.ignored} ignored</span> <a href="/ui/writeback">see</a>${
      stream
        ? html`<br><span class="${stream.cls}" data-stream="${st!.stream.state}">stream: ${stream.text}</span>`
        : ""
    }${open.map((b) => html`<br><span class="bad">Stash ${instanceLabel(src, b.instance)}: breaker open since ${when(b.since)}</span>`)}</div>`;
}

/** The page: how events arrive, then what waits, what failed and the latest (a live part). */
export function writebackPage(src: DashboardSource): Html {
  const wb = src.writeback;
  if (!wb)
    return html`<p>Write-back is off: set <code>WRITEBACK_ENABLED=true</code> to carry plays, resume points and ratings made in Plex to Stash.</p>`;
  return html`<p>Plex Pass webhook: ${wb.webhookUrl ? html`paste <code>${wb.webhookUrl}</code> into Plex (Settings → Webhooks), with the token set in <code>WRITEBACK_WEBHOOK_TOKEN</code>` : html`<span class="muted">off (no webhook token set)</span>`}.
  Without Plex Pass, PMS's live notifications and its watch history bring the same events.</p>
  ${writebackLive(src)}`;
}

export function writebackLive(src: DashboardSource): Html {
  const wb = src.writeback;
  if (!wb) return html`<div id="writeback-live"></div>`;
  const c = wb.events.counts();
  return html`<div id="writeback-live" hx-get="/ui/live/writeback" hx-trigger="every ${REFRESH_SECONDS}s" hx-swap="outerHTML">
  <div class="cards"><div class="card"><h2>Waiting</h2><span class="big">${c.pending}</span> <span class="muted">${c.due} due now</span></div>
    <div class="card"><h2>Failed</h2><span class="big">${c.failed}</span></div>
    <div class="card"><h2>Done</h2><span class="big">${c.done}</span></div>
    <div class="card"><h2>Ignored</h2><span class="big">${c.ignored}</span></div></div>
  ${wb.state ? movingParts(src, wb.state()) : ""}
  <h2 id="waiting">Waiting</h2>${eventsTable(src, wb.events.recent(LIST, "pending"), "writeback-waiting")}
  <h2 id="failed">Failed</h2>${eventsTable(src, wb.events.recent(LIST, "failed"), "writeback-failed")}
  <h2>Latest events</h2>${eventsTable(src, wb.events.recent(LIST), "writeback-recent")}</div>`;
}

/** A scene's write-back events (its page), newest first: as a movie and as an episode of each TV layout. */
export function sceneWriteback(src: DashboardSource, ref: Ref): Html {
  const wb = src.writeback;
  if (!wb) return html``;
  const refs = [ref, ...(["st", "sn", "gr"] as const).map((scheme) => episodeRef(ref.instance, scheme, ref.id))];
  const rows = refs
    .flatMap((r) => wb.events.forRef(r, 20))
    .sort((a, b) => b.event.at - a.event.at)
    .slice(0, 20);
  return html`<h2>From Plex (write-back)</h2>${eventsTable(src, rows, "scene-writeback")}`;
}
