/**
 * Artwork and delivery confirmation against a PMS that cannot fetch from a LAN (issue 25). The
 * real service in its own process; the Stash and PMS simulators in this one (the PMS simulator
 * sends provider image URLs through a stand-in for Plex's cloud image service, which refuses
 * private addresses, so an item holds artwork only if the service uploaded it).
 *   1. uploads per 1,000 items: a first scan (then the index job), and a re-run with nothing changed
 *   2. one upload as bytes vs as `?url=` (PMS downloads our image itself), median time each
 *   3. push delivery, webhook → delivered: confirmed by PMS's fetch vs by reading the item back
 *      (a PMS sending no client identifier and no PlexMediaServer User-Agent), p50 / p95 each
 *
 *   bun bench/artwork.ts [--scenes 2000] [--samples 30]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StashSim } from "../sim/stash/server.ts";
import { PmsSim } from "../sim/plex/server.ts";
import { plexFilesFor } from "../src/demo.ts";
import {
  BENCH_ADMIN_TOKEN,
  commandLine,
  fmt,
  freePort,
  machine,
  median,
  numberArg,
  percentile,
  report,
  startService,
} from "./lib.ts";

const SCENES = numberArg("scenes", 2000);
const SAMPLES = numberArg("samples", 30);
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
    DATA_DIR: mkdtempSync(join(tmpdir(), "s2p-bench-artwork-")),
  },
  freePort(),
);
pms.providerUrl = service.url;
const admin = { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` };

const ours = () => [...pms.items.values()].filter((i) => /\/movie\/\d+$/.test(i.guid));
const uploads = () => ours().reduce((n, i) => n + i.uploads.posters + i.uploads.arts, 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function jobRun(id: string) {
  const lastOf = async () =>
    ((await (await fetch(`${service.url}/api/status`, { headers: admin })).json()) as any).jobs?.find(
      (j: any) => j.id === id,
    );
  const before = (await lastOf())?.lastSuccessAt ?? null;
  await fetch(`${service.url}/api/jobs/${id}/run`, { method: "POST", headers: admin });
  const started = performance.now();
  while ((await lastOf())?.lastSuccessAt === before) {
    if (performance.now() - started > 300_000) throw new Error(`job ${id} did not finish`);
    await sleep(50);
  }
  return (performance.now() - started) / 1000;
}
const webhook = (ids: string[]) =>
  fetch(`${service.url}/hooks/stash`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ sceneIds: ids }),
  });
/** Webhook → the scene's job delivered (its history's last "delivered" entry), ms; with how it was confirmed. */
async function deliveryMs(id: string, title: string): Promise<{ ms: number; how: string }> {
  stash.library.update(id, { title });
  const sent = Date.now();
  await webhook([id]);
  for (;;) {
    const scene = (await (await fetch(`${service.url}/api/scenes/${id}`, { headers: admin })).json()) as any;
    const delivered = (scene.history ?? []).filter((h: any) => h.event === "delivered" && h.at >= sent).at(-1);
    if (delivered)
      return { ms: delivered.at - sent, how: /reading it back/.test(delivered.detail) ? "read back" : "fetch" };
    if (Date.now() - sent > 60_000) throw new Error(`scene ${id} not delivered within 60 s`);
    await sleep(20);
  }
}

try {
  await pms.scan("1", { concurrency: 16 });
  const items = ours().length;
  const firstSeconds = await jobRun("plex-index");
  const first = uploads();
  const rerunSeconds = await jobRun("plex-index");
  const second = uploads() - first;

  // Bytes vs `?url=` (PMS downloading our image URL itself), each on its own items.
  const targets = ours().slice(0, 2 * SAMPLES);
  const bytes = new Uint8Array(await (await fetch(`${stash.url}/scene/1/screenshot`)).arrayBuffer());
  const timed = async (rk: string, query: string, body?: Uint8Array) => {
    const t = performance.now();
    const res = await fetch(`${pms.url}/library/metadata/${rk}/posters${query}`, {
      method: "POST",
      headers: { "x-plex-token": pms.token, "content-type": "image/png" },
      body,
    });
    if (!res.ok) throw new Error(`upload answered ${res.status}`);
    return performance.now() - t;
  };
  const asBytes: number[] = [];
  const asUrl: number[] = [];
  for (const [i, item] of targets.entries()) {
    const sceneId = item.guid.split("/").at(-1)!;
    if (i % 2) asBytes.push(await timed(item.ratingKey, "", bytes));
    else
      asUrl.push(await timed(item.ratingKey, `?url=${encodeURIComponent(`${service.url}/images/scene/${sceneId}`)}`));
  }

  // Delivery: PMS's fetch (its User-Agent names it), then a PMS naming itself by nothing (read-back).
  const ids = ours()
    .map((i) => i.guid.split("/").at(-1)!)
    .filter((id, k, all) => all.indexOf(id) === k && stash.library.scenes.get(id)!.files.length === 1);
  const byFetch: number[] = [];
  const byReadBack: number[] = [];
  const hows = new Set<string>();
  for (const id of ids.slice(0, SAMPLES)) {
    const r = await deliveryMs(id, `Fetched ${id}`);
    byFetch.push(r.ms);
    hows.add(`fetch:${r.how}`);
  }
  pms.sendsClientIdentifier = false;
  pms.sendsUserAgent = false;
  for (const id of ids.slice(SAMPLES, 2 * SAMPLES)) {
    const r = await deliveryMs(id, `Read back ${id}`);
    byReadBack.push(r.ms);
    hows.add(`readback:${r.how}`);
  }
  if (hows.has("fetch:read back") || hows.has("readback:fetch"))
    throw new Error(`confirmed the other way: ${[...hows]}`);

  const per1000 = (n: number) => fmt((n / items) * 1000, 0);
  const rows = [
    [
      `uploads per 1,000 items, first scan (${items} items; poster and background each)`,
      `${per1000(first)} (${first} uploads, index job ${fmt(firstSeconds, 1)} s)`,
      "≤ 2,000",
    ],
    ["uploads per 1,000 items, re-run with nothing changed", `${per1000(second)} (job ${fmt(rerunSeconds, 1)} s)`, "0"],
    [
      "one poster upload: bytes vs `?url=` (PMS downloads it), median",
      `${fmt(median(asBytes), 1)} ms vs ${fmt(median(asUrl), 1)} ms (ratio ${fmt(median(asUrl) / median(asBytes))})`,
      "",
    ],
    [
      "push delivery, webhook → delivered, p50 / p95: confirmed by PMS's fetch",
      `${fmt(median(byFetch), 0)} / ${fmt(percentile(byFetch, 95), 0)} ms (${byFetch.length} edits)`,
      "",
    ],
    [
      "the same, confirmed by read-back (PMS sends no identifier, no User-Agent)",
      `${fmt(median(byReadBack), 0)} / ${fmt(percentile(byReadBack, 95), 0)} ms (${byReadBack.length} edits; ratio p50 ${fmt(median(byReadBack) / median(byFetch), 0)})`,
      "< the confirm window (300 s)",
    ],
  ];
  const markdown = [
    "## Artwork and delivery confirmation on a PMS that cannot fetch from a LAN (issue 25)",
    "",
    `Command: \`${commandLine("bench/artwork.ts")}\` (${SCENES} scenes, ${SAMPLES} samples each).`,
    `Machine: ${machine()}. The service in its own process, default timings (sweep every 5 s); Stash and PMS simulators in the benchmark's process.`,
    "PMS hands provider image URLs to a stand-in for Plex's cloud image service, which refuses private addresses: every image an item holds was uploaded.",
    "`?url=` works only where PMS itself can reach the URL (here it can; whether a real PMS downloads it through the same cloud service is not known), so uploads are bytes.",
    "Read-back waits 3 s for PMS's fetch, then looks at the item at the worker's next sweep: the figure is that wait, not PMS's speed.",
    "",
    "| measure | result | target |",
    "|---|---|---|",
    ...rows.map(([a, b, c]) => `| ${a} | ${b} | ${c} |`),
  ].join("\n");
  report("artwork", markdown);
} finally {
  service.proc.kill("SIGTERM");
  await pms.stop();
  await stash.stop();
}
