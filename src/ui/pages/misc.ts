/** Outages, jobs, settings and sign-in: the smaller pages. */
import { ago, duration, html, interval, nextRun, plural, REFRESH_SECONDS, when, type Html } from "../html.ts";
import type { DashboardSource } from "../source.ts";
import { outageStats, percentText } from "../outage-stats.ts";
import { redactedConfig } from "../../config/redact.ts";
import { settingSources } from "../../config/load.ts";
import { settings } from "../../config/settings.ts";
import type { Outage } from "../../sync/breaker.ts";
import { instanceLabel, several } from "../instances.ts";

/**
 * Plex's outages: availability over 7 and 30 days and the history; a live part (it refreshes
 * itself). Each Stash instance's pushes have their own breaker, so with several each has its own.
 */
export function outagesPage(src: DashboardSource, now = Date.now()): Html {
  const body = several(src)
    ? html`${src.instances.map(
        (
          v,
        ) => html`<section data-instance="${v.instance.id}"><h2>Pushes of Stash ${instanceLabel(src, v.instance.id)}</h2>
      ${outagesOf(v.outages(500), now, "h3")}</section>`,
      )}`
    : outagesOf(src.breaker.outages(500), now, "h2");
  return html`<div id="outages-live" hx-get="/ui/live/outages" hx-trigger="every ${REFRESH_SECONDS}s" hx-swap="outerHTML">${body}</div>`;
}

/** One breaker's outages: the availability cards and the history table. */
function outagesOf(outages: Outage[], now: number, heading: "h2" | "h3"): Html {
  const stats = [7, 30].map((days) => outageStats(outages, days, now));
  return html`<div class="cards">${stats.map(
    (s) => html`<div class="card"><h2>Last ${s.days} days</h2>
    <span class="big">${percentText(s.availability)}</span> available<br>
    ${plural(s.outages, "outage")}, down ${s.downMs ? duration(s.downMs) : "never"}<br>
    MTTR ${duration(s.mttrMs)} · MTBF ${s.mtbfMs === null && s.outages === 1 ? html`— <span class="muted">(needs two outages)</span>` : duration(s.mtbfMs)}</div>`,
  )}</div>
  ${heading === "h2" ? html`<h2>History</h2>` : html`<h3>History</h3>`}
  ${
    outages.length
      ? html`<table class="stack"><thead><tr><th>started</th><th>ended</th><th>lasted</th><th>changes waiting</th><th>last error</th></tr></thead><tbody>
  ${outages.map(
    (
      o,
    ) => html`<tr><td data-label="started">${when(o.started_at)}</td><td data-label="ended">${o.ended_at ? when(o.ended_at) : html`<strong>ongoing</strong>`}</td>
    <td data-label="lasted">${duration((o.ended_at ?? now) - o.started_at)}</td><td data-label="changes waiting">${o.jobs_waiting}</td><td data-label="last error">${o.last_error ?? ""}</td></tr>`,
  )}
  </tbody></table>`
      : html`<p>Plex has not been down since stash2plex started keeping count.</p>`
  }`;
}

export function jobsPage(src: DashboardSource, now = Date.now()): Html {
  return html`<div class="scroll"><table><thead><tr><th>job</th><th>every</th><th>last run</th><th>next run</th><th>took</th><th>last error</th><th></th></tr></thead><tbody>
  ${src.jobs().map(
    (
      j,
    ) => html`<tr><td>${j.name}</td><td>${j.everySeconds ? interval(j.everySeconds) : "off"}</td><td>${j.running ? "running now" : ago(j.lastRunAt, now)}</td>
    <td>${nextRun(j, now)}</td><td>${j.lastDurationMs === null ? "—" : `${j.lastDurationMs} ms`}</td><td>${j.lastError ?? ""}</td>
    <td><form method="post" action="/ui/actions/jobs/${j.id}" class="inline"><button class="secondary" aria-label="Run ${j.name} now">Run now</button></form></td></tr>`,
  )}
  </tbody></table></div>
  ${backupsPart(src, now)}
  <h2>Push a set of scenes</h2>
  <form method="post" action="/ui/actions/sync"><button name="scope" value="all">Sync all scenes</button>
    <button name="scope" value="7d" class="secondary">Sync scenes changed in the last 7 days</button></form>
  ${syncProgress(src)}`;
}

export function syncProgress(src: DashboardSource): Html {
  const p = src.syncProgress();
  const live = html`hx-get="/ui/live/sync" hx-trigger="every 1s" hx-swap="outerHTML"`;
  if (!p) return html`<div id="sync-progress" ${live}></div>`;
  const share = p.total ? Math.min(100, Math.round((p.done / p.total) * 100)) : 100;
  return html`<div id="sync-progress" ${live}><p>${p.what}: ${p.done} of ${p.total} delivered (<span id="sync-share">${share}%</span>)</p>
    <progress max="100" value="${share}" aria-label="Sync progress">${share}%</progress></div>`;
}

/** `current`: the key of the session viewing the page (marked "this browser"). */
export function settingsPage(src: DashboardSource, current?: string): Html {
  const shown = redactedConfig(src.config) as Record<string, unknown>;
  const sources = settingSources(src.config);
  const valueAt = (path: string[]) =>
    path.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), shown);
  // An empty ADMIN_TOKEN means one was generated into the data folder: not "(empty)", which reads as "no token".
  const value = (key: string, path: string[]) =>
    key === "admin.token" && !src.config.admin.token
      ? "generated (kept in the data folder's admin-token file)"
      : (JSON.stringify(valueAt(path)) ?? "");
  return html`<p>The settings in effect. Secrets show only whether they are set.</p>
  <table class="stack settings"><thead><tr><th>setting</th><th>env</th><th>value</th><th>from</th></tr></thead><tbody>
  ${settings.map(
    (s) => html`<tr><td data-label="setting"><code>${s.key}</code></td><td data-label="env"><code>${s.env}</code></td>
    <td data-label="value"><code>${value(s.key, s.path)}</code></td><td data-label="from">${sources[s.key] ?? "default"}</td></tr>`,
  )}
  </tbody></table>
  ${several(src) ? instancesSettings(src) : ""}
  ${sessionsSection(src, current)}`;
}

/** Each Stash instance: where it is, whether its key is set, its path rules, and the URL to paste in Plex. */
function instancesSettings(src: DashboardSource): Html {
  return html`<h2 id="instances">Stash instances</h2>
  <p class="muted">Each Stash is its own provider in Plex: add it with its provider URL (Settings → Metadata Agents → Add Provider) and pick it for that library.</p>
  ${src.instances.map(
    (
      v,
    ) => html`<section class="instance" data-instance="${v.instance.id}"><h3>${instanceLabel(src, v.instance.id)}${v.instance.isDefault ? " — the default" : ""}</h3>
  <table class="stack settings"><tbody>
    <tr><th>Stash URL</th><td><code>${v.stashUrl}</code></td></tr>
    <tr><th>API key</th><td><code>${v.instance.stash.apiKey ? "(set)" : "(empty)"}</code></td></tr>
    <tr><th>provider URL to paste in Plex</th><td><code class="provider-url">${v.providerUrl}</code></td></tr>
    <tr><th>identifier</th><td><code>${v.instance.provider.identifier}</code></td></tr>
    <tr><th>path rules</th><td>${
      v.instance.paths.rules.length
        ? html`<ul>${v.instance.paths.rules.map((r) => html`<li><code>${r.name}</code>: <code>${r.plex}</code> → <code>${r.stash}</code></li>`)}</ul>`
        : html`<span class="muted">none (paths are the same on both sides${v.instance.paths.auto ? ", or inferred" : ""})</span>`
    }</td></tr>
  </tbody></table></section>`,
  )}`;
}

/** The signed-in browsers, and "sign out everywhere" (a lost or shared device). */
export function sessionsSection(src: DashboardSource, current?: string, now = Date.now()): Html {
  const list = src.access.sessions();
  return html`<h2 id="sessions">Signed-in browsers</h2>
  ${
    list.length
      ? html`<div class="scroll"><table><thead><tr><th>signed in</th><th>last seen</th><th>address</th><th>browser</th></tr></thead><tbody>
  ${list.map(
    (
      s,
    ) => html`<tr><td>${when(s.createdAt)}</td><td>${ago(s.lastSeenAt, now)}${s.key === current ? html` <strong>(this browser)</strong>` : ""}</td>
    <td>${s.address}</td><td>${s.userAgent.slice(0, 80) || "—"}</td></tr>`,
  )}
  </tbody></table></div>`
      : html`<p>No browser is signed in (API clients use the token and are not listed).</p>`
  }
  <form method="post" action="/ui/sign-out"><button name="everywhere" value="1" class="secondary">Sign out everywhere</button></form>`;
}

export function signInPage(problem?: "wrong" | "throttled"): Html {
  const say =
    problem === "wrong"
      ? "That is not the admin token."
      : problem === "throttled"
        ? "Too many wrong tokens from this address: wait a few minutes, then try again."
        : "";
  return html`${say ? html`<p class="notice" role="alert">${say}</p>` : ""}
  <form method="post" action="/ui/sign-in"><label for="token">Admin token</label>
  <input type="password" id="token" name="token" autocomplete="current-password" required>
  <p class="muted">Shown once at the first start, and kept in the data folder's <code>admin-token</code> file (or set ADMIN_TOKEN).</p>
  <button>Sign in</button></form>`;
}

const sizeText = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;

/** The database's backups (newest first) and a button for one now. */
function backupsPart(src: DashboardSource, now: number): Html {
  const list = src.backups.list();
  const { everyHours, keep } = src.config.backup;
  const schedule = everyHours
    ? `every ${interval(everyHours * 3600)}, the newest ${keep} kept`
    : "not on a schedule (BACKUP_EVERY_HOURS=0)";
  return html`<h2>Backups</h2>
  <p class="muted">In <code>backups/</code> of the data folder, ${schedule}; also before each upgrade of the database. Each is checked whole before it replaces an older one. To put one back: stop the service, then <code>stash2plex restore &lt;file&gt;</code>.</p>
  <form method="post" action="/ui/actions/backup"><button>Back up now</button></form>
  ${
    list.length
      ? html`<div class="scroll"><table><thead><tr><th>backup</th><th>kind</th><th>taken</th><th>size</th></tr></thead><tbody>
      ${list.map(
        (b) =>
          html`<tr><td data-label="backup"><code>${b.name}</code></td><td data-label="kind">${b.kind}</td><td data-label="taken">${ago(b.at, now)}</td><td data-label="size">${sizeText(b.bytes)}</td></tr>`,
      )}
      </tbody></table></div>`
      : html`<p>No backup yet.</p>`
  }`;
}
