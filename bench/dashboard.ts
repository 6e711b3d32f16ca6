/**
 * Dashboard and metrics benchmark (issues 8 and 17). The real service (its own process) against
 * a Stash simulator with 50,000 scenes (its own process) and a PMS simulator, with 10,000 rows
 * of push history, 500 deliveries and 10,000 dead letters in its database. Measures, side by
 * side in one run: the overview page and its live fragment, the queue page (first and last
 * page of the dead letters, its live part, the API's page) with its size, a /metrics scrape,
 * and the provider's match latency alone and while 5 browsers poll the dashboard every second.
 *
 * Match latency is taken in alternating 10-second blocks (alone, watched, alone, watched), so
 * both conditions see the same machine.
 *
 *   bun bench/dashboard.ts [--scenes 50000] [--history 10000] [--dead-letters 10000] [--block-seconds 10]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PmsSim } from "../sim/plex/server.ts";
import { SimLibrary } from "../sim/stash/library.ts";
import { openStore } from "../src/store/db.ts";
import { DEMO_RULES, plexPathFor } from "../src/demo.ts";
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
  startStashSim,
} from "./lib.ts";

const SCENES = numberArg("scenes", 50_000);
const HISTORY = numberArg("history", 10_000);
const DEAD = numberArg("dead-letters", 10_000);
const MATCHES = 3000;
const BLOCK_MS = numberArg("block-seconds", 10) * 1000;
const SEED = 5;
const auth = { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` };

// A database with history already in it, as after months of use.
const dataDir = mkdtempSync(join(tmpdir(), "s2p-bench-"));
const store = openStore(dataDir);
const now = Date.now();
store.db.transaction(() => {
  const history = store.db.query("INSERT INTO job_history (scene_id, at, event, detail) VALUES (?, ?, ?, ?)");
  for (let i = 0; i < HISTORY; i++)
    history.run(
      String(1 + (i % SCENES)),
      now - (HISTORY - i) * 60_000,
      i % 3 ? "delivered" : "queued",
      "bench history",
    );
  const delivered = store.db.query(
    "INSERT INTO delivered (scene_id, stash_updated_at, at, rating_key) VALUES (?, ?, ?, ?)",
  );
  for (let i = 0; i < 500; i++) delivered.run(String(i + 1), null, now - i * 30_000, String(i + 1));
  const dead = store.db.query(
    "INSERT INTO dead_letters (scene_id, reason, attempts, first_queued_at, died_at, last_error) VALUES (?, 'bench', 50, ?, ?, 'Plex item gone')",
  );
  // Scenes Stash has (their titles come from the service's index, as in use).
  for (let i = 0; i < DEAD; i++) dead.run(String(1 + (i % SCENES)), now - 86_400_000, now - 3_600_000 - i * 1000);
})();
store.close();

const library = new SimLibrary(() => "", { scenes: SCENES, seed: SEED });
const files = [...library.scenes.values()].slice(0, MATCHES).map((s) => plexPathFor(s.files[0]!.path));
const stash = await startStashSim(SCENES, SEED);
const pms = new PmsSim().start();
pms.addSection(
  {
    key: "1",
    title: "Scenes",
    type: "movie",
    agent: "tv.plex.agents.custom.stash2plex",
    locations: ["/media/Scenes", "/media/Windows"],
  },
  [],
);
const service = await startService(
  {
    STASH_URL: stash.url,
    PLEX_URL: pms.url,
    PLEX_TOKEN: pms.token,
    DATA_DIR: dataDir,
    PATHS_RULES: JSON.stringify(DEMO_RULES),
    SYNC_POLL_SECONDS: "0",
    ADMIN_OPEN_READS: "false",
  },
  freePort(),
);
try {
  for (;;) {
    const status = (await (await fetch(`${service.url}/api/status`, { headers: auth })).json()) as any;
    if (status.indexes.stashScenes >= SCENES) break;
    await Bun.sleep(100);
  }
  const bytes: Record<string, number> = {};
  const timed = async (path: string, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const res = await fetch(`${service.url}${path}`, { headers: auth });
      // A page answered by the sign-in form would be a redirect: only the page itself counts.
      if (res.status !== 200 || !res.url.endsWith(path))
        throw new Error(`${path} answered ${res.status} from ${res.url}`);
      bytes[path] = (await res.arrayBuffer()).byteLength;
      out.push(performance.now() - t);
    }
    return out;
  };
  const overview = await timed("/ui", 200);
  const fragment = await timed("/ui/live/overview", 200);
  const metrics = await timed("/metrics", 200);
  const lastPage = Math.floor((DEAD - 1) / 50) * 50;
  const queueFirst = await timed("/ui/queue", 100);
  const queueLast = await timed(`/ui/queue?dead=${lastPage}`, 100);
  const queueLive = await timed("/ui/live/queue", 100);
  const deadApi = await timed("/api/dead-letters?offset=0&limit=50", 100);
  const kb = (path: string) => `${(bytes[path]! / 1024).toFixed(1)} KB`;

  const match = (i: number) =>
    fetch(`${service.url}/library/metadata/matches`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: 1, filename: files[i % files.length]!.replace(/^\/media\//, "") }),
    })
      .then((r) => r.arrayBuffer())
      .then(() => {});
  /** Matches from 4 clients for one block; each latency in ms. */
  const block = async () => {
    const out: number[] = [];
    const until = performance.now() + BLOCK_MS;
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (performance.now() < until) {
          const t = performance.now();
          await match(next++);
          out.push(performance.now() - t);
        }
      }),
    );
    return out;
  };
  // Five browsers with the overview open: each fetches the live fragment every second.
  let polls = 0;
  const watching = async (work: () => Promise<number[]>) => {
    let polling = true;
    const browsers = Array.from({ length: 5 }, async (_, b) => {
      await Bun.sleep(b * 200);
      while (polling) {
        await fetch(`${service.url}/ui/live/overview`, { headers: auth }).then((r) => r.arrayBuffer());
        polls++;
        await Bun.sleep(1000);
      }
    });
    const result = await work();
    polling = false;
    await Promise.all(browsers);
    return result;
  };
  await block(); // warm-up
  const alone: number[] = [];
  const watched: number[] = [];
  for (let round = 0; round < 2; round++) {
    alone.push(...(await block()));
    watched.push(...(await watching(block)));
  }

  const rows = [
    ["overview page (/ui) p50 / p99", `${fmt(median(overview))} / ${fmt(percentile(overview, 99))} ms`, "p50 < 50 ms"],
    ["overview live fragment p50 / p99", `${fmt(median(fragment))} / ${fmt(percentile(fragment, 99))} ms`, ""],
    ["/metrics scrape p50 / p99", `${fmt(median(metrics))} / ${fmt(percentile(metrics, 99))} ms`, "p50 < 20 ms"],
    [
      `queue page (/ui/queue), ${DEAD} dead letters, first page: p50 / p99, size`,
      `${fmt(median(queueFirst))} / ${fmt(percentile(queueFirst, 99))} ms, ${kb("/ui/queue")}`,
      "< 300 ms, < 200 KB",
    ],
    [
      `queue page, last page (dead=${lastPage}): p50 / p99, size`,
      `${fmt(median(queueLast))} / ${fmt(percentile(queueLast, 99))} ms, ${kb(`/ui/queue?dead=${lastPage}`)}`,
      "< 300 ms, < 200 KB",
    ],
    ["queue page last ÷ first page p50", fmt(median(queueLast) / median(queueFirst)), ""],
    [
      "queue live part (/ui/live/queue, every 5 s per open page) p50 / p99, size",
      `${fmt(median(queueLive))} / ${fmt(percentile(queueLive, 99))} ms, ${kb("/ui/live/queue")}`,
      "",
    ],
    [
      "GET /api/dead-letters?limit=50 p50 / p99, size",
      `${fmt(median(deadApi))} / ${fmt(percentile(deadApi, 99))} ms, ${kb("/api/dead-letters?offset=0&limit=50")}`,
      "",
    ],
    ["match p50 / p99, alone", `${fmt(median(alone))} / ${fmt(percentile(alone, 99))} ms`, ""],
    [
      `match p50 / p99, 5 browsers polling every second (${polls} polls)`,
      `${fmt(median(watched))} / ${fmt(percentile(watched, 99))} ms`,
      "",
    ],
    ["match p50 with ÷ without the dashboard", fmt(median(watched) / median(alone)), "≤ 1.1"],
  ];
  report(
    "dashboard",
    [
      "## Dashboard and metrics (issues 8 and 17)",
      "",
      `Command: \`${commandLine("bench/dashboard.ts")}\` (${SCENES} scenes, ${HISTORY} history rows, ${DEAD} dead letters with titles, matches from 4 clients in alternating ${BLOCK_MS / 1000}-second blocks).`,
      `Machine: ${machine()}. Service and Stash simulator in their own processes; the PMS simulator and the clients in the bench process.`,
      "Times are measured by the client over loopback, so they include the HTTP round trip (an upper bound of the server time).",
      "",
      "| measure | result | target |",
      "|---|---|---|",
      ...rows.map(([a, b, c]) => `| ${a} | ${b} | ${c} |`),
    ].join("\n"),
  );
} finally {
  service.proc.kill("SIGTERM");
  stash.proc.kill("SIGTERM");
  await pms.stop();
}
