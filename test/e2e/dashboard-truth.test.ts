/**
 * The dashboard tells the truth, checked over HTTP against the real service (the browser walk
 * is in dashboard.test.ts): failed actions explain themselves in words, every page has a live
 * part or a heartbeat that answers 401 once the session ends, the queue is paged with titles,
 * the numbers on the outage page and the overview agree with what happened, times say UTC,
 * a generated admin token reads "generated", a favicon is served, and no page has inline script.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { ADMIN_TOKEN, adminAuth, startWorld, waitFor, type World, scene } from "../helpers.ts";
import { duration } from "../../src/ui/html.ts";

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const form = (fields: Record<string, string | string[]>) => {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
  return body;
};
const postForm = (
  url: string,
  fields: Record<string, string | string[]>,
  headers: Record<string, string> = adminAuth,
) =>
  fetch(url, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: form(fields),
  });
const get = (url: string, headers: Record<string, string> = adminAuth) => fetch(url, { headers, redirect: "manual" });
const textOf = (html: string) => html.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ");

function bury(world: World, sceneIds: string[], diedAt = Date.now()) {
  const insert = world.app.store.db.query(
    "INSERT INTO dead_letters (ref, reason, attempts, first_queued_at, died_at, last_error) VALUES ('default:scene:' || ?, 'test', 7, ?, ?, 'the Plex item is gone')",
  );
  world.app.store.db.transaction(() => sceneIds.forEach((id, i) => insert.run(id, diedAt - 60_000, diedAt - i)))();
}

describe("the dashboard tells the truth", () => {
  test("a failed action is a readable page (a fragment for htmx), never raw JSON: push off 409, session ended 401", async () => {
    w = await startWorld({ push: false });
    const url = w.app.url!;
    const off = await postForm(`${url}/ui/actions/sync`, { scope: "all" });
    expect(off.status).toBe(409);
    expect(off.headers.get("content-type")).toStartWith("text/html");
    const page = await off.text();
    expect(textOf(page)).toContain("This was not done: sync needs Plex: set PLEX_URL and PLEX_TOKEN.");
    expect(page).toContain('href="/ui/jobs"'); // the way back
    const htmx = await postForm(`${url}/ui/actions/sync`, { scope: "all" }, { ...adminAuth, "hx-request": "true" });
    expect(htmx.status).toBe(409);
    const fragment = await htmx.text();
    expect(fragment).not.toContain("<html");
    expect(fragment).toContain('role="alert"');
    // No session (it ended): said in words, with the way to sign in again.
    const signedOut = await postForm(
      `${url}/ui/actions/dead-letters/retry`,
      { which: "all" },
      { referer: `${url}/ui/queue` },
    );
    expect(signedOut.status).toBe(401);
    expect(signedOut.headers.get("content-type")).toStartWith("text/html");
    const said = await signedOut.text();
    expect(textOf(said)).toContain("You are signed out");
    expect(said).toContain('href="/ui/sign-in"');
    expect(said).toContain('href="/ui/queue"');
    // Nothing ticked: a readable 400, not a crash.
    const none = await postForm(`${url}/ui/actions/dead-letters/discard`, { which: "selected" });
    expect(none.status).toBe(400);
    expect(textOf(await none.text())).toContain("no dead letter was ticked");
    // A forged "back" never leads off the dashboard.
    bury(w, ["3"]);
    const back = await postForm(`${url}/ui/actions/dead-letters/retry`, { one: "3", back: "https://evil.example/" });
    expect(back.headers.get("location")).toStartWith("/ui/queue?done=");
    // Another Stash instance's dead letter with the same scene id: its row's buttons act on it, not on the default's.
    bury(w, ["4"]);
    w.app.store.db
      .query(
        "INSERT INTO dead_letters (ref, reason, attempts, first_queued_at, died_at, last_error) VALUES ('vault:scene:4', 'test', 1, 1, 2, 'gone')",
      )
      .run();
    expect(await (await get(`${url}/ui/queue`)).text()).toContain('name="one" value="vault:scene:4"');
    await postForm(`${url}/ui/actions/dead-letters/discard`, { one: "vault:scene:4" });
    expect(w.app.queue.deadLetters().map((d) => d.ref)).toContain("default:scene:4");
    expect(w.app.queue.deadLetters().map((d) => d.ref)).not.toContain("vault:scene:4");
    expect((await postForm(`${url}/ui/actions/dead-letters/discard`, { one: "vault:4" })).status).toBe(400);
  }, 30_000);

  test("every page polls: live parts for queue, outages and a scene, a heartbeat everywhere; 401 once signed out", async () => {
    w = await startWorld({ push: false });
    const url = w.app.url!;
    for (const path of [
      "/ui",
      "/ui/queue",
      "/ui/outages",
      "/ui/gaps",
      "/ui/paths",
      "/ui/jobs",
      "/ui/settings",
      "/ui/scenes/12",
    ]) {
      const res = await get(`${url}${path}`);
      expect(res.status).toBe(200);
      const page = await res.text();
      expect(page).toContain('hx-get="/ui/live/ping"');
      expect(page).toContain('src="/ui/assets/live.js"');
      // Ready for a Content-Security-Policy without 'unsafe-inline': no inline script, no handler attributes.
      expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(page).not.toMatch(/\son[a-z]+=|hx-on/i);
      // Plurals right: "1 push", "2 pushes", never "push(es)".
      expect([path, textOf(page).match(/\w\((s|es)\)/g)]).toEqual([path, null]);
    }
    for (const [path, id] of [
      ["/ui/live/queue", "queue-live"],
      ["/ui/live/outages", "outages-live"],
      ["/ui/live/scenes/12", "scene-live"],
    ] as const) {
      const res = await get(`${url}${path}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain(`id="${id}" hx-get="${path}`);
      expect((await get(`${url}${path}`, {})).status).toBe(401);
    }
    expect((await get(`${url}/ui/live/ping`)).status).toBe(204);
    expect((await get(`${url}/ui/live/ping`, {})).status).toBe(401);
    const script = await get(`${url}/ui/assets/live.js`, {});
    expect(script.headers.get("content-type")).toStartWith("text/javascript");
    expect(await script.text()).toContain("Connection lost");
  }, 30_000);

  test("the queue page is paged and shows titles; retry and discard one, the ticked ones, or all", async () => {
    w = await startWorld({ push: false });
    const url = w.app.url!;
    const ids = Array.from({ length: 120 }, (_, i) => String(i + 1));
    bury(w, ids);
    const first = await (await get(`${url}/ui/queue`)).text();
    expect(first.match(/name="sceneId" value="/g)).toHaveLength(50);
    expect(textOf(first)).toContain("1–50 of 120");
    expect(first).toContain(w.stash.library.scenes.get("1")!.title!.replaceAll("&", "&amp;").replaceAll("'", "&#39;"));
    const third = await (await get(`${url}/ui/queue?dead=100`)).text();
    expect(third.match(/name="sceneId" value="/g)).toHaveLength(20);
    expect(textOf(third)).toContain("101–120 of 120");
    const ticked = await postForm(`${url}/ui/actions/dead-letters/retry`, {
      which: "selected",
      sceneId: ["1", "2"],
      back: "/ui/queue?dead=0&waiting=0",
    });
    expect(ticked.status).toBe(303);
    expect(decodeURIComponent(ticked.headers.get("location")!)).toBe(
      "/ui/queue?dead=0&waiting=0&done=2 scenes queued again",
    );
    const one = await postForm(`${url}/ui/actions/dead-letters/discard`, { one: "3", sceneId: ["4"] });
    expect(decodeURIComponent(one.headers.get("location")!)).toEndWith("done=1 dead letter discarded");
    // All of them: asked first (a page, nothing discarded), then done.
    const ask = await postForm(`${url}/ui/actions/dead-letters/discard`, { which: "all" });
    expect(ask.status).toBe(200);
    expect(textOf(await ask.text())).toContain("Discard all 117 dead letters?");
    expect(w.app.queue.deadLetterCount()).toBe(117);
    const all = await postForm(`${url}/ui/actions/dead-letters/discard`, { which: "all", confirmed: "yes" });
    expect(decodeURIComponent(all.headers.get("location")!)).toEndWith("done=117 dead letters discarded");
    expect(textOf(await (await get(`${url}/ui/queue`)).text())).toContain("Dead letters ( 0 )");
    // What waits is paged too (oldest first), with titles.
    w.app.queue.enqueue(
      Array.from({ length: 130 }, (_, i) => ({ ref: scene(String(i + 10)) })),
      "webhook",
    ); // with 1 and 2, retried above
    const waiting = await (await get(`${url}/ui/queue?waiting=50`)).text();
    expect(textOf(waiting)).toContain("Waiting (132)");
    expect(textOf(waiting)).toContain("51–100 of 132");
    expect(waiting).toContain('rel="prev"');
  }, 30_000);

  test("outage numbers: a short outage does not read 100% and has no made-up MTBF; the breaker card and headline agree", async () => {
    w = await startWorld({});
    const url = w.app.url!;
    // A real (short) outage through the breaker: three failed pushes open it, a good probe and push close it.
    for (let i = 0; i < 3; i++) w.app.breaker.failed("Plex did not answer", 2);
    // Breaker open while Plex answers a check: the headline says pushes are paused, as the card does.
    // (The checks of Stash and Plex are cached for 5 s: the first may still be under way.)
    let overview = "";
    await waitFor(
      async () => (overview = textOf(await (await get(`${url}/ui`)).text())).includes("Circuit breaker open"),
      10_000,
      200,
    );
    await waitFor(
      async () => (overview = textOf(await (await get(`${url}/ui`)).text())).includes("Plex answers"),
      10_000,
      200,
    );
    expect(overview).toContain("Pushes to Plex are paused");
    expect(overview).not.toContain("Plex does not answer");
    expect(overview).toContain("Circuit breaker open pushes wait until Plex answers again");
    // "Next reconcile" is the scheduler's own next run (the first one comes a while after start-up).
    const next = w.app.scheduler.list().find((j) => j.id === "reconcile")!.nextRunAt!;
    expect(overview).toContain(`next: in ${duration(next - Date.now())}`);
    w.app.breaker.probed(true, 0);
    w.app.breaker.succeeded();
    const outages = textOf(await (await get(`${url}/ui/outages`)).text());
    expect(outages).not.toContain("100.000%");
    expect(outages).not.toMatch(/\b100(\.0+)?% available/);
    expect(outages).toContain("1 outage,");
    expect(outages).toContain("(needs two outages)");
    expect(outages).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
  }, 30_000);

  test('a generated admin token reads "generated", not "(empty)"; a favicon is served and linked', async () => {
    w = await startWorld({ push: false, env: { ADMIN_TOKEN: "" } });
    const url = w.app.url!;
    expect(w.app.admin.token).not.toBe(ADMIN_TOKEN);
    const settings = await (await get(`${url}/ui/settings`, { authorization: `Bearer ${w.app.admin.token}` })).text();
    const row = settings.split("<tr>").find((r) => r.includes("<code>admin.token</code>"))!;
    expect(row).toContain("generated");
    expect(row).not.toContain("(empty)");
    expect(settings).not.toContain(w.app.admin.token);
    expect(settings).toContain('rel="icon" href="/ui/assets/favicon.svg"');
    for (const path of ["/favicon.ico", "/ui/assets/favicon.svg"]) {
      const icon = await fetch(`${url}${path}`);
      expect(icon.status).toBe(200);
      expect(icon.headers.get("content-type")).toBe("image/svg+xml");
      expect(await icon.text()).toStartWith("<svg");
    }
  }, 30_000);
});
