/**
 * Server-rendered HTML without a framework: a tagged template that escapes every value unless
 * it is already HTML, and the page layout (navigation, styles, htmx for the live parts).
 */
import htmxSource from "htmx.org/dist/htmx.min.js" with { type: "text" };
import styles from "./style.css" with { type: "text" };
import liveScript from "./assets/live.js" with { type: "text" };
import favicon from "./assets/favicon.svg" with { type: "text" };

export interface Html {
  readonly __html: string;
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escapeHtml = (value: unknown) => String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
export const raw = (text: string): Html => ({ __html: text });

function render(value: unknown): string {
  if (value === null || value === undefined || value === false) return "";
  if (Array.isArray(value)) return value.map(render).join("");
  if (typeof value === "object" && "__html" in (value as object)) return (value as Html).__html;
  return escapeHtml(value);
}

/** `html\`<p>${untrusted}</p>\``: values are escaped; Html values and arrays of them are kept. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => (out += render(v) + strings[i + 1]!));
  return raw(out);
}

export const PAGES = [
  ["overview", "/ui", "Overview"],
  ["queue", "/ui/queue", "Queue"],
  ["outages", "/ui/outages", "Outages"],
  ["gaps", "/ui/gaps", "Gaps"],
  ["collections", "/ui/collections", "Collections"],
  ["writeback", "/ui/writeback", "Write-back"],
  ["paths", "/ui/paths", "Path tester"],
  ["jobs", "/ui/jobs", "Jobs"],
  ["settings", "/ui/settings", "Settings"],
] as const;
export type PageId = (typeof PAGES)[number][0];

export const assets = { htmx: htmxSource, css: styles, live: liveScript, favicon };

/** How often the pages' live parts (and the heartbeat of every page) ask the service, in seconds. */
export const REFRESH_SECONDS = 5;

/** Every signed-in page asks the service this often, so a stopped service or an ended session shows (assets/live.js). */
const heartbeat = html`<span id="heartbeat" hx-get="/ui/live/ping" hx-trigger="every ${REFRESH_SECONDS}s" hx-swap="none" hidden></span>`;

export function layout(
  title: string,
  current: PageId | "sign-in",
  body: Html,
  options: { signedIn: boolean; notice?: string },
): string {
  const nav =
    current === "sign-in"
      ? ""
      : html`<nav aria-label="Pages"><ul>${PAGES.map(
          ([id, href, label]) =>
            html`<li><a href="${href}"${raw(id === current ? ' aria-current="page"' : "")}>${label}</a></li>`,
        )}</ul>
    ${options.signedIn ? html`<form method="post" action="/ui/sign-out"><button class="link">Sign out</button></form>` : ""}</nav>`;
  // htmx-config: htmx's indicator styles would be an inline <style>, which the CSP (src/admin/guard.ts) refuses.
  return (
    "<!doctype html>" +
    html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content='{"includeIndicatorStyles":false}'>
<title>${title} · stash2plex</title><link rel="icon" href="/ui/assets/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/ui/assets/style.css">
<script src="/ui/assets/htmx.js" defer></script><script src="/ui/assets/live.js" defer></script></head>
<body data-connection="live"><header><a class="brand" href="/ui">stash2plex</a>${nav}</header>
<div id="connection" class="connection" role="alert" hidden></div>${current === "sign-in" ? "" : heartbeat}<main id="main">
${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ""}<h1>${title}</h1>${body}</main></body></html>`
      .__html
  );
}

export const ago = (ms: number | null | undefined, now = Date.now()) => {
  if (!ms) return "never";
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 90
    ? `${s} s ago`
    : s < 5400
      ? `${Math.round(s / 60)} min ago`
      : s < 172_800
        ? `${Math.round(s / 3600)} h ago`
        : `${Math.round(s / 86400)} days ago`;
};
/** When a scheduled job runs next, as the pages say it. */
export const nextRun = (job: { running: boolean; nextRunAt: number | null }, now = Date.now()) =>
  job.running
    ? "running now"
    : job.nextRunAt === null
      ? "not scheduled"
      : job.nextRunAt <= now
        ? "due now"
        : `in ${duration(job.nextRunAt - now)}`;
export const duration = (ms: number | null) =>
  ms === null
    ? "—"
    : ms < 90_000
      ? `${Math.round(ms / 1000)} s`
      : ms < 5_400_000
        ? `${Math.round(ms / 60_000)} min`
        : `${(ms / 3_600_000).toFixed(1)} h`;
/** A job's interval in its own whole unit: "5 s", "15 min", "24 h" (not "24.0 h" beside "60 min"). */
export const interval = (seconds: number) =>
  seconds % 3600 === 0 ? `${seconds / 3600} h` : seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
/** A moment, always saying its zone (the service's clock and the reader's may differ). */
export const when = (ms: number | null | undefined) =>
  ms ? `${new Date(ms).toISOString().replace("T", " ").slice(0, 19)} UTC` : "—";
export { plural } from "./plural.ts";
