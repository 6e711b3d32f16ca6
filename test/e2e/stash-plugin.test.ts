/** The Stash plugin (deploy/stash-plugin), run with python3 as Stash runs it: JSON on stdin. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startWorld, WEBHOOK_TOKEN, type World } from "../helpers.ts";

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
