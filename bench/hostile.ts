/**
 * Hostile-input benchmark (issue: one request must never take the service down). The real
 * service in its own process; Stash and PMS simulators in this one. While /healthz is probed
 * every 10 ms, it receives the 46 malformed raw requests, bodies built to exhaust memory or
 * the stack, and 20,000 fuzzed requests (16 at once). Counted: crashes, 500s, /healthz
 * latency throughout, and the service's peak RSS.
 *
 *   bun bench/hostile.ts [--requests 20000]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StashSim } from "../sim/stash/server.ts";
import { PmsSim } from "../sim/plex/server.ts";
import { DEMO_RULES, plexFilesFor } from "../src/demo.ts";
import { rawRequest } from "../test/raw-http.ts";
import { MALFORMED_REQUESTS, nested } from "../test/hostile-requests.ts";
import { createFuzzer } from "../test/fuzz.ts";
import {
  commandLine,
  concurrently,
  fmt,
  freePort,
  machine,
  median,
  numberArg,
  peakRssMb,
  percentile,
  report,
  startService,
  BENCH_ADMIN_TOKEN,
} from "./lib.ts";

const REQUESTS = numberArg("requests", 20_000);
const TOKEN = "bench-hostile-token";
const IDENTIFIER = "tv.plex.agents.custom.stash2plex";

const stash = new StashSim({ scenes: 2000, seed: 3 }).start();
const pms = new PmsSim().start();
pms.addSection(
  { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
  plexFilesFor(stash),
);
const port = freePort();
const service = await startService(
  {
    STASH_URL: stash.url,
    PLEX_URL: pms.url,
    PLEX_TOKEN: pms.token,
    SYNC_WEBHOOK_TOKEN: TOKEN,
    DATA_DIR: mkdtempSync(join(tmpdir(), "s2p-bench-hostile-")),
    PATHS_RULES: JSON.stringify(DEMO_RULES),
  },
  port,
);
pms.providerUrl = service.url;
await pms.scan("1", { concurrency: 16 });

// /healthz every 10 ms for the whole run, timed from a process of its own (this one is busy).
const prober = Bun.spawn([process.execPath, join(import.meta.dir, "probe.ts"), `${service.url}/healthz`, "10"], {
  stdin: "pipe",
  stdout: "pipe",
});
async function probeResults(): Promise<{ ms: number[]; failed: number }> {
  prober.stdin.end();
  return JSON.parse(await new Response(prober.stdout).text());
}

const statuses = new Map<number, number>();
const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
const send = (path: string, init: RequestInit) =>
  fetch(`${service.url}${path}`, init).then(
    async (r) => (await r.arrayBuffer(), count(r.status)),
    () => count(0),
  );

try {
  console.log(`${MALFORMED_REQUESTS.length} malformed raw requests …`);
  for (const request of MALFORMED_REQUESTS) count((await rawRequest(port, request, 1500)).status);

  console.log("nested and huge bodies …");
  const json = { "content-type": "application/json" };
  const auth = { ...json, authorization: `Bearer ${TOKEN}` };
  await send("/hooks/stash", { method: "POST", headers: json, body: nested(30_000) });
  await send("/hooks/stash", { method: "POST", headers: auth, body: nested(30_000) });
  await send("/hooks/stash", { method: "POST", headers: auth, body: nested(30_000).slice(0, 60_000) });
  await send("/api/dead-letters/requeue", {
    method: "POST",
    headers: { ...json, authorization: `Bearer ${BENCH_ADMIN_TOKEN}` },
    body: `{"sceneIds":${nested(5000)}}`,
  });
  await send("/library/metadata/matches", { method: "POST", headers: json, body: `{"title":${nested(20_000)}}` });
  await send("/library/metadata/matches", {
    method: "POST",
    headers: json,
    body: JSON.stringify({ title: "x".repeat(10 * 1024 * 1024) }),
  });

  console.log(`${REQUESTS} fuzzed requests, 16 at once …`);
  const next = createFuzzer(42);
  const started = performance.now();
  await concurrently(REQUESTS, 16, async () => {
    const r = next();
    await send(r.path, { method: r.method, headers: r.headers, body: r.body });
  });
  const seconds = (performance.now() - started) / 1000;
  const { ms: healthMs, failed: healthFailures } = await probeResults();
  const crashed = service.proc.exitCode !== null;
  const rss = crashed ? NaN : peakRssMb(service.proc.pid);
  const fiveHundreds = statuses.get(500) ?? 0;
  const other5xx =
    [...statuses]
      .filter(([s]) => s > 500)
      .map(([s, n]) => `${n} × ${s}`)
      .join(", ") || "none";
  const rows = [
    [
      "requests sent",
      `${MALFORMED_REQUESTS.length} raw malformed + 6 nested/huge bodies + ${REQUESTS} fuzzed (${fmt(REQUESTS / seconds, 0)}/s)`,
      "",
    ],
    ["process crashes", crashed ? "1 (the process exited)" : "0", "0"],
    ["answers 500", String(fiveHundreds), "0"],
    ["other 5xx", `${other5xx} (505: Bun's HTTP parser refusing a broken request line, before any route)`, ""],
    [
      "/healthz latency during the run, p50 / p99 / max",
      `${fmt(median(healthMs), 1)} / ${fmt(percentile(healthMs, 99), 1)} / ${fmt(Math.max(...healthMs), 1)} ms (${healthMs.length} probes, ${healthFailures} failed)`,
      "max < 50 ms",
    ],
    ["service peak RSS (whole run, incl. a 2,000-scene scan)", `${fmt(rss, 0)} MB`, "< 200 MB"],
  ];
  const markdown = [
    "## Hostile input (issue 12)",
    "",
    `Command: \`${commandLine("bench/hostile.ts")}\`. Machine: ${machine()}.`,
    "The service in its own process; the Stash (2,000 scenes) and PMS simulators and the load in the benchmark's process;",
    "the /healthz probe in a third (bench/probe.ts). All three share the machine's 2 cores. Statuses seen: " +
      [...statuses]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s === 0 ? "no answer" : s}: ${n}`)
        .join(", ") +
      ".",
    "",
    "| measure | result | target |",
    "|---|---|---|",
    ...rows.map(([a, b, c]) => `| ${a} | ${b} | ${c} |`),
  ].join("\n");
  report("hostile", markdown);
} finally {
  prober.kill();
  service.proc.kill("SIGTERM");
  await pms.stop();
  await stash.stop();
}
