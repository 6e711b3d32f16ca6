/** The Stash plugin (deploy/stash-plugin), run with python3 as Stash runs it: JSON on stdin. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ADMIN_TOKEN, startWorld, waitFor, WEBHOOK_TOKEN, type World } from "../helpers.ts";
import { SimPlugins } from "../sim/stash/plugins.ts";

const PLUGIN = join(import.meta.dir, "../../deploy/stash-plugin/stash2plex.py");
const python = Bun.which("python3");
let w: World;
beforeAll(async () => {
  w = await startWorld({ env: { SYNC_DRAIN_PER_SECOND: "1000" } });
});
afterAll(() => w.close());

async function runPlugin(input: unknown, env: Record<string, string> = {}) {
  const proc = Bun.spawn([python!, PLUGIN], { stdin: new TextEncoder().encode(JSON.stringify(input)), stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "", ...env } });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { output: JSON.parse(out), err, code };
}

const connection = () => {
  const url = new URL(w.stash.url);
  return { Scheme: "http", Host: url.hostname, Port: Number(url.port), SessionCookie: { Name: "session", Value: "abc" } };
};

describe.skipIf(!python)("Stash plugin", () => {
  test("reads its settings from Stash and forwards a scene update to the webhook", async () => {
    w.stash.pluginSettings = { stash2plex: { url: w.app.url!, token: WEBHOOK_TOKEN } };
    const before = w.app.queue.history("21").length;
    const r = await runPlugin({ server_connection: connection(), args: { hookContext: { type: "Scene.Update.Post", id: 21, input: { title: "x" } } } });
    expect(r.code).toBe(0);
    expect(r.output.output).toContain('"queued": 1');
    expect(w.app.queue.history("21").length).toBeGreaterThan(before);
  });

  test("destroy events are accepted without queueing; a wrong token is reported, not crashed", async () => {
    w.stash.pluginSettings = { stash2plex: { url: w.app.url!, token: WEBHOOK_TOKEN } };
    const destroyed = await runPlugin({ server_connection: connection(), args: { hookContext: { type: "Scene.Destroy.Post", id: 22 } } });
    expect(destroyed.output.output).toContain('"queued": 0');
    const wrong = await runPlugin({ args: { hookContext: { type: "Scene.Update.Post", id: 22 } } }, { STASH2PLEX_URL: w.app.url!, STASH2PLEX_TOKEN: "nope" });
    expect(wrong.code).toBe(0);
    expect(wrong.output.error).toBe("HTTP 401");
    expect(wrong.err).toContain("refused");
  });

  test("missing settings or an unreachable service are logged to Stash, never a crash", async () => {
    w.stash.pluginSettings = {};
    const unset = await runPlugin({ server_connection: connection(), args: { hookContext: { type: "Scene.Update.Post", id: 23 } } });
    expect(unset.output.error).toContain("not set");
    const down = await runPlugin({ args: { hookContext: { type: "Scene.Update.Post", id: 23 } } }, { STASH2PLEX_URL: "http://127.0.0.1:9", STASH2PLEX_TOKEN: "x" });
    expect(down.output.error).toBe("stash2plex unreachable");
    const noHook = await runPlugin({ args: {} });
    expect(noHook.output.output).toContain("nothing to do");
  });
});

describe.skipIf(!python)("Stash plugin tasks (Settings → Tasks), through the simulator's runPluginTask", () => {
  const runTask = async (task: string) => {
    const res = await fetch(`${w.stash.url}/graphql`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "mutation($p: ID!, $t: String) { runPluginTask(plugin_id: $p, task_name: $t) }", variables: { p: "stash2plex", t: task } }),
    });
    const id = ((await res.json()) as any).data.runPluginTask as string;
    const job = w.stash.plugins!.jobs.find((j) => j.id === id)!;
    await job.done;
    return job;
  };
  const messages = (job: { log: [string, string][] }) => job.log.map(([level, text]) => `${level} ${text}`).join("\n");

  beforeAll(async () => {
    w.stash.plugins = new SimPlugins(join(import.meta.dir, "../../deploy/stash-plugin"), connection);
    w.stash.pluginSettings = { stash2plex: { url: w.app.url!, token: WEBHOOK_TOKEN, adminToken: ADMIN_TOKEN } };
    await w.pms.scan("1", { concurrency: 8 });
    await w.app.plexIndex.refresh(await w.app.plex.sections());
  });

  test("Sync all scenes / changed in the last 7 days: scenes are queued and pushed", async () => {
    const all = await runTask("Sync all scenes to Plex");
    expect(messages(all)).toMatch(/^i \[stash2plex\] queued \d+ scene\(s\); stash2plex pushes them to Plex$/);
    expect(await waitFor(() => w.app.queue.pending() === 0, 20_000, 100)).toBe(true);
    w.stash.library.update("31", { title: "Recently edited" });
    const recent = await runTask("Sync scenes changed in the last 7 days");
    expect(messages(recent)).toContain("queued 1 scene(s) changed in the last 7 days");
  }, 30_000);

  test("Reconcile now, Requeue dead letters, Show status: each reported in Stash's task log", async () => {
    const reconcile = await runTask("Reconcile now");
    expect(messages(reconcile)).toContain("reconcile started");
    expect(await waitFor(() => w.app.reconciler.reports.last()?.trigger === "api", 20_000, 100)).toBe(true);
    const requeue = await runTask("Requeue dead letters");
    expect(messages(requeue)).toContain("requeued 0 dead letter(s)");
    const status = await runTask("Show status");
    expect(messages(status)).toContain("i [stash2plex] stash2plex ");
    expect(messages(status)).toContain("queue: ");
    expect(messages(status)).toContain("last reconcile: done");
  }, 30_000);

  test("a wrong admin token or an unreachable service: one clear line in Stash's log, no crash", async () => {
    w.stash.pluginSettings = { stash2plex: { url: w.app.url!, token: WEBHOOK_TOKEN, adminToken: WEBHOOK_TOKEN } };
    const wrong = await runTask("Show status");
    expect(messages(wrong)).toBe("e [stash2plex] stash2plex refused the admin token: copy it from stash2plex's first start or the admin-token file in its data folder");
    w.stash.pluginSettings = { stash2plex: { url: "http://127.0.0.1:9", adminToken: ADMIN_TOKEN } };
    const down = await runTask("Show status");
    expect(messages(down)).toStartWith("e [stash2plex] cannot reach stash2plex at http://127.0.0.1:9");
    expect((down.output as any).error).toBe("stash2plex unreachable");
  });
});
