/**
 * `stash2plex check` (the real CLI) fails only on what stops matching or pushing. Plex under
 * /media/…, Stash under /data/stash/… and D:\Scenes\…, no path rules: the provider matches
 * every file by folder and name, so check passes and the rules it proposes are a note. Where
 * no Plex file can be found by rules or by folder and name, it fails and says so.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createApp } from "../../src/app.ts";
import { silentLogger } from "../../src/log.ts";
import { plexFilesFor } from "../../src/demo.ts";
import { tailCoverage } from "../../src/paths/tail-coverage.ts";
import { IDENTIFIER, spawnMain, testEnv } from "../helpers.ts";

let stash: StashSim;
beforeAll(() => void (stash = new StashSim({ scenes: 60, seed: 5 }).start()));
afterAll(() => stash.stop());

async function check(env: Record<string, string>) {
  const p = spawnMain(env, ["check"]);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code };
}

describe("check on a setup with no path rules and different roots", () => {
  test("the provider matches every file Stash has (tail match); check exits 0 and the proposal is a note", async () => {
    const pms = new PmsSim().start();
    try {
      const files = plexFilesFor(stash);
      pms.addSection(
        { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
        files,
      );
      const env = testEnv(stash, pms, { PATHS_RULES: "[]" });
      // It works: a scan through the real provider matches every file Stash knows.
      const app = createApp(loadConfig(env, undefined), { log: silentLogger });
      await app.start(0, "127.0.0.1");
      pms.providerUrl = app.url!;
      await app.stashIndex.refresh();
      const report = await pms.scan("1");
      await app.stop();
      expect(report.violations).toEqual([]);
      expect(report.results.filter((r) => "match" in r && r.match).length).toBe(files.length - 1); // one file Stash does not have

      const { out, code } = await check(env);
      expect(out).not.toContain("FAIL");
      expect(code).toBe(0);
      expect(out).toMatch(/^note path rules proposed: .*with no rules/m);
      expect(out).toContain(`${files.length - 1} of ${files.length} Plex files are found by folder and name`);
      expect(out).toContain("paths:"); // the YAML to paste is still shown
    } finally {
      await pms.stop();
    }
  }, 60_000);

  test("rules that map none of the files while the tail match finds them: a warning, exit 0", async () => {
    const pms = new PmsSim().start();
    try {
      const files = plexFilesFor(stash);
      pms.addSection(
        { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
        files,
      );
      for (const f of files) pms.addItem("1", f);
      const rules = [{ name: "stale", plex: "^/old/media/(.*)$", stash: "/data/stash/$1" }];
      const { out, code } = await check(testEnv(stash, pms, { PATHS_RULES: JSON.stringify(rules) }));
      expect(code).toBe(0);
      expect(out).toMatch(
        /^warn path coverage: 0 of \d+ Plex files map to a file Stash has; \d+ of \d+ Plex files are found by folder and name/m,
      );
      expect(out).toContain("the rules map none of them");
    } finally {
      await pms.stop();
    }
  }, 60_000);

  test("no Plex file can be found by rules or by folder and name: check exits 1 saying so", async () => {
    const pms = new PmsSim().start();
    try {
      const files = Array.from({ length: 20 }, (_, i) => `/media/Other/Holiday ${i}/clip ${i}.mp4`);
      pms.addSection(
        { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Other"] },
        files,
      );
      for (const f of files) pms.addItem("1", f);
      const { out, code } = await check(testEnv(stash, pms, { PATHS_RULES: "[]" }));
      expect(code).toBe(1);
      expect(out).toMatch(/^FAIL path coverage: 0 of 20 Plex files/m);
      expect(out).toContain("none is found by folder and name");
    } finally {
      await pms.stop();
    }
  }, 60_000);
});

describe("tail coverage (pure)", () => {
  test("folder and name, longer tails to tell namesakes apart, Windows separators, ambiguous left out", () => {
    const stashFiles = [
      "/data/a/Studio/x.mp4",
      "D:\\S\\Maker\\y.mp4",
      "/data/one/set/intro.mp4",
      "/data/two/set/intro.mp4",
      "/data/p/q/r.mp4",
      "/data/z/q/r.mp4",
    ];
    const plexFiles = [
      "/media/Studio/x.mp4",
      "/media/Maker/y.mp4",
      "/media/one/set/intro.mp4",
      "/media/elsewhere/q/r.mp4",
      "/media/x.mp4",
      "/media/No/such.mp4",
    ];
    expect(tailCoverage(plexFiles, stashFiles)).toEqual({ found: 3, ambiguous: 1 });
  });
});
