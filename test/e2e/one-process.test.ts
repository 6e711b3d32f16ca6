/**
 * One service per port and per data folder, against real processes (`bun src/main.ts serve`):
 * a second one exits at once, non-zero, with one line saying why, before any job runs (two
 * processes would push the same queue). The data folder's lock goes with its process, however
 * that process ends (SIGTERM, or kill -9).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { freePort } from "../../sim/sim-server.ts";
import { healthy, IDENTIFIER, spawnMain, tempDir, testEnv } from "../helpers.ts";

let stash: StashSim;
let pms: PmsSim;
const running: ReturnType<typeof spawnMain>[] = [];
beforeAll(() => {
  stash = new StashSim({ scenes: 5 }).start();
  pms = new PmsSim().start();
  pms.addSection({ key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes"] }, []);
});
afterAll(async () => {
  for (const p of running) p.kill("SIGKILL");
  await pms.stop();
  await stash.stop();
});

/** The service with push on (poller and pusher would run), on loopback. */
function start(dataDir: string, port: number) {
  const p = spawnMain({
    ...testEnv(stash, pms),
    DATA_DIR: dataDir,
    LISTEN_HOST: "127.0.0.1",
    LISTEN_PORT: String(port),
    SYNC_POLL_SECONDS: "1",
  });
  running.push(p);
  return p;
}

/** Waits for a process that must stop by itself; what it printed, and how long it took. */
async function refused(p: ReturnType<typeof spawnMain>) {
  const started = Date.now();
  const killer = setTimeout(() => p.kill("SIGKILL"), 8000);
  const code = await p.exited;
  clearTimeout(killer);
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, out, err, ms: Date.now() - started };
}

function expectOneLine(r: { code: number; out: string; err: string; ms: number }, words: string[]) {
  expect(r.code).toBe(1);
  expect(r.ms).toBeLessThan(5000);
  for (const w of words) expect(r.err).toContain(w);
  expect(r.err.trim().split("\n")).toHaveLength(1);
  expect(r.err).not.toContain("    at ");
  // Nothing started: no banner, no job ran (the index refresh and the poller log when they do).
  expect(r.out).not.toContain("listening on");
  expect(r.out).not.toContain("index refreshed");
}

describe("a second service on a port in use", () => {
  test("exits at once, code 1, one line naming the port; the first keeps serving", async () => {
    const port = freePort();
    const first = start(tempDir(), port);
    expect(await healthy(port)).toBe(true);
    const second = await refused(start(tempDir(), port));
    expectOneLine(second, [`port ${port}`, "in use"]);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).ok).toBe(true);
    first.kill("SIGKILL");
  }, 30_000);
});

describe("a second service on the same data folder", () => {
  test("on another port: exits at once, code 1, one line naming the folder; that port never listens", async () => {
    const dir = tempDir();
    const port = freePort();
    const first = start(dir, port);
    expect(await healthy(port)).toBe(true);
    const other = freePort();
    const second = await refused(start(dir, other));
    expectOneLine(second, [dir, "another stash2plex"]);
    expect(
      await fetch(`http://127.0.0.1:${other}/healthz`).then(
        () => "answered",
        () => "refused",
      ),
    ).toBe("refused");
    first.kill("SIGKILL");
    await first.exited;
  }, 30_000);

  test("the lock goes with its process: after SIGTERM, and after kill -9, the next start serves", async () => {
    const dir = tempDir();
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      const port = freePort();
      const p = start(dir, port);
      expect(await healthy(port)).toBe(true);
      p.kill(signal);
      await p.exited;
    }
    const port = freePort();
    start(dir, port);
    expect(await healthy(port)).toBe(true);
  }, 40_000);
});
