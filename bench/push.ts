/**
 * Push benchmark (issue: every change in Stash reaches Plex). The real service in its own
 * process; the Stash and PMS simulators in this one (the PMS simulator re-pulls from the
 * service on every refresh, as PMS does).
 *   1. webhook → Plex call latency (one scene at a time)
 *   2. Stash edit → Plex call latency in poll mode (no webhook)
 *   3. 10,000 changed scenes pushed without a rate limit: scenes/s, Plex calls per scene
 *
 *   bun bench/push.ts [--scenes 10000] [--poll 5] [--samples 40] [--section push]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StashSim } from "../sim/stash/server.ts";
import { PmsSim } from "../sim/plex/server.ts";
import { DEMO_RULES, plexFilesFor } from "../src/demo.ts";
import {
  fmt,
  freePort,
  machine,
  numberArg,
  commandLine,
  report,
  median,
  peakRssMb,
  percentile,
  startService,
  BENCH_ADMIN_TOKEN,
} from "./lib.ts";

const SCENES = numberArg("scenes", 10_000);
const POLL = numberArg("poll", 5);
const SAMPLES = numberArg("samples", 40);
const TOKEN = "bench-token";
const IDENTIFIER = "tv.plex.agents.custom.stash2plex";

const stash = new StashSim({ scenes: SCENES, seed: 9 }).start();
const pms = new PmsSim().start();
pms.addSection(
  { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
  plexFilesFor(stash),
);
const service = await startService(
  {
    STASH_URL: stash.url,
    PLEX_URL: pms.url,
    PLEX_TOKEN: pms.token,
    SYNC_WEBHOOK_TOKEN: TOKEN,
    SYNC_POLL_SECONDS: String(POLL),
    SYNC_DRAIN_PER_SECOND: "100000",
    DATA_DIR: mkdtempSync(join(tmpdir(), "s2p-bench-push-")),
    PATHS_RULES: JSON.stringify(DEMO_RULES),
  },
  freePort(),
);
pms.providerUrl = service.url;

const webhook = (ids: string[]) =>
  fetch(`${service.url}/hooks/stash`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ sceneIds: ids }),
  }).then((r) => r.json());

/** Scene id → the Plex items showing it (a scene with two files is two items). */
const itemsOf = new Map<string, string[]>();
const ratingKeyOf = { get: (id: string) => itemsOf.get(id)![0]! };
/** Waits for the first refresh call on an item after `since`; returns when it arrived. */
async function plexCallAfter(ratingKey: string, since: number, timeoutMs: number): Promise<number | undefined> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const call = pms.calls.find((c) => c.ratingKey === ratingKey && c.method === "PUT" && c.at >= since);
    if (call) return call.at;
    await Bun.sleep(2);
  }
  return undefined;
}

try {
  console.log(`scanning ${SCENES} scenes into the PMS simulator …`);
  for (;;) {
    const status = (await (await fetch(`${service.url}/api/status`)).json()) as any;
    if (status.indexes.stashScenes >= SCENES) break;
    await Bun.sleep(100);
  }
  await pms.scan("1", { concurrency: 32 });
  for (const item of pms.items.values()) {
    const id = /\/movie\/(\d+)$/.exec(item.guid)?.[1];
    if (id) itemsOf.set(id, [...(itemsOf.get(id) ?? []), item.ratingKey]);
  }
  const ids = [...itemsOf.keys()];
  // A running service has long indexed the Plex library; build that index now, not inside the first sample.
  await fetch(`${service.url}/api/jobs/plex-index/run`, {
    method: "POST",
    headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` },
  });
  for (;;) {
    const status = (await (await fetch(`${service.url}/api/status`)).json()) as any;
    if (status.indexes.plexItems >= pms.items.size) break;
    await Bun.sleep(100);
  }

  // 1. webhook → Plex call
  console.log("webhook latency …");
  const webhookMs: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const id = ids[(i * 97) % ids.length]!;
    stash.library.update(id, { title: `Webhook ${i}` });
    const t = Date.now();
    await webhook([id]);
    const at = await plexCallAfter(ratingKeyOf.get(id)!, t, 10_000);
    webhookMs.push(at === undefined ? Infinity : at - t);
    await Bun.sleep(20);
  }

  // 2. Stash edit → Plex call, found by polling alone
  console.log(`poll-mode latency (poll every ${POLL} s) …`);
  const pollMs: number[] = [];
  const pollSamples = Math.max(4, Math.round(SAMPLES / 5));
  for (let i = 0; i < pollSamples; i++) {
    await Bun.sleep(Math.random() * POLL * 1000); // edits land at random points of the poll cycle
    const id = ids[(i * 131 + 7) % ids.length]!;
    const t = Date.now();
    stash.library.update(id, { title: `Polled ${i}` });
    const at = await plexCallAfter(ratingKeyOf.get(id)!, t, (POLL + 10) * 1000);
    pollMs.push(at === undefined ? Infinity : at - t);
  }

  // 3. 10,000 changed scenes, no rate limit
  console.log(`pushing ${ids.length} changed scenes …`);
  await Bun.sleep(POLL * 1000 + 500); // let the poller settle on the edits above
  for (const id of ids) stash.library.update(id, { title: `Bulk ${id}` });
  const callsBefore = pms.calls.length;
  const t0 = Date.now();
  await webhook(ids);
  const wanted = new Set(ids.flatMap((id) => itemsOf.get(id)!));
  for (;;) {
    const refreshed = new Set(
      pms.calls
        .slice(callsBefore)
        .filter((c) => c.method === "PUT" && c.ratingKey)
        .map((c) => c.ratingKey),
    );
    if ([...wanted].every((k) => refreshed.has(k))) break;
    if (Date.now() - t0 > 600_000) throw new Error("bulk push did not finish in 10 minutes");
    await Bun.sleep(50);
  }
  const bulkSeconds = (Date.now() - t0) / 1000;
  await Bun.sleep(POLL * 1000 + 1000); // a poll sees the same edits: it must not push again
  await pms.idle();
  const bulkCalls = pms.calls.slice(callsBefore);
  const wrong = ids.filter((id) => itemsOf.get(id)!.some((rk) => pms.items.get(rk)!.title !== `Bulk ${id}`)).length;
  const rss = peakRssMb(service.proc.pid);

  const rows = [
    [
      "webhook → Plex call, p50 / p99",
      `${fmt(median(webhookMs), 0)} / ${fmt(percentile(webhookMs, 99), 0)} ms (${SAMPLES} edits)`,
      "p50 < 1 s",
    ],
    [
      `Stash edit → Plex call, poll mode (poll every ${POLL} s), p50 / max`,
      `${fmt(median(pollMs) / 1000)} / ${fmt(Math.max(...pollMs) / 1000)} s (${pollSamples} edits)`,
      `≤ ${POLL + 2} s`,
    ],
    [
      `${ids.length} changed scenes pushed, no rate limit`,
      `${fmt(bulkSeconds, 1)} s = ${fmt(ids.length / bulkSeconds, 0)} scenes/s`,
      "",
    ],
    [
      "Plex calls per scene (refresh mode, incl. a poll that saw the same edits)",
      `${fmt(bulkCalls.length / ids.length)} (${fmt(wanted.size / ids.length)} items per scene)`,
      "≤ 2",
    ],
    ["items showing the new title afterwards", `${ids.length - wrong} of ${ids.length}`, "all"],
    ["service peak RSS (whole run, incl. the scan)", `${fmt(rss, 0)} MB`, ""],
  ];
  const markdown = [
    `## Push: Stash changes reaching Plex (issue 3)${POLL === 5 && SCENES === 10_000 ? "" : `, poll every ${POLL} s`}`,
    "",
    `Command: \`${commandLine("bench/push.ts")}\` (${SCENES} scenes, poll every ${POLL} s, ${SAMPLES} webhook samples).`,
    `Machine: ${machine()}. The service in its own process; Stash and PMS simulators in the benchmark's process.`,
    "The PMS simulator re-pulls the item from the service on every refresh, as PMS does.",
    "",
    "| measure | result | target |",
    "|---|---|---|",
    ...rows.map(([a, b, c]) => `| ${a} | ${b} | ${c} |`),
  ].join("\n");
  report(process.argv.includes("--section") ? process.argv[process.argv.indexOf("--section") + 1]! : "push", markdown);
} finally {
  service.proc.kill("SIGTERM");
  await pms.stop();
  await stash.stop();
}
