/**
 * Write-back (Plex → Stash): the overview's card and the page listing what waits, what failed
 * and the latest events; a scene's page lists its own. Reads the event queue (writeback/events.ts).
 */
import { ago, duration, html, plural, REFRESH_SECONDS, when, type Html } from "../html.ts";
import type { DashboardSource } from "../source.ts";
import { PLAY_TOLERANCE_MS, type StoredEvent } from "../../writeback/events.ts";
import type { PlexEvent } from "../../writeback/types.ts";
import type { WritebackState } from "../../writeback/types.ts";
import { stars } from "../../writeback/rules.ts";
import {
  DEFAULT_INSTANCE_ID,
  EPISODE_ID,
  episodeRef,
  refKey,
  SHOW_SCHEMES,
  sceneIdOf,
  type Ref,
} from "../../domain/ref.ts";
import { instanceLabel, several } from "../instances.ts";

const LIST = 50;

/** What an event says, in words: "play", "stopped at 12:34", "rated 8 (4 stars)". */
export function eventText(e: PlexEvent): string {
  if (e.kind === "play") return "watched to the end";
  if (e.kind === "progress") {
    const s = Math.round(e.viewOffsetMs / 1000);
    return s
      ? `stopped at ${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`
      : "finished (resume point cleared)";
  }
  return e.rating === null ? "rating cleared" : `rated ${e.rating} (${stars(e.rating)})`;
}

const who = (e: PlexEvent) => e.account.name ?? `account ${e.account.id}`;
const sceneLink = (src: DashboardSource, e: PlexEvent) => {
  const id = sceneIdOf(e.ref);
  if (!id) return html`${e.ref.kind} ${e.ref.id}`;
  const q = e.ref.instance === DEFAULT_INSTANCE_ID ? "" : `?instance=${encodeURIComponent(e.ref.instance)}`;
  return html`<a href="/ui/scenes/${id}${q}">scene ${id}</a>${several(src) ? html` <span class="muted">(${instanceLabel(src, e.ref.instance)})</span>` : ""}`;
};
/**
 * Where an event's item sits in Plex: "movie", or "episode in <show>" (its TV library in grey).
 * The ref's kind says movie or episode; the episode id's scheme says which layout's show.
 */
export function itemPlace(src: DashboardSource, ref: Ref): Html {
  if (ref.kind === "scene") return html`movie`;
  const m = ref.kind === "episode" ? EPISODE_ID.exec(ref.id) : null;
  if (!m) return html`${ref.kind}`;
  const [, scheme, sceneId] = m as unknown as [string, string, string];
  const lib = src.tv?.find((v) => v.instance === ref.instance && v.scheme === scheme);
  if (!lib) return html`episode <span class="muted">(${scheme === "gr" ? "a group's show" : "a studio's show"})</span>`;
  const show = lib.placementOf(sceneId)?.showTitle;
  return show ? html`episode in ${show} <span class="muted">(${lib.id})</span>` : html`episode in ${lib.id}`;
}

/** When a pending event is tried next, in words. */
const nextTry = (s: StoredEvent, now: number) =>
  s.claimedAt !== null
    ? "being written now"
    : s.nextAttemptAt <= now
      ? "due now"
      : `next try in ${duration(s.nextAttemptAt - now)}`;

/** Where an event stands: done with what it did, ignored with why, waiting (when next) or failed with the error. */
const standing = (s: StoredEvent, now: number) =>
  s.state === "done"
    ? html`<span class="ok">done</span> ${s.outcome ?? ""}`
    : s.state === "ignored"
      ? html`<span class="muted">ignored: ${s.lastError ?? ""}</span>`
      : s.state === "failed"
        ? html`<span class="bad">failed</span> ${s.lastError ?? ""}`
        : html`waiting: ${nextTry(s, now)}${s.attempts ? html` <span class="muted">(${plural(s.attempts, "try", "tries")} failed; last: ${s.lastError ?? ""})</span>` : ""}`;

/** A finished stop (resume point cleared) that belongs to a play in the same list: one viewing, shown once. */
const isFinish = (e: PlexEvent) => e.kind === "progress" && Math.round(e.viewOffsetMs / 1000) === 0;
const sameViewing = (play: PlexEvent, stop: PlexEvent) =>
  play.kind === "play" &&
  refKey(play.ref) === refKey(stop.ref) &&
  play.ratingKey === stop.ratingKey &&
  play.account.id === stop.account.id &&
  Math.abs(play.at - stop.at) <= PLAY_TOLERANCE_MS;

/**
 * The rows to show: each play with the finished stop of the same viewing folded into it (Plex
 * tells the end of a viewing twice: the scrobble, then the stop that clears the resume point).
 */
export function foldViewings(rows: readonly StoredEvent[]): { row: StoredEvent; stop?: StoredEvent }[] {
  const taken = new Set<string>();
  const stopOf = new Map<string, StoredEvent>();
  for (const r of rows) {
    if (r.event.kind !== "play") continue;
    const stop = rows.find((s) => !taken.has(s.key) && isFinish(s.event) && sameViewing(r.event, s.event));
    if (stop) {
      taken.add(stop.key);
      stopOf.set(r.key, stop);
    }
  }
  return rows.filter((r) => !taken.has(r.key)).map((row) => ({ row, stop: stopOf.get(row.key) }));
}

interface TableOptions {
  /** The scene's own page: the item column says movie or episode instead of the scene. */
  oneScene?: boolean;
  /** Failed rows get Retry and Discard buttons. */
  actions?: boolean;
}

function eventsTable(src: DashboardSource, rows: StoredEvent[], id: string, opts: TableOptions = {}): Html {
  if (!rows.length) return html`<p id="${id}" class="muted">None.</p>`;
  const now = Date.now();
  const item = (e: PlexEvent) =>
    opts.oneScene
      ? html`<td data-label="as">${itemPlace(src, e.ref)}</td>`
      : html`<td data-label="scene">${sceneLink(src, e)}<br><span class="muted">${itemPlace(src, e.ref)}</span></td>`;
  return html`<table class="stack" id="${id}"><thead><tr><th>when (Plex)</th><th>${opts.oneScene ? "as" : "scene"}</th><th>what</th><th>who</th><th>from</th><th>state</th>${opts.actions ? html`<th></th>` : ""}</tr></thead><tbody>
  ${foldViewings(rows).map(
    ({
      row: s,
      stop,
    }) => html`<tr data-key="${s.key}" data-state="${s.state}"${stop ? html` data-stop="${stop.key}"` : ""}><td data-label="when">${when(s.event.at)}</td>${item(s.event)}
    <td data-label="what">${eventText(s.event)}${stop ? html`<br><span class="muted">and its stop</span>` : ""}</td><td data-label="who">${who(s.event)}</td><td data-label="from">${s.sources.join(", ")}</td>
    <td data-label="state">${standing(s, now)}${stop ? html`<br><span class="muted">stop:</span> ${standing(stop, now)}` : ""}</td>${
      opts.actions
        ? html`<td data-label="" class="nowrap"><button name="one" value="${s.key}" class="secondary" aria-label="Retry this event">Retry</button>
      <button name="one" value="${s.key}" formaction="/ui/actions/writeback/discard" class="secondary" aria-label="Discard this event">Discard</button></td>`
        : ""
    }</tr>`,
  )}</tbody></table>`;
}

/** The failed events with Retry and Discard (one, or all). */
function failedPart(src: DashboardSource, rows: StoredEvent[], total: number): Html {
  if (!rows.length) return eventsTable(src, rows, "writeback-failed");
  return html`<p class="muted">Events Stash could not take (the scene is gone, or it kept failing). Retry once the cause is fixed, or discard: nothing is written for a discarded event.</p>
  <form method="post" action="/ui/actions/writeback/retry" id="writeback-failed-form">
    <div class="actions"><button name="which" value="all">${total === 1 ? "Retry the failed event" : `Retry all ${total} failed`}</button>
      <button name="which" value="all" formaction="/ui/actions/writeback/discard" class="danger">${total === 1 ? "Discard the failed event" : `Discard all ${total} failed`}</button></div>
    ${eventsTable(src, rows, "writeback-failed", { actions: true })}</form>`;
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

/** What the waiting events wait for: "2 due now", or "next try in 9 min" when all wait out a backoff. */
function waitingNote(c: { pending: number; due: number }, next: number | null): string {
  if (c.due) return c.due === c.pending ? "due now" : `${c.due} due now`;
  return next === null ? "being written" : `next try in ${duration(Math.max(0, next - Date.now()))}`;
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
  return html`<div class="card" id="writeback-card"><h2>Write-back</h2><span class="big">${c.pending}</span> waiting${c.pending ? html` <span class="muted">(${waitingNote(c, wb.events.nextAttemptAt())})</span>` : ""}<br>
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
  return html`<p>Plex Pass webhook: ${wb.webhookUrl ? html`paste <code>${wb.webhookUrl}</code> into Plex (Settings → Webhooks), with the token set in <code>WRITEBACK_WEBHOOK_TOKEN</code>${publicUrlUnset(src) ? html` <span class="bad" id="public-url-unset">(PUBLIC_URL is not set, so this is its default: set <code>PUBLIC_URL</code> to the address Plex reaches stash2plex at)</span>` : ""}` : html`<span class="muted">off (no webhook token set)</span>`}.
  Without Plex Pass, PMS's live notifications and its watch history bring the same events.</p>
  ${writebackLive(src)}`;
}

/** PUBLIC_URL left to its default (config/load.ts: http://<listen host, 0.0.0.0 as localhost>:<port>). */
function publicUrlUnset(src: DashboardSource): boolean {
  const { listen, publicUrl } = src.config;
  const host = listen.host === "0.0.0.0" ? "localhost" : listen.host;
  return publicUrl === `http://${host}:${listen.port}`;
}

export function writebackLive(src: DashboardSource): Html {
  const wb = src.writeback;
  if (!wb) return html`<div id="writeback-live"></div>`;
  const c = wb.events.counts();
  return html`<div id="writeback-live" hx-get="/ui/live/writeback" hx-trigger="every ${REFRESH_SECONDS}s" hx-swap="outerHTML">
  <div class="cards"><div class="card" id="writeback-waiting-card"><h2>Waiting</h2><span class="big">${c.pending}</span>${c.pending ? html` <span class="muted">${waitingNote(c, wb.events.nextAttemptAt())}</span>` : ""}</div>
    <div class="card"><h2>Failed</h2><span class="big">${c.failed}</span></div>
    <div class="card"><h2>Done</h2><span class="big">${c.done}</span></div>
    <div class="card"><h2>Ignored</h2><span class="big">${c.ignored}</span></div></div>
  ${wb.state ? movingParts(src, wb.state()) : ""}
  <h2 id="waiting">Waiting</h2>${eventsTable(src, wb.events.recent(LIST, "pending"), "writeback-waiting")}
  <h2 id="failed">Failed</h2>${failedPart(src, wb.events.recent(LIST, "failed"), c.failed)}
  <h2>Latest events</h2>${eventsTable(src, wb.events.recent(LIST), "writeback-recent")}</div>`;
}

/** A scene's write-back events (its page), newest first: as a movie and as an episode of each TV layout. */
export function sceneWriteback(src: DashboardSource, ref: Ref): Html {
  const wb = src.writeback;
  if (!wb) return html``;
  const refs = [ref, ...SHOW_SCHEMES.map((scheme) => episodeRef(ref.instance, scheme, ref.id))];
  const rows = refs
    .flatMap((r) => wb.events.forRef(r, 20))
    .sort((a, b) => b.event.at - a.event.at)
    .slice(0, 20);
  return html`<h2>From Plex (write-back)</h2>${eventsTable(src, rows, "scene-writeback", { oneScene: true })}`;
}
