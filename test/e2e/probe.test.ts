/**
 * `stash2plex probe` (issue 25): the real command, as a process, against the Stash and PMS
 * simulators and the running service (a movie library scanned through the provider, a viewing
 * in Plex's history, a TV library on a real episode folder). The report holds every item the
 * issue lists and no secret, and the probe changes nothing in Plex but its one refresh.
 *
 * The service runs without PLEX_URL (push off) while the probe has it: every request PMS gets
 * during the probe is then the probe's own, so counting them is certain.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { freePort } from "../../sim/sim-server.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createApp, type App } from "../../src/app.ts";
import { silentLogger } from "../../src/log.ts";
import { plexFilesFor } from "../../src/demo.ts";
import { ADMIN_TOKEN, IDENTIFIER, WEBHOOK_TOKEN, spawnMain, tempDir, testEnv, waitFor } from "../helpers.ts";

const TV_IDENTIFIER = `${IDENTIFIER}.tv`;
const STASH_API_KEY = "stash-api-key-for-the-probe-1234";
const PLEX_HOOK_TOKEN = "plex-hook-token-for-the-probe-5678";

let stash: StashSim;
let pms: PmsSim;
let app: App | undefined;
let env: Record<string, string>;
let port: number;

beforeAll(async () => {
  stash = new StashSim({ scenes: 40, seed: 3, windowsShare: 0 }).start();
  stash.faults.apiKey = STASH_API_KEY;
  pms = new PmsSim().start();
  pms.sendsClientIdentifier = true; // to show that the report masks it
  pms.addSection(
    { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
    plexFilesFor(stash),
  );
  const folder = tempDir("s2p-probe-tv-");
  pms.addSection({ key: "2", title: "Sites", type: "show", agent: TV_IDENTIFIER, locations: [folder] });
  port = freePort();
  env = testEnv(stash, pms, {
    STASH_API_KEY,
    LISTEN_HOST: "127.0.0.1",
    LISTEN_PORT: String(port),
    WRITEBACK_WEBHOOK_TOKEN: PLEX_HOOK_TOKEN,
    TV_LIBRARIES: JSON.stringify([{ id: "sites", layout: "studio", folder, plexFolder: folder }]),
  });
  const { PLEX_URL: _url, PLEX_TOKEN: _token, ...serviceEnv } = env;
  app = createApp(loadConfig(serviceEnv, undefined), { log: silentLogger });
  pms.providers.set(IDENTIFIER, `http://127.0.0.1:${port}`);
  pms.providers.set(TV_IDENTIFIER, `http://127.0.0.1:${port}/tv`);
  await app.start(port, "127.0.0.1");
  await app.stashIndex.refresh();
  // The episode folder is written by the start-up pass; then Plex scans both libraries.
  const synced = await waitFor(
    () => Boolean(app!.scheduler.list().find((j) => j.id === "tv-sync")?.lastSuccessAt),
    30_000,
  );
  if (!synced) throw new Error("tv-sync did not finish");
  await pms.scan("1");
  await pms.scanTv("2");
  await pms.idle();
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await pms.stop();
  await stash.stop();
});

/** The probe as a user runs it: its report and the requests PMS got meanwhile. */
async function probe(args: string[] = []) {
  const out = join(tempDir("s2p-probe-out-"), "report.md");
  const from = pms.calls.length;
  const p = spawnMain(env, ["probe", "--out", out, ...args]);
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  expect({ code, stderr: code ? stderr : "" }).toEqual({ code: 0, stderr: "" });
  expect(stdout).toContain(`wrote ${out}`);
  return { report: readFileSync(out, "utf8"), calls: pms.calls.slice(from) };
}

/** Nothing secret or network-specific: tokens, keys, addresses, ports, PMS's identity. */
function expectNothingSecret(report: string) {
  for (const secret of [pms.token, STASH_API_KEY, ADMIN_TOKEN, WEBHOOK_TOKEN, PLEX_HOOK_TOKEN, pms.machineIdentifier])
    expect(report).not.toContain(secret);
  expect(report).not.toContain("127.0.0.1");
  expect(report).not.toContain("localhost");
  for (const url of [pms.url, stash.url, `http://127.0.0.1:${port}`])
    expect(report).not.toContain(`:${new URL(url).port}`);
}

describe("stash2plex probe against the simulators", () => {
  test("the report has every item, no secret, and the probe made one refresh and no other change", async () => {
    const movie = [...pms.items.values()].find(
      (i) => i.sectionId === "1" && i.guid.startsWith(`${IDENTIFIER}://movie/`),
    )!;
    const sceneId = movie.guid.split("/").at(-1)!;
    pms.watch.view(movie.ratingKey);
    expect(pms.watch.history.length).toBe(1);

    const { report, calls } = await probe();

    // One refresh, of the first item matched to a scene; every other request a read.
    expect(calls.filter((c) => c.method !== "GET").map((c) => `${c.method} ${c.path}`)).toEqual([
      `PUT /library/metadata/${movie.ratingKey}/refresh`,
    ]);
    expect(report).toContain(`- item: Plex item ${movie.ratingKey}, a movie in section 1`);
    // PMS's requests to the provider during the refresh: the scene's metadata, with PMS's headers.
    const get = report.indexOf(`\`GET /library/metadata/${sceneId}\` → 200`);
    expect(get).toBeGreaterThan(0);
    expect(report.slice(get)).toMatch(/^ {3}- `user-agent`: `PlexMediaServer\/1\.43\.0\.sim`$/m);
    // PMS's identifier is shown as such (it equals /identity's), and the Host as a placeholder.
    expect(report).toContain("- `x-plex-client-identifier`: `<pms-machine-identifier>`");
    expect(report).toContain("- `host`: `<public-host>`");
    // The artwork PMS shows afterwards, the stream path, the history filter, PMS's version, TV.
    expect(report).toMatch(/^- poster \(`thumb`\): (held by PMS|a URL|through|none)/m);
    expect(report).toMatch(/^- background \(`art`\): (held by PMS|a URL|through|none)/m);
    expect(report).toMatch(/^- opens at `\/:\/websockets?\/notifications`$/m);
    expect(report).toContain(`- the newest viewing: Plex item ${movie.ratingKey} at `);
    expect(report).toContain("- a read with our filter from one second before it returns it: yes");
    expect(report).toContain(
      "- a read with our filter from one second after it: 0 entries (none when PMS applies the filter)",
    );
    expect(report).toContain("- Plex Media Server: 1.43.0.sim");
    expect(report).toContain("- Stash: v");
    // Where PMS is told to reach us: its kind of address, not the address.
    expect(report).toContain(
      "- PUBLIC_URL (what PMS is told to reach): `http://<public-host>`, a private or loopback address",
    );
    expect(report).toMatch(/^- sites: scene \d+ is linked in the episode folder .* our episode GUID: yes$/m);
    expectNothingSecret(report);
  }, 60_000);

  test("--item refreshes the item named", async () => {
    const other = [...pms.items.values()].filter(
      (i) => i.sectionId === "1" && i.guid.startsWith(`${IDENTIFIER}://`),
    )[3]!;
    const { report, calls } = await probe(["--item", other.ratingKey]);
    expect(calls.filter((c) => c.method !== "GET").map((c) => `${c.method} ${c.path}`)).toEqual([
      `PUT /library/metadata/${other.ratingKey}/refresh`,
    ]);
    expect(report).toContain(`\`GET /library/metadata/${other.guid.split("/").at(-1)}\` → 200`);
  }, 60_000);

  test("with the service stopped: the report says so in one line, still holds the rest, and Plex is not touched", async () => {
    await app!.stop();
    app = undefined;
    const { report, calls } = await probe(["--wait", "1"]);
    expect(calls.filter((c) => c.method !== "GET")).toEqual([]);
    expect(report).toMatch(/^- the service: the service is not running at its listen address/m);
    expect(report).toContain("- not refreshed: the service is not reachable");
    expect(report).toContain("- Plex Media Server: 1.43.0.sim");
    expect(report).toMatch(/^- opens at `\/:\/websockets?\/notifications`$/m);
    expect(report).toContain("- a read with our filter from one second before it returns it: yes");
    expectNothingSecret(report);
  }, 60_000);
});
