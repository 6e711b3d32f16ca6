/**
 * The Stash plugin (deploy/stash-plugin), run by the Stash simulator's plugin runner as Stash
 * runs it: hooks fired by scene events, tasks by runPluginTask, JSON on stdin, what it logs
 * read the way Stash's log shows it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ADMIN_TOKEN, adminAuth, startWorld, waitFor, WEBHOOK_TOKEN, type World, scene } from "../helpers.ts";
import { SimPlugins, type PluginJob } from "../../sim/stash/plugins.ts";

const PLUGIN_DIR = join(import.meta.dir, "../../deploy/stash-plugin");
const python = Bun.which("python3");
let w: World;
let plugins: SimPlugins;

const connection = () => {
  const url = new URL(w.stash.url);
  return {
    Scheme: "http",
    Host: url.hostname,
    Port: Number(url.port),
    SessionCookie: { Name: "session", Value: "abc" },
  };
};
const settings = (s: Record<string, string>) => void (w.stash.pluginSettings = { stash2plex: s });
const messages = (job: { log: [string, string][] }) => job.log.map(([level, text]) => `${level} ${text}`).join("\n");
const info = (job: { log: [string, string][] }) =>
  job.log
    .filter(([level]) => level === "i")
    .map(([, text]) => text)
    .join("\n");

/** A scene event in Stash: the runner starts every hook that names it; resolves when they end. */
async function fire(type: string, id: number, input: unknown = {}): Promise<PluginJob[]> {
  const jobs = plugins.hook(type, id, input);
  await Promise.all(jobs.map((j) => j.done));
  return jobs;
}

/** Settings → Tasks → run, through Stash's GraphQL mutation. */
async function runTask(task: string): Promise<PluginJob> {
  const res = await fetch(`${w.stash.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      query: "mutation($p: ID!, $t: String) { runPluginTask(plugin_id: $p, task_name: $t) }",
      variables: { p: "stash2plex", t: task },
    }),
  });
  const body = (await res.json()) as { data?: { runPluginTask: string }; errors?: { message: string }[] };
  if (!body.data) throw new Error(body.errors?.[0]?.message ?? "runPluginTask failed");
  const job = w.stash.plugins!.jobs.find((j) => j.id === body.data!.runPluginTask)!;
  await job.done;
  return job;
}

beforeAll(async () => {
  w = await startWorld({
    env: { SYNC_DRAIN_PER_SECOND: "1000", SYNC_MAX_ATTEMPTS: "1", SYNC_RETRY_BASE_SECONDS: "0.1" },
  });
  plugins = w.stash.plugins = new SimPlugins(PLUGIN_DIR, connection);
  await w.pms.scan("1", { concurrency: 8 });
  await w.app.plexIndex.refresh(await w.app.plex.sections());
});
afterAll(() => w.close());

describe.skipIf(!python)("Stash plugin hooks", () => {
  test("a scene update in Stash is forwarded to the webhook with the webhook token", async () => {
    settings({ url: w.app.url!, token: WEBHOOK_TOKEN, adminToken: ADMIN_TOKEN });
    const before = w.app.queue.history(scene("21")).length;
    const [job] = await fire("Scene.Update.Post", 21, { id: "21", title: "x" });
    expect(job!.output).toEqual({ output: "scene 21: queued 1 push(es)" });
    expect(w.app.queue.history(scene("21")).length).toBeGreaterThan(before);
  });

  test("one token is enough: with only the admin token set, a scene update is still pushed", async () => {
    settings({ url: w.app.url!, adminToken: ADMIN_TOKEN });
    const before = w.app.queue.history(scene("24")).length;
    const [job] = await fire("Scene.Update.Post", 24, { id: "24", title: "y" });
    expect(job!.output).toEqual({ output: "scene 24: queued 1 push(es)" });
    expect(w.app.queue.history(scene("24")).length).toBeGreaterThan(before);
  });

  test("the hook names only triggers Stash fires for a change worth a push: a deleted scene starts no plugin run", async () => {
    expect(plugins.unknownTriggers("stash2plex")).toEqual([]);
    expect(await fire("Scene.Destroy.Post", 22)).toEqual([]);
    expect((await fire("Scene.Create.Post", 22)).length).toBe(1);
  });

  test("a wrong token, missing settings or an unreachable service: one line in Stash's log, never a crash", async () => {
    settings({ url: w.app.url!, token: "nope" });
    const [wrong] = await fire("Scene.Update.Post", 22);
    expect(wrong!.output).toEqual({ error: "HTTP 401" });
    expect(messages(wrong!)).toContain(
      "w [Plugin / stash2plex] stash2plex refused the webhook token for Scene.Update.Post of scene 22: check it in Settings → Plugins → stash2plex",
    );
    settings({});
    const [unset] = await fire("Scene.Update.Post", 23);
    expect((unset!.output as any).error).toContain("not set");
    settings({ url: "http://127.0.0.1:9", token: "x" });
    const [down] = await fire("Scene.Update.Post", 23);
    expect(down!.output).toEqual({ error: "stash2plex unreachable" });
    expect(messages(down!)).toContain("stash2plex's poller will pick the change up");
    const noHook = Bun.spawnSync(["python3", join(PLUGIN_DIR, "stash2plex.py")], {
      stdin: new TextEncoder().encode("{}"),
    });
    expect(JSON.parse(noHook.stdout.toString()).output).toContain("nothing to do");
    const garbage = Bun.spawnSync(["python3", join(PLUGIN_DIR, "stash2plex.py")], {
      stdin: new TextEncoder().encode("{not json"),
    });
    expect(JSON.parse(garbage.stdout.toString())).toEqual({ error: "bad plugin input" });
    expect(garbage.exitCode).toBe(0);
  });
});

describe.skipIf(!python)("Stash plugin tasks (Settings → Tasks); their results in Stash's log", () => {
  beforeAll(() => settings({ url: w.app.url!, adminToken: ADMIN_TOKEN }));

  test("Sync all scenes / changed in the last 7 days: scenes are queued and pushed", async () => {
    const all = await runTask("Sync all scenes to Plex");
    expect(info(all)).toMatch(/^\[Plugin \/ stash2plex\] queued \d+ scene\(s\); stash2plex pushes them to Plex$/);
    expect(await waitFor(() => w.app.queue.pending() === 0, 20_000, 100)).toBe(true);
    w.stash.library.update("31", { title: "Recently edited" });
    const recent = await runTask("Sync scenes changed in the last 7 days");
    expect(info(recent)).toContain("queued 1 scene(s) changed in the last 7 days");
    expect(await waitFor(() => w.app.queue.pending() === 0, 20_000, 100)).toBe(true);
  }, 30_000);

  test("Reconcile (report only) logs the gaps it found and changes nothing; Reconcile now heals them and says so", async () => {
    const item = [...w.pms.items.values()].find((i) => i.guid.endsWith("/movie/41"))!;
    w.stash.library.update("41", { title: "Renamed without telling anyone" });
    const callsBefore = w.pms.calls.length;
    const queuedBefore = w.app.queue.history(scene("41")).length;
    const report = await runTask("Reconcile (report only)");
    expect(info(report)).toContain("reconcile finished: ");
    expect(info(report)).toMatch(/gaps: .*stale 1/);
    expect(info(report)).toContain("report only: nothing was changed");
    expect(w.app.queue.history(scene("41")).length).toBe(queuedBefore);
    expect(w.pms.items.get(item.ratingKey)!.title).not.toBe("Renamed without telling anyone");
    expect(w.pms.calls.slice(callsBefore).every((c) => c.method === "GET")).toBe(true);

    const heal = await runTask("Reconcile now");
    expect(info(heal)).toMatch(/gaps: .*stale 1/);
    expect(info(heal)).toMatch(/healed: .*stale 1/);
    expect(heal.progress.every((p) => p >= 0 && p <= 1)).toBe(true);
    expect(
      await waitFor(
        async () => (await w.pms.idle(), w.pms.items.get(item.ratingKey)!.title === "Renamed without telling anyone"),
        20_000,
        100,
      ),
    ).toBe(true);
  }, 60_000);

  test("Retry and Discard dead letters: the log names the scenes; discard empties the list", async () => {
    const dead = async (id: string) => {
      const item = [...w.pms.items.values()].find((i) => i.guid.endsWith(`/movie/${id}`))!;
      w.pms.items.delete(item.ratingKey);
      w.stash.library.update(id, { title: `Gone ${id}` });
      await fetch(`${w.app.url}/hooks/stash`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${WEBHOOK_TOKEN}` },
        body: JSON.stringify({ sceneIds: [id] }),
      });
    };
    await dead("51");
    await dead("52");
    expect(await waitFor(() => w.app.queue.deadLetters().length === 2, 20_000, 50)).toBe(true);

    const retry = await runTask("Retry dead letters");
    expect(info(retry)).toContain("retrying 2 dead letters: stash2plex pushes them again now");
    expect(info(retry)).toContain('scene 51 "');
    expect(info(retry)).toContain("the Plex item is gone");
    // The items are still gone, so they die again; then they are discarded.
    expect(await waitFor(() => w.app.queue.deadLetters().length === 2, 20_000, 50)).toBe(true);
    const discard = await runTask("Discard dead letters");
    expect(info(discard)).toContain("discarded 2 dead letters: a later edit or sync of those scenes pushes them again");
    expect(info(discard)).toContain("scene 52");
    expect(w.app.queue.deadLetters()).toEqual([]);
    const page = (await (await fetch(`${w.app.url}/api/dead-letters`, { headers: adminAuth })).json()) as {
      total: number;
    };
    expect(page.total).toBe(0);
  }, 60_000);

  test("Show status and Health and outages: each part, the outages of the last 7 days in UTC", async () => {
    // A Plex outage of a few seconds, recorded by the real breaker.
    for (let i = 0; i < 10 && w.app.breaker.state !== "open"; i++) w.app.breaker.failed("connection refused", 3);
    await Bun.sleep(1100);
    w.app.breaker.succeeded();

    const status = await runTask("Show status");
    expect(info(status)).toContain("[Plugin / stash2plex] stash2plex ");
    expect(info(status)).toContain("queue: ");
    expect(info(status)).toMatch(/last reconcile \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\): done/);
    expect(info(status)).toMatch(
      /Plex outages in the last 7 days: 1, down 1 s in all \(\d+\.\d\d% available\); the last began \d{4}-\d\d-\d\d \d\d:\d\d UTC and lasted 1 s/,
    );

    const health = await runTask("Health and outages");
    expect(info(health)).toContain("[Plugin / stash2plex] stash2plex is ready");
    expect(info(health)).toMatch(/ {2}stash: ok \(Stash v/); // the details /readyz gives the admin token
    expect(info(health)).toMatch(/ {2}plex: ok/);
    expect(info(health)).toContain("circuit breaker (Plex): closed; dead letters: 0");
    expect(info(health)).toContain("Plex outages in the last 7 days: 1");

    await w.pms.stop();
    await Bun.sleep(5100); // /readyz keeps its answer for 5 s
    const failing = await runTask("Health and outages");
    w.pms.start();
    expect(info(failing)).toContain("stash2plex is NOT ready");
    expect(info(failing)).toMatch(/ {2}plex: FAILING/);
  }, 30_000);

  test("a wrong admin token or an unreachable service: one clear line in Stash's log, no crash", async () => {
    settings({ url: w.app.url!, token: WEBHOOK_TOKEN, adminToken: WEBHOOK_TOKEN });
    const wrong = await runTask("Show status");
    expect(messages(wrong)).toBe(
      [
        "e [Plugin / stash2plex] stash2plex refused the admin token: copy it from stash2plex's first start or the admin-token file in its data folder",
        "e Plugin returned error: wrong admin token",
      ].join("\n"),
    );
    settings({ url: "http://127.0.0.1:9", adminToken: ADMIN_TOKEN });
    const down = await runTask("Health and outages");
    expect(messages(down)).toStartWith("e [Plugin / stash2plex] cannot reach stash2plex at http://127.0.0.1:9");
    expect((down.output as any).error).toBe("stash2plex unreachable");
    settings({ url: w.app.url!, adminToken: ADMIN_TOKEN });
  });
});
