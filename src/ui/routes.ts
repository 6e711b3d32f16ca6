/**
 * The dashboard at /ui: server-rendered pages (readable without JavaScript), htmx fragments
 * for the live parts, and form actions that answer with a redirect back (POST → 303 → GET).
 * Pages need the admin session (or ADMIN_OPEN_READS); actions always need it. A browser
 * asking for `/` as HTML is sent here; PMS asking `/` for JSON or XML gets the provider
 * document, untouched.
 */
import { problemKindOf } from "../store/health.ts";
import { backUpNow } from "../admin/backups.ts";
import { Elysia } from "elysia";
import { assets, layout, plural, type Html, type PageId } from "./html.ts";
import type { DashboardSource } from "./source.ts";
import { guardedForm } from "../json-body.ts";
import { clientAddresses, HttpError, requestPath } from "../http.ts";
import { confirmAll } from "./pages/confirm.ts";
import { databaseDownPage, overviewSection } from "./pages/overview.ts";
import { queueLive, queuePage, scenePage } from "./pages/queue.ts";
import { actionFailed, safeBack } from "./failure.ts";
import { gapsPage, reconcileProgress } from "./pages/gaps.ts";
import { pathsPage } from "./pages/paths.ts";
import { writebackLive, writebackPage } from "./pages/writeback.ts";
import { jobsPage, outagesPage, settingsPage, signInPage, syncProgress } from "./pages/misc.ts";
import { collectionsPage } from "./pages/collections.ts";
import { isGapKind, type GapKind } from "../domain/gaps.ts";
import { DEFAULT_INSTANCE_ID, INSTANCE_ID, parseRefKey, sceneRef, type Ref } from "../domain/ref.ts";
import { instanceLabel, viewOf } from "./instances.ts";

const HTML_HEADERS = { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" };
const seeOther = (location: string, headers: Record<string, string> = {}) =>
  new Response(null, { status: 303, headers: { location, ...headers } });
const wantsHtml = (request: Request) => (request.headers.get("accept") ?? "").includes("text/html");
const FORM_LIMIT = 16 * 1024;
type Form = Record<string, string[]>;
interface ActionContext {
  request: Request;
  body: unknown;
  params: Record<string, string>;
}
/** A page's offset in a list (a query parameter): a whole number, else the start. */
const offsetOf = (value: string | undefined) => (value && /^\d{1,9}$/.test(value) ? Number(value) : 0);
const refererPath = (request: Request) =>
  (request.headers.get("referer") ?? "").replace(/^https?:\/\/[^/]+/i, "") || undefined;
const favicon = () =>
  new Response(assets.favicon, { headers: { "content-type": "image/svg+xml", "cache-control": "max-age=86400" } });

/**
 * Which dead letters a form names: its row's button (`one`), every one (`which=all`), or the ticked
 * ones. A row names its scene id (the default instance's) or, for another instance, its reference key.
 */
export function deadLetterChoice(form: Form): Ref[] | undefined {
  const one = form.one?.[0];
  const ids = one ? [one] : form.which?.[0] === "all" ? undefined : (form.sceneId ?? []);
  const refs = ids?.map((id) => (/^\d{1,18}$/.test(id) ? sceneRef(DEFAULT_INSTANCE_ID, id) : parseRefKey(id)));
  if (refs?.some((r) => r === null))
    throw new HttpError(400, "bad_id", "a scene id is a number (another Stash instance's: <instance>:scene:<id>)");
  if (ids && ids.length === 0)
    throw new HttpError(400, "none_chosen", "no dead letter was ticked; tick some, or use the buttons for all of them");
  if (ids && ids.length > 10_000) throw new HttpError(400, "too_many", "at most 10,000 dead letters at once");
  return refs as Ref[] | undefined;
}
/** Which failed write-back events a form names: its row's button (`one`, an event key) or all (`which=all`). */
export function writebackChoice(form: Form): string[] | undefined {
  const one = form.one?.[0];
  if (one !== undefined) {
    if (!one || one.length > 500) throw new HttpError(400, "bad_key", "an event key is 1 to 500 characters");
    return [one];
  }
  if (form.which?.[0] === "all") return undefined;
  throw new HttpError(400, "none_chosen", "name an event (one=<key>) or all of them (which=all)");
}
/** The first value of a form field (the parse hook made the body a Form). */
const first = (body: unknown, name: string) => (body as Form)[name]?.[0] ?? "";

/**
 * A dashboard page the database fails under (damaged pages met by its queries) says so in the
 * red headline, not as a JSON error: the person reading it learns what happened and what to do.
 */
export function databaseErrorPage(
  src: Pick<DashboardSource, "database" | "access">,
): (error: unknown, request: Request) => Response | undefined {
  return (error, request) => {
    const path = requestPath(request);
    if (!problemKindOf(error) || !path.startsWith("/ui") || request.method !== "GET") return undefined;
    try {
      // Signed in by cookie, the session is in the database too: unreadable, the JSON answer it is.
      if (!src.access.canRead(request.headers)) return undefined;
    } catch {
      return undefined;
    }
    const problem = src.database.problem() ?? { kind: "failed", message: (error as Error).message };
    const body = databaseDownPage(problem);
    const html = path.startsWith("/ui/live/")
      ? body.__html
      : layout("Overview", "overview", body, { signedIn: src.access.isAdmin(request.headers) });
    return new Response(html, { status: 503, headers: HTML_HEADERS });
  };
}

export function dashboardRoutes(src: DashboardSource) {
  const clientAddress = clientAddresses(src.config.admin.trustedProxies);
  const signedIn = (request: Request) => src.access.isAdmin(request.headers);
  const page = (request: Request, title: string, id: PageId, body: Html, notice?: string) =>
    new Response(layout(title, id, body, { signedIn: signedIn(request), notice }), { headers: HTML_HEADERS });
  /** Readers without access are sent to sign in (a fragment gets 401: htmx then stops polling it). */
  const readable = (request: Request, fragment = false): Response | undefined =>
    src.access.canRead(request.headers)
      ? undefined
      : fragment
        ? new Response("sign in again", { status: 401 })
        : seeOther("/ui/sign-in");
  const authorise = (headers: Headers) => src.access.requireAdmin(headers, "this action");
  const action = { parse: guardedForm({ maxBytes: FORM_LIMIT, authorise }) };
  const fragment = (body: Html) => new Response(body.__html, { headers: HTML_HEADERS });
  const done = (back: string, message: string) =>
    seeOther(`${back}${back.includes("?") ? "&" : "?"}done=${encodeURIComponent(message)}`);
  const notice = (query: Record<string, string | undefined>) =>
    query.done ? String(query.done).slice(0, 200) : undefined;
  /** An action's failure (push off, no such job, bad input) shown in words, with the way back. */
  const act =
    <C extends ActionContext>(back: string, handler: (ctx: C) => Response | Promise<Response>) =>
    async (ctx: C) => {
      try {
        return await handler(ctx);
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        return actionFailed(
          ctx.request,
          err.status,
          err.message,
          safeBack(first(ctx.body, "back"), back),
          signedIn(ctx.request),
        );
      }
    };
  /** The scene a page names: its id, in `?instance=` (absent: the default), which must be configured. */
  const sceneOf = (id: string, instance: string | undefined): Ref => {
    if (!/^\d{1,18}$/.test(id)) throw new HttpError(400, "bad_id", "a scene id is a number");
    const inst = instance ?? DEFAULT_INSTANCE_ID;
    if (!INSTANCE_ID.test(inst))
      throw new HttpError(400, "bad_instance", "instance: a Stash instance id (lower-case letters and digits)");
    if (!viewOf(src, inst) && inst !== DEFAULT_INSTANCE_ID)
      throw new HttpError(404, "no_instance", `no Stash instance "${inst}" is configured`);
    return sceneRef(inst, id);
  };
  const queueView = (query: Record<string, string | undefined>) => ({
    dead: offsetOf(query.dead),
    waiting: offsetOf(query.waiting),
  });

  return (
    new Elysia({ name: "dashboard" })
      // Lifecycle onRequest runs for every request of the app, before routing.
      .onRequest(({ request }) => {
        if (request.method === "GET" && requestPath(request) === "/" && wantsHtml(request)) return seeOther("/ui");
        // An action after the session ended: said in the page (before the form is even read), not as JSON.
        if (request.method === "POST" && requestPath(request).startsWith("/ui/actions/") && !signedIn(request)) {
          return actionFailed(request, 401, "", safeBack(refererPath(request), "/ui"), false);
        }
      })
      .get(
        "/ui/assets/live.js",
        () =>
          new Response(assets.live, {
            headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "max-age=3600" },
          }),
      )
      .get("/ui/assets/favicon.svg", () => favicon())
      .get("/favicon.ico", () => favicon())
      // The heartbeat every page polls: 204 while the session is good, 401 once it is not.
      .get(
        "/ui/live/ping",
        ({ request }) =>
          readable(request, true) ?? new Response(null, { status: 204, headers: { "cache-control": "no-store" } }),
      )
      .get(
        "/ui/assets/htmx.js",
        () =>
          new Response(assets.htmx, {
            headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "max-age=86400" },
          }),
      )
      .get(
        "/ui/assets/style.css",
        () =>
          new Response(assets.css, {
            headers: { "content-type": "text/css; charset=utf-8", "cache-control": "max-age=3600" },
          }),
      )
      .get(
        "/ui/sign-in",
        () => new Response(layout("Sign in", "sign-in", signInPage(), { signedIn: false }), { headers: HTML_HEADERS }),
      )
      .post(
        "/ui/sign-in",
        ({ body, request }) => {
          const h = request.headers;
          const secure =
            /^https:/i.test(h.get("origin") ?? "") || h.get("x-forwarded-proto")?.toLowerCase() === "https";
          const result = src.access.signIn(first(body, "token"), {
            address: clientAddress(request),
            userAgent: h.get("user-agent") ?? "",
            secure,
          });
          if (result.ok) return seeOther("/ui", { "set-cookie": result.cookie });
          const retry = result.status === 429 ? { "retry-after": String(result.retryAfter) } : {};
          return new Response(
            layout("Sign in", "sign-in", signInPage(result.status === 429 ? "throttled" : "wrong"), {
              signedIn: false,
            }),
            {
              status: result.status,
              headers: { ...HTML_HEADERS, ...retry },
            },
          );
        },
        { parse: guardedForm({ maxBytes: FORM_LIMIT }) },
      )
      // "everywhere" ends every session (this one too); it needs a live session or the token.
      .post(
        "/ui/sign-out",
        ({ body, request }) => {
          if (first(body, "everywhere") && src.access.isAdmin(request.headers)) src.access.signOutEverywhere();
          return seeOther("/ui/sign-in", { "set-cookie": src.access.signOut(request.headers) });
        },
        { parse: guardedForm({ maxBytes: FORM_LIMIT }) },
      )
      .get(
        "/ui",
        async ({ request, query }) =>
          readable(request) ?? page(request, "Overview", "overview", await overviewSection(src), notice(query)),
      )
      .get("/ui/live/overview", async ({ request }) => readable(request, true) ?? fragment(await overviewSection(src)))
      .get(
        "/ui/queue",
        ({ request, query }) =>
          readable(request) ??
          page(
            request,
            "Queue and history",
            "queue",
            queuePage(src, String(query.q ?? "").slice(0, 200), queueView(query)),
            notice(query),
          ),
      )
      .get(
        "/ui/live/queue",
        ({ request, query }) => readable(request, true) ?? fragment(queueLive(src, queueView(query))),
      )
      .get(
        "/ui/live/scenes/:id",
        ({ request, params, query }) =>
          readable(request, true) ?? fragment(scenePage(src, sceneOf(params.id, query.instance))),
      )
      .get("/ui/live/outages", ({ request }) => readable(request, true) ?? fragment(outagesPage(src)))
      .get("/ui/scenes/:id", ({ request, params, query }) => {
        const ref = sceneOf(params.id, query.instance);
        const of = ref.instance === DEFAULT_INSTANCE_ID ? "" : ` of ${instanceLabel(src, ref.instance)}`;
        return readable(request) ?? page(request, `Scene ${params.id}${of}`, "queue", scenePage(src, ref));
      })
      .get(
        "/ui/collections",
        ({ request }) =>
          readable(request) ??
          page(
            request,
            "Collections",
            "collections",
            collectionsPage(src.collections?.() ?? [], Boolean(src.collections)),
          ),
      )
      .get(
        "/ui/outages",
        ({ request }) => readable(request) ?? page(request, "Plex outages", "outages", outagesPage(src)),
      )
      .get("/ui/gaps", ({ request, query }) => {
        const kind = query.kind && isGapKind(String(query.kind)) ? (String(query.kind) as GapKind) : undefined;
        return (
          readable(request) ??
          page(request, "Gaps", "gaps", gapsPage(src, kind, Math.max(0, Number(query.offset) || 0)), notice(query))
        );
      })
      .get(
        "/ui/writeback",
        ({ request, query }) =>
          readable(request) ?? page(request, "Write-back", "writeback", writebackPage(src), notice(query)),
      )
      .get("/ui/live/writeback", ({ request }) => readable(request, true) ?? fragment(writebackLive(src)))
      .get("/ui/live/reconcile", ({ request }) => readable(request, true) ?? fragment(reconcileProgress(src)))
      .get(
        "/ui/paths",
        async ({ request, query }) =>
          readable(request) ??
          page(request, "Path tester", "paths", await pathsPage(src, String(query.path ?? "").slice(0, 4096))),
      )
      .get(
        "/ui/jobs",
        ({ request, query }) => readable(request) ?? page(request, "Jobs", "jobs", jobsPage(src), notice(query)),
      )
      .get("/ui/live/sync", ({ request }) => readable(request, true) ?? fragment(syncProgress(src)))
      .get(
        "/ui/settings",
        ({ request }) =>
          readable(request) ??
          page(request, "Settings", "settings", settingsPage(src, src.access.session(request.headers)?.key)),
      )
      .post(
        "/ui/actions/requeue",
        act("/ui/queue", ({ body }) => {
          const id = first(body, "sceneId");
          if (id && !/^\d{1,18}$/.test(id)) throw new HttpError(400, "bad_id", "a scene id is a number");
          const n = src.queue.requeueDead(id ? [sceneRef(DEFAULT_INSTANCE_ID, id)] : undefined);
          return done("/ui/queue", `${plural(n, "scene")} queued again`);
        }),
        action,
      )
      // Retry or discard: one (its row's button), the ticked ones, or all.
      .post(
        "/ui/actions/dead-letters/:verb",
        act("/ui/queue", ({ body, params, request }) => {
          if (params.verb !== "retry" && params.verb !== "discard")
            throw new HttpError(404, "not_found", `no action "${params.verb}" for dead letters`);
          const ids = deadLetterChoice(body as Form);
          const back = safeBack(first(body, "back"), "/ui/queue");
          if (params.verb === "discard" && !ids && first(body, "confirmed") !== "yes") {
            const total = src.queue.deadLetterCount();
            return page(
              request,
              `Discard all ${plural(total, "dead letter")}?`,
              "queue",
              confirmAll({
                consequence:
                  "Their scenes are not pushed again until they change in Stash or you sync them (Jobs → Sync all scenes).",
                action: "/ui/actions/dead-letters/discard",
                button: `Yes, discard all ${plural(total, "dead letter")}`,
                back,
              }),
            );
          }
          const n = params.verb === "retry" ? src.queue.requeueDead(ids) : src.queue.discardDead(ids);
          return done(
            back,
            params.verb === "retry" ? `${plural(n, "scene")} queued again` : `${plural(n, "dead letter")} discarded`,
          );
        }),
        action,
      )
      // Write-back events that failed: retry or discard one (its row's button) or all.
      .post(
        "/ui/actions/writeback/:verb",
        act("/ui/writeback", ({ body, params, request }) => {
          if (params.verb !== "retry" && params.verb !== "discard")
            throw new HttpError(404, "not_found", `no action "${params.verb}" for write-back events`);
          if (!src.writeback) throw new HttpError(409, "writeback_off", "write-back is off (WRITEBACK_ENABLED)");
          const keys = writebackChoice(body as Form);
          const events = src.writeback.events;
          if (params.verb === "discard" && !keys && first(body, "confirmed") !== "yes") {
            const total = events.counts().failed;
            return page(
              request,
              `Discard all ${plural(total, "failed event")}?`,
              "writeback",
              confirmAll({
                consequence: "What they would have written (plays, resume points, ratings) never reaches Stash.",
                action: "/ui/actions/writeback/discard",
                button: `Yes, discard all ${plural(total, "failed event")}`,
                back: "/ui/writeback",
              }),
            );
          }
          const n = params.verb === "retry" ? events.retryFailed(keys) : events.discardFailed(keys);
          return done(
            "/ui/writeback",
            params.verb === "retry" ? `${plural(n, "event")} to be tried again` : `${plural(n, "event")} discarded`,
          );
        }),
        action,
      )
      .post(
        "/ui/actions/jobs/:id",
        act("/ui/jobs", ({ params }) => {
          const id = String(params.id);
          if (!src.runJob(id)) throw new HttpError(404, "not_found", `no job "${id}"`);
          return done("/ui/jobs", `started: ${id}`);
        }),
        action,
      )
      .post(
        "/ui/actions/backup",
        act("/ui/jobs", () => {
          const file = backUpNow(src.backups);
          return done("/ui/jobs", `backed up: ${file.name}`);
        }),
        action,
      )
      .post(
        "/ui/actions/reconcile",
        act("/ui/gaps", ({ body }) => {
          if (!src.reconciler)
            throw new HttpError(409, "push_off", "reconcile needs Plex: set PLEX_URL and PLEX_TOKEN");
          if (src.reconciler.running) return done("/ui/gaps", "a reconcile is running already");
          const how = first(body, "heal");
          const chosen = ((body as Form).kind ?? []).filter(isGapKind).filter((k) => src.healable.includes(k));
          const heal = how === "all" ? src.healable : how === "selected" ? chosen : [];
          void src.reconciler.run({ heal, trigger: "dashboard" }).catch(() => {});
          return done(
            "/ui/gaps",
            heal.length ? `reconciling and healing ${heal.join(", ")}` : "reconciling (report only)",
          );
        }),
        action,
      )
      .post(
        "/ui/actions/sync",
        act("/ui/jobs", async ({ body }) => {
          if (!src.sync) throw new HttpError(409, "push_off", "sync needs Plex: set PLEX_URL and PLEX_TOKEN");
          const scope = first(body, "scope") === "7d" ? { sinceMs: 7 * 86_400_000 } : { all: true as const };
          const n = await src.sync(scope);
          return done("/ui/jobs", `${plural(n, "scene")} queued`);
        }),
        action,
      )
  );
}
