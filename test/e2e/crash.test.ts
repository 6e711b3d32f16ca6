/**
 * The real service process, killed with SIGKILL in the middle of draining a backlog and
 * started again on the same data folder: every change is delivered. Also: SIGTERM stops
 * it within 5 s, and a broken config stops start-up with one line per problem.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { freePort } from "../../sim/sim-server.ts";
import { plexFilesFor } from "../../src/demo.ts";
import {
  healthy,
  IDENTIFIER,
  MAIN,
  post,
  spawnMain,
  tempDir,
  testEnv,
  waitFor,
  WEBHOOK_TOKEN,
  adminGet,
} from "../helpers.ts";

const procs: ReturnType<typeof Bun.spawn>[] = [];
const sims: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) p.kill("SIGKILL");
  for (const s of sims.splice(0)) await s.stop();
});

function spawnService(env: Record<string, string>, args: string[] = ["serve"]) {
  const proc = spawnMain(env, args);
  procs.push(proc);
  return proc;
}

describe("the real process", () => {
  /** The simulators and the service's environment for one crash scenario. */
  function crashWorld(offsetMinutes: number, extra: Record<string, string> = {}) {
    const stash = new StashSim({ scenes: 400, seed: 11, clock: { offsetMinutes } }).start();
    const pms = new PmsSim().start();
    sims.push(stash, pms);
    pms.addSection(
      { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
      plexFilesFor(stash),
    );
    const port = freePort();
    const env = {
      // A short confirmation window: a refresh whose fetch was lost in the kill is pushed again soon.
      ...testEnv(stash, pms, {
        SYNC_DRAIN_PER_SECOND: "100",
        SYNC_RETRY_BASE_SECONDS: "0.05",
        SYNC_RETRY_CAP_SECONDS: "0.5",
        SYNC_SWEEP_SECONDS: "1",
        SYNC_CONFIRM_SECONDS: "5",
        ...extra,
      }),
      LISTEN_HOST: "127.0.0.1",
      LISTEN_PORT: String(port),
    };
    return { stash, pms, port, env, url: `http://127.0.0.1:${port}` };
  }

  for (const [zone, offset] of [
    ["UTC−05:00", -300],
    ["UTC+01:00", 60],
  ] as const) {
    test(
      `kill -9 while draining a backlog (Stash at ${zone}, half the changes found by polling), then a restart: every change is delivered`,
      () => killWhileDraining(offset),
      90_000,
    );
  }

  test("kill -9 between the fetches of a two-file scene's items: after a restart only the second item is pushed again", async () => {
    const { stash, pms, port, env, url } = crashWorld(-300);
    spawnService(env);
    expect(await healthy(port)).toBe(true);
    pms.providerUrl = url;
    await pms.scan("1", { concurrency: 16 });
    const items = [...pms.items.values()].filter((i) => i.guid.endsWith("/movie/13"));
    expect(items).toHaveLength(2);
    const pulled: string[] = [];
    pms.pullHooks.before = async (item) => {
      pulled.push(item.ratingKey);
      // The second item's first fetch: our process dies just before it, so PMS gets nothing.
      if (new Set(pulled).size === 2 && pulled.filter((k) => k === item.ratingKey).length === 1) {
        procs[0]!.kill("SIGKILL");
        await procs[0]!.exited;
      }
    };
    stash.library.update("13", { title: "Both items" });
    await post(`${url}/hooks/stash`, { sceneIds: ["13"] }, { authorization: `Bearer ${WEBHOOK_TOKEN}` });
    expect(await waitFor(() => procs[0]!.killed, 10_000)).toBe(true);
    await procs[0]!.exited;
    await pms.idle();
    const [first, second] = [...new Set(pulled)].map((k) => pms.items.get(k)!);
    expect(first!.title).toBe("Both items");
    expect(second!.title).not.toBe("Both items"); // its fetch failed: PMS kept the old values

    spawnService(env);
    expect(await healthy(port)).toBe(true);
    const landed = await waitFor(
      async () => {
        await pms.idle();
        return (
          second!.title === "Both items" &&
          ((await (await adminGet(`${url}/api/status`)).json()) as any).queue.pending === 0
        );
      },
      20_000,
      100,
    );
    expect(landed).toBe(true);
    expect(pms.pushCallsFor(first!.ratingKey)).toBe(1);
    expect(pms.pushCallsFor(second!.ratingKey)).toBe(2);
    const scene = (await (await adminGet(`${url}/api/scenes/13`)).json()) as any;
    // Each confirmed once, by reading it back after PMS's fetch (a fetch of the scene cannot say which item's it was).
    const confirmed = scene.history.filter((h: any) => h.event === "fetched" || h.event === "read back");
    expect(confirmed.map((h: any) => `${h.event} ${h.detail.split(" shows")[0]}`)).toEqual([
      `read back plex item ${first!.ratingKey}`,
      `read back plex item ${second!.ratingKey}`,
    ]);
  }, 60_000);

  async function killWhileDraining(offsetMinutes: number) {
    const { stash, pms, port, env, url } = crashWorld(offsetMinutes, { SYNC_POLL_SECONDS: "1" });
    spawnService(env);
    expect(await healthy(port)).toBe(true);
    pms.providerUrl = url;
    await pms.scan("1", { concurrency: 16 });
    expect(pms.items.size).toBeGreaterThan(400);

    const ids = [...stash.library.scenes.keys()];
    for (const id of ids) stash.library.update(id, { title: `After crash ${id}` });
    pms.latencyMs = 5;
    // Half announced by the webhook; the poller finds the rest (before or after the kill).
    const announced = ids.filter((_, i) => i % 2 === 0);
    const res = await post(`${url}/hooks/stash`, { sceneIds: announced }, { authorization: `Bearer ${WEBHOOK_TOKEN}` });
    expect(((await res.json()) as any).queued).toBeGreaterThanOrEqual(announced.length);
    const refreshes = () => pms.calls.filter((c) => c.method === "PUT" && c.path.endsWith("/refresh")).length;
    expect(await waitFor(() => refreshes() >= 60, 10_000, 5)).toBe(true);
    procs[0]!.kill("SIGKILL");
    await procs[0]!.exited;
    const beforeRestart = refreshes();
    expect(beforeRestart).toBeLessThan(ids.length); // it really died mid-backlog

    spawnService(env);
    expect(await healthy(port)).toBe(true);
    const item = (id: string) => [...pms.items.values()].find((i) => i.guid.endsWith(`/movie/${id}`))!;
    const all = await waitFor(
      async () => {
        await pms.idle();
        if (!ids.every((id) => item(id).title === `After crash ${id}`)) return false;
        // Delivery is confirmed just after PMS has the answer: wait for the queue to empty too.
        return ((await (await adminGet(`${url}/api/status`)).json()) as any).queue.pending === 0;
      },
      40_000,
      100,
    );
    const status = (await (await adminGet(`${url}/api/status`)).json()) as any;
    if (!all) {
      const missing = ids.filter((id) => item(id).title !== `After crash ${id}`);
      console.error(
        "not delivered:",
        missing.slice(0, 10),
        JSON.stringify({ queue: status.queue, breaker: status.breaker, dead: status.deadLetters.slice(0, 3) }),
      );
      for (const id of missing.slice(0, 3)) {
        const items = [...pms.items.values()].filter((i) => i.guid.endsWith(`/movie/${id}`));
        console.error(
          `scene ${id}:`,
          JSON.stringify(await (await adminGet(`${url}/api/scenes/${id}`)).json()),
          JSON.stringify(
            items.map((i) => ({
              rk: i.ratingKey,
              title: i.title,
              calls: pms.callsFor(i.ratingKey).map((c) => `${c.method} ${c.path} @${c.at}`),
            })),
          ),
        );
      }
    }
    expect(all).toBe(true);
    expect(status.queue.pending).toBe(0);
    expect(status.deadLetters).toEqual([]);
  }

  test("`healthcheck` tells a healthy service from none; SIGTERM stops it within 5 s with exit code 0", async () => {
    const stash = new StashSim({ scenes: 10 }).start();
    sims.push(stash);
    const port = freePort();
    const proc = spawnService({ ...testEnv(stash, undefined), LISTEN_HOST: "127.0.0.1", LISTEN_PORT: String(port) });
    expect(await healthy(port)).toBe(true);
    const check = (p: number) =>
      Bun.spawn([process.execPath, MAIN, "healthcheck"], { env: { LISTEN_PORT: String(p) } }).exited;
    expect(await check(port)).toBe(0);
    expect(await check(freePort())).toBe(1);
    const started = performance.now();
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  test("a broken config stops start-up with one line per problem, no stack trace, no secret", async () => {
    const proc = spawnService({
      STASH_URL: "stash:9999",
      LISTEN_PORT: "99999",
      PLEX_URL: "http://plex:32400",
      STASH_API_KEY: "very-secret-key",
      DATA_DIR: tempDir(),
    });
    expect(await proc.exited).toBe(2);
    const err = await new Response(proc.stderr as ReadableStream).text();
    expect(err).toContain("stash.url: must be an http(s) URL");
    expect(err).toContain("listen.port");
    expect(err).not.toContain("    at ");
    expect(err).not.toContain("very-secret-key");
  });
});
