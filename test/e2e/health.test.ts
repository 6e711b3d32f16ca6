/** /healthz and /readyz, and the CLI's check and map commands. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startWorld, waitFor, type World } from "../helpers.ts";
import { runChecks } from "../../src/cli/check.ts";
import { describeMapping } from "../../src/cli/map.ts";
import { loadConfig } from "../../src/config/load.ts";

let w: World;
beforeAll(async () => {
  w = await startWorld({});
});
afterAll(() => w.close());

describe("health", () => {
  test("/healthz answers while the process runs; /readyz names the failing part", async () => {
    expect(((await (await fetch(`${w.app.url}/healthz`)).json()) as any).ok).toBe(true);
    const ready = await fetch(`${w.app.url}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as any;
    expect(Object.keys(body.checks).sort()).toEqual(["database", "plex", "stash"]);
    await w.pms.stop();
    // The answer is kept for a few seconds (so /readyz cannot be used to flood Stash and Plex).
    let down = await fetch(`${w.app.url}/readyz`);
    expect(await waitFor(async () => (down = await fetch(`${w.app.url}/readyz`)).status === 503, 8000, 250)).toBe(true);
    const downBody = (await down.json()) as any;
    expect(downBody.checks.plex.ok).toBe(false);
    expect(downBody.checks.stash.ok).toBe(true);
    expect(downBody.checks.database.ok).toBe(true);
    expect((await fetch(`${w.app.url}/healthz`)).status).toBe(200);
    w.pms.start();
  }, 20_000);
});

describe("check and map", () => {
  test("check says what holds and what is wrong, with the fix", async () => {
    const good = await runChecks(w.app.config);
    expect(good.every((l) => l.ok)).toBe(true);
    expect(good.find((l) => l.what === "path rules")!.detail).toContain("2 rule(s), 2 sample(s)");
    const bad = await runChecks(
      loadConfig(
        {
          STASH_URL: w.stash.url,
          PLEX_URL: w.pms.url,
          PLEX_TOKEN: "wrong",
          PLEX_SECTIONS: "1,9",
          DATA_DIR: w.app.config.dataDir,
        },
        undefined,
      ),
    );
    expect(bad.find((l) => l.what === "plex")).toMatchObject({ ok: false });
    expect(bad.find((l) => l.what === "plex")!.detail).toContain("PLEX_TOKEN");
    const missing = await runChecks(
      loadConfig(
        {
          STASH_URL: w.stash.url,
          PLEX_URL: w.pms.url,
          PLEX_TOKEN: w.pms.token,
          PLEX_SECTIONS: "1,9",
          DATA_DIR: w.app.config.dataDir,
        },
        undefined,
      ),
    );
    expect(missing.find((l) => l.what === "plex section 9")).toMatchObject({ ok: false });
    expect(missing.find((l) => l.what === "plex section 9")!.detail).toContain('1 "Scenes"');
  });

  test("map shows the rule and both directions", () => {
    const lines = describeMapping(w.app.mapper, "/media/Windows/Studio/a.mp4").join("\n");
    expect(lines).toContain('D:\\Scenes\\Studio\\a.mp4   (rule "windows-share")');
    expect(lines).toContain("round trip: ok");
  });
});
