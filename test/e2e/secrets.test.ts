/**
 * A Stash (or a proxy before it) that echoes the API key in its error pages and GraphQL
 * errors: the key must appear in no answer, no log line and no database row. Also: upstream
 * trouble is a 503 with Retry-After everywhere, and a GraphQL error is transient for pushes.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createApp, type App } from "../../src/app.ts";
import { createLogger } from "../../src/log.ts";
import { plexFilesFor } from "../../src/demo.ts";
import { adminAuth, IDENTIFIER, post, testEnv, waitFor, WEBHOOK_TOKEN, scene } from "../helpers.ts";

const API_KEY = "stash-api-key-0123456789abcdef";
const URL_PASSWORD = "url-password-9876";
let stash: StashSim;
let pms: PmsSim;
let app: App | undefined;
const logLines: string[] = [];

afterEach(async () => {
  await app?.stop();
  await pms?.stop();
  await stash?.stop();
  app = undefined;
  logLines.length = 0;
});

async function start(extra: Record<string, string> = {}) {
  stash = new StashSim({ scenes: 30 }).start();
  stash.faults.apiKey = API_KEY;
  pms = new PmsSim().start();
  pms.addSection(
    { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
    plexFilesFor(stash),
  );
  const config = loadConfig(
    {
      ...testEnv(stash, pms, {
        STASH_API_KEY: API_KEY,
        SYNC_RETRY_BASE_SECONDS: "0.05",
        SYNC_RETRY_CAP_SECONDS: "0.2",
        SYNC_SWEEP_SECONDS: "1",
        ...extra,
      }),
      STASH_URL: stash.url.replace("http://", `http://stash-user:${URL_PASSWORD}@`),
    },
    undefined,
  );
  const log = createLogger({
    level: "debug",
    format: "json",
    write: (line) => logLines.push(line),
    secrets: [config.stash.apiKey, config.plex.token, config.sync.webhookToken],
  });
  app = createApp(config, { log });
  await app.start(0, "127.0.0.1");
  pms.providerUrl = app.url!;
  await pms.scan("1");
  return app;
}

const everyRow = (a: App) =>
  (a.store.db.query("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[])
    .map((t) => JSON.stringify(a.store.db.query(`SELECT * FROM ${t.name}`).all()))
    .join("\n");

describe("secrets that Stash echoes never leave the process", () => {
  for (const fault of ["an HTML error page (502)", "a GraphQL error", "a 401 page"] as const) {
    test(`Stash answers ${fault} repeating the API key: no answer, log line or database row holds it`, async () => {
      const a = await start();
      stash.library.update("5", { title: "Queued before the fault" });
      stash.faults.echoKey = true;
      if (fault === "a GraphQL error") stash.faults.graphqlErrors = true;
      else stash.faults.errorPage = fault === "a 401 page" ? 401 : 502;
      await post(`${a.url}/hooks/stash`, { sceneIds: ["5"] }, { authorization: `Bearer ${WEBHOOK_TOKEN}` });
      await waitFor(() => a.queue.history(scene("5")).some((h) => h.event === "retry"), 5000);
      const answers: { path: string; status: number; retryAfter: string | null; text: string }[] = [];
      for (const path of [
        "/readyz",
        "/library/metadata/5",
        "/library/metadata/5/images",
        "/library/collections/g1",
        "/images/scene/5",
        "/api/status",
        "/api/scenes/5",
      ]) {
        const res = await fetch(`${a.url}${path}`, { headers: adminAuth });
        answers.push({ path, status: res.status, retryAfter: res.headers.get("retry-after"), text: await res.text() });
      }
      const everything = [...answers.map((r) => r.text), ...logLines, everyRow(a)].join("\n");
      expect(everything).not.toContain(API_KEY);
      expect(everything).not.toContain(URL_PASSWORD);
      // Upstream trouble: 503 with Retry-After on every provider route, never a 500 or 502.
      // (Images are plain HTTP from Stash: a GraphQL fault leaves them working.)
      const upstream = answers.filter(
        (x) => x.path.startsWith("/library") || (x.path.startsWith("/images") && fault !== "a GraphQL error"),
      );
      for (const r of upstream) {
        expect({ path: r.path, status: r.status, retryAfter: r.retryAfter !== null }).toEqual({
          path: r.path,
          status: 503,
          retryAfter: true,
        });
      }
      // The push waits for Stash instead of becoming a dead letter.
      expect(a.queue.deadLetters()).toEqual([]);
      expect(a.queue.job(scene("5"))).toBeDefined();
    });
  }

  test("every request is logged with its timing, an unknown route too", async () => {
    const a = await start();
    await fetch(`${a.url}/nope`);
    await fetch(`${a.url}/api/scenes/1`, { headers: adminAuth });
    await Bun.sleep(50);
    const requests = logLines
      .map((l) => JSON.parse(l))
      .filter((e) => e.msg === "request" && ["/nope", "/api/scenes/1"].includes(e.path));
    expect(requests.map((e) => [e.path, e.status, typeof e.ms])).toEqual([
      ["/nope", 404, "number"],
      ["/api/scenes/1", 200, "number"],
    ]);
  });

  test("credentials in STASH_URL are shown nowhere: not in the start-up log, /readyz or errors", async () => {
    const a = await start();
    await stash.stop(); // "cannot reach Stash at …" names the URL
    const texts = [await (await fetch(`${a.url}/library/metadata/3`)).text()];
    await Bun.sleep(5100); // /readyz keeps its answer a few seconds
    texts.push(await (await fetch(`${a.url}/readyz`)).text());
    const everything = [...texts, ...logLines].join("\n");
    expect(everything).not.toContain(URL_PASSWORD);
    expect(everything).not.toContain("stash-user");
    stash.start();
  }, 20_000);
});
