/** The access log and the request metric say the status the client got, redirects included. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createLogger } from "../../src/log.ts";
import { StashSim } from "../../sim/stash/server.ts";
import { testEnv } from "../helpers.ts";

const lines: Record<string, unknown>[] = [];
let stash: StashSim;
let app: App;
beforeAll(async () => {
  stash = new StashSim({ scenes: 5, seed: 1 }).start();
  const log = createLogger({ level: "info", format: "json", write: (line) => void lines.push(JSON.parse(line)) });
  app = createApp(loadConfig(testEnv(stash, undefined), undefined), { log });
  await app.start(0, "127.0.0.1");
});
afterAll(async () => {
  await app.stop();
  await stash.stop();
});

const logged = async (path: string) => {
  await Bun.sleep(50); // the line is written after the answer is sent
  return lines.filter((l) => l.msg === "request" && l.path === path);
};

test("a redirect (303) is logged and counted as 303, not 200", async () => {
  const home = await fetch(`${app.url}/`, { headers: { accept: "text/html" }, redirect: "manual" });
  expect(home.status).toBe(303);
  expect((await logged("/")).map((l) => l.status)).toEqual([303]);
  const page = await fetch(`${app.url}/ui/queue`, { redirect: "manual" });
  expect(page.status).toBe(303);
  expect((await logged("/ui/queue")).map((l) => l.status)).toEqual([303]);
  const metrics = await (await fetch(`${app.url}/metrics`)).text();
  expect(metrics).toMatch(/stash2plex_http_requests_total\{[^}]*status="303"[^}]*\} [1-9]/);
});

test("a plain answer, an error and a Response with its own status keep theirs", async () => {
  expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  expect((await fetch(`${app.url}/api/status`)).status).toBe(401);
  expect((await fetch(`${app.url}/no/such/route`)).status).toBe(404);
  expect((await logged("/api/status")).map((l) => l.status)).toEqual([401]);
  expect((await logged("/no/such/route")).map((l) => l.status)).toEqual([404]);
  // PMS's root (the provider document) is the same path as the browser's redirect: logged once, 200.
  const before = (await logged("/")).length;
  expect((await fetch(`${app.url}/`, { headers: { accept: "application/json" } })).status).toBe(200);
  expect((await logged("/")).slice(before).map((l) => l.status)).toEqual([200]);
  const bad = await fetch(`${app.url}/hooks/stash`, {
    method: "POST",
    headers: { authorization: "Bearer x" },
    body: "{",
  });
  expect((await logged("/hooks/stash")).map((l) => l.status)).toEqual([bad.status]);
});
