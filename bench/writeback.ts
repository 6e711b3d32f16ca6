/**
 * Write-back benchmark (issue 21: what is watched in Plex reaches Stash). The real service in
 * its own process; the Stash and PMS simulators in this one (PMS's webhooks are real multipart
 * POSTs to the service; the Stash simulator keeps play history as Stash does).
 *   1. catch-up: 10,000 viewings in Plex's watch history made while stash2plex was stopped,
 *      written to Stash after a start: wall time, and Stash (and PMS) requests per entry;
 *   2. webhook → Stash write: a viewing in Plex (its scrobble webhook) until the play is in
 *      Stash's history, one viewing at a time: p50 / p99.
 *
 *   bun bench/writeback.ts [--entries 10000] [--samples 100]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StashSim } from "../sim/stash/server.ts";
import { PmsSim } from "../sim/plex/server.ts";
import { DEMO_RULES, plexFilesFor } from "../src/demo.ts";
import { openStore } from "../src/store/db.ts";
import { createEventQueue } from "../src/writeback/events.ts";
import { HISTORY_SOURCE } from "../src/writeback/catch-up.ts";
import { commandLine, fmt, freePort, machine, median, numberArg, percentile, report, startService } from "./lib.ts";

const ENTRIES = numberArg("entries", 10_000);
const SAMPLES = numberArg("samples", 100);
const WEBHOOK_TOKEN = "bench-plex-webhook-token";
const IDENTIFIER = "tv.plex.agents.custom.stash2plex";

// One scene per viewing of the catch-up, and the webhook samples on scenes of their own.
const stash = new StashSim({ scenes: Math.ceil((ENTRIES + SAMPLES) * 1.1), seed: 21 }).start();
const pms = new PmsSim().start();
pms.addSection(
  { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
  plexFilesFor(stash),
);
const dataDir = mkdtempSync(join(tmpdir(), "s2p-bench-writeback-"));
const env = {
  STASH_URL: stash.url,
  PLEX_URL: pms.url,
  PLEX_TOKEN: pms.token,
  DATA_DIR: dataDir,
  PATHS_RULES: JSON.stringify(DEMO_RULES),
  SYNC_POLL_SECONDS: "0",
};
const plays = () => stash.library.writeCount("sceneAddPlay");

async function until(condition: () => boolean, timeoutMs: number, what: string) {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`${what}: not done within ${timeoutMs / 1000} s`);
    await Bun.sleep(2);
  }
}

let service: Awaited<ReturnType<typeof startService>> | undefined;
try {
  // The library in Plex, matched through the service (write-back off for this part).
  service = await startService(env, freePort());
  pms.providerUrl = service.url;
  console.log(`scanning ${stash.library.scenes.size} scenes into the PMS simulator …`);
  await pms.scan("1", { concurrency: 16 });
  console.log("scanned; stopping the service");
  service.proc.kill("SIGTERM");
  await service.proc.exited;
  // One item per scene (a scene with two files is two Plex items: viewings of both within a
  // second would be one play in Stash).
  const byGuid = new Map(
    [...pms.items.values()].filter((i) => i.guid.startsWith(`${IDENTIFIER}://movie/`)).map((i) => [i.guid, i]),
  );
  const items = [...byGuid.values()];
  if (items.length < ENTRIES + SAMPLES) throw new Error(`only ${items.length} items matched`);

  // While stash2plex was stopped: ENTRIES viewings by the owner, one a second up to now. The
  // catch-up follows the history from a watermark; this one was set before the viewings began.
  const nowS = Math.floor(Date.now() / 1000);
  const store = openStore(dataDir);
  createEventQueue(store).setWatermark(HISTORY_SOURCE, nowS - ENTRIES - 10);
  store.close();
  pms.watch.history = items.slice(0, ENTRIES).map((item, k) => ({
    id: k + 1,
    ratingKey: item.ratingKey,
    accountId: 1,
    viewedAt: nowS - ENTRIES + k,
    deviceId: 1,
  }));

  console.log(`catching up ${ENTRIES} history entries …`);
  const stashBefore = stash.queries;
  const pmsBefore = pms.calls.length;
  const started = performance.now();
  service = await startService(
    {
      ...env,
      WRITEBACK_ENABLED: "true",
      WRITEBACK_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
      WRITEBACK_NOTIFICATIONS: "false",
      WRITEBACK_CATCH_UP_SECONDS: "3600",
    },
    freePort(),
  );
  pms.providerUrl = service.url;
  await until(() => plays() >= ENTRIES, 600_000, "catch-up");
  const catchUpSeconds = (performance.now() - started) / 1000;
  const stashPerEntry = (stash.queries - stashBefore) / ENTRIES;
  const pmsPerEntry = (pms.calls.length - pmsBefore) / ENTRIES;
  const once = stash.library.writes.filter((w) => w.op === "sceneAddPlay").length === ENTRIES;

  // Webhook → Stash write, one viewing at a time on scenes not played yet.
  pms.watch.webhooks = [`${service.url}/hooks/plex?token=${WEBHOOK_TOKEN}`];
  const latencies: number[] = [];
  for (const item of items.slice(ENTRIES, ENTRIES + SAMPLES)) {
    const before = plays();
    const t0 = Date.now();
    pms.watch.view(item.ratingKey);
    await until(() => plays() > before, 60_000, "webhook play");
    latencies.push(stash.library.writes.at(-1)!.at - t0);
    await pms.watch.idle();
  }

  const rows = [
    [
      `catch-up of ${ENTRIES} history entries (made while stopped), start of the process → all in Stash`,
      `${fmt(catchUpSeconds, 1)} s = ${fmt(ENTRIES / catchUpSeconds, 0)} entries/s`,
      "",
    ],
    ["Stash requests per entry (catch-up)", `${fmt(stashPerEntry)} (a read of the scene's plays, the play)`, ""],
    ["PMS requests per entry (catch-up: history pages, items)", fmt(pmsPerEntry, 3), ""],
    [
      "plays added in Stash by the catch-up",
      `${plays() - SAMPLES} for ${ENTRIES} entries${once ? "" : " (!)"}`,
      "once each",
    ],
    [
      "webhook (a viewing's scrobble) → play in Stash, p50 / p99",
      `${fmt(median(latencies), 0)} / ${fmt(percentile(latencies, 99), 0)} ms (${SAMPLES} viewings)`,
      "< 1 min",
    ],
  ];
  const markdown = [
    "## Write-back: Plex viewings reaching Stash (issue 21)",
    "",
    `Command: \`${commandLine("bench/writeback.ts")}\` (${ENTRIES} history entries, ${SAMPLES} webhook viewings).`,
    `Machine: ${machine()}. The service in its own process; Stash and PMS simulators in the benchmark's process.`,
    "The catch-up entries are viewings of distinct scenes made while the service was stopped; the service",
    "reads them at start. A webhook sample is timed from the viewing in the PMS simulator (which sends",
    "media.play, the scrobble at 90 % and media.stop as real multipart POSTs) to the simulator's sceneAddPlay.",
    "",
    "| measure | result | target |",
    "|---|---|---|",
    ...rows.map(([a, b, c]) => `| ${a} | ${b} | ${c} |`),
  ].join("\n");
  report("writeback", markdown);
} finally {
  service?.proc.kill("SIGTERM");
  await pms.stop();
  await stash.stop();
}
