/**
 * Logs of the real process with LOG_FORMAT=json (issue 18, item 9): every stdout line is one JSON
 * object (the admin token shown once on a first start included), and every line about a scene
 * carries it as `scene: "<id>"`: the webhook queueing it, the push, PMS fetching its metadata and
 * images, its page in the API.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { freePort } from "../../sim/sim-server.ts";
import { plexFilesFor } from "../../src/demo.ts";
import { healthy, IDENTIFIER, post, spawnMain, testEnv, waitFor, WEBHOOK_TOKEN } from "../helpers.ts";

const stash = new StashSim({ scenes: 60, seed: 5 }).start();
const pms = new PmsSim().start();
afterAll(async () => {
  await pms.stop();
  await stash.stop();
});

describe("LOG_FORMAT=json, a real process", () => {
  test("every stdout line parses as one JSON object; every line about the pushed scene carries its id", async () => {
    pms.addSection(
      { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
      plexFilesFor(stash),
    );
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    const { ADMIN_TOKEN: _, ...env } = testEnv(stash, pms, {
      SYNC_SWEEP_SECONDS: "1",
      LOG_LEVEL: "debug",
      LISTEN_HOST: "127.0.0.1",
      LISTEN_PORT: String(port),
      PUBLIC_URL: url,
    });
    const service = spawnMain(env); // no ADMIN_TOKEN: generated and shown once
    try {
      expect(await healthy(port)).toBe(true);
      pms.providerUrl = url;
      await pms.scan("1", { concurrency: 8 });
      const token = readFileSync(join(env.DATA_DIR!, "admin-token"), "utf8").trim();

      stash.library.update("7", { title: "Logged" });
      expect(
        (await post(`${url}/hooks/stash`, { sceneIds: ["7"] }, { authorization: `Bearer ${WEBHOOK_TOKEN}` })).status,
      ).toBe(200);
      expect(
        await waitFor(
          async () => {
            const s = (await (
              await fetch(`${url}/api/scenes/7`, { headers: { authorization: `Bearer ${token}` } })
            ).json()) as { history: { event: string }[] };
            return s.history.some((h) => h.event === "delivered");
          },
          15_000,
          200,
        ),
      ).toBe(true);
      await fetch(`${url}/library/metadata/7/images`);
      await fetch(`${url}/images/scene/7`);
      await post(
        `${url}/hooks/stash`,
        { hookContext: { type: "Scene.Update.Post", id: 7 } },
        { authorization: `Bearer ${WEBHOOK_TOKEN}` },
      );
      await Bun.sleep(300);
    } finally {
      service.kill("SIGTERM");
      await service.exited;
    }
    const out = await new Response(service.stdout).text();
    const lines = out.split("\n").filter((l) => l.length > 0);
    expect(lines.length).toBeGreaterThan(10);
    const entries = lines.map((line) => {
      try {
        const entry = JSON.parse(line);
        return typeof entry === "object" && entry !== null && !Array.isArray(entry) ? entry : { notAnObject: line };
      } catch {
        return { notJson: line };
      }
    });
    expect(entries.filter((e) => "notJson" in e || "notAnObject" in e)).toEqual([]);
    for (const e of entries)
      expect(typeof e.time === "string" && typeof e.level === "string" && typeof e.msg === "string").toBe(true);
    // The admin token: shown once, in one JSON line.
    const token = readFileSync(join(env.DATA_DIR!, "admin-token"), "utf8").trim();
    expect(lines.filter((l) => l.includes(token))).toHaveLength(1);

    // Lines about scene 7: requests whose path names it, the push itself.
    const aboutSeven = entries.filter((e) =>
      /^\/(library\/metadata|api\/scenes|images\/scene)\/7(\/|$)/.test(e.path ?? ""),
    );
    expect(aboutSeven.map((e) => e.path).sort()).toEqual(
      expect.arrayContaining(["/api/scenes/7", "/images/scene/7", "/library/metadata/7", "/library/metadata/7/images"]),
    );
    for (const e of aboutSeven) expect([e.path, e.scene]).toEqual([e.path, "7"]);
    const hooks = entries.filter((e) => e.path === "/hooks/stash");
    expect(hooks).toHaveLength(2);
    for (const e of hooks) expect(e.scene).toBe("7");
    expect(entries.some((e) => e.msg === "pushed" && e.scene === "7")).toBe(true);
    // Nothing else is said to be about scene 7.
    expect(
      entries.filter((e) => e.scene === "7" && !aboutSeven.includes(e) && !hooks.includes(e) && e.msg !== "pushed"),
    ).toEqual([]);
  }, 60_000);
});
