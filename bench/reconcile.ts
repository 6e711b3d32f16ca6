/**
 * Reconcile benchmark (issue 7). A Stash simulator with 50,000 scenes (its own process), a
 * PMS simulator holding 50,000 items with the metadata the provider serves (1% of them
 * hand-edited), and the real `stash2plex reconcile --json` as its own process: wall time,
 * Stash and Plex requests per 1,000 scenes, peak RSS. Side by side in the same run: a naive
 * reconcile that looks each scene up in Plex (one request per scene, as the seed's project
 * does), on a 2,000-scene slice, extrapolated.
 *
 *   bun bench/reconcile.ts [--scenes 50000] [--drift 0.01] [--slice 2000]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PmsSim } from "../test/sim/plex/server.ts";
import { createStashClient } from "../src/stash/client.ts";
import { loadConfig } from "../src/config/load.ts";
import { metadataContext } from "../src/app.ts";
import { sceneGuid, sceneToMetadata } from "../src/provider/metadata.ts";
import { expectedFields, shownFields, differingFields } from "../src/gaps/compare.ts";
import { DEMO_RULES, plexPathFor } from "../src/demo.ts";
import type { StashScene } from "../src/schema/stash.ts";
import { ROOT, commandLine, fmt, machine, numberArg, peakRssMb, report, startStashSim } from "./lib.ts";

const SCENES = numberArg("scenes", 50_000);
const DRIFT = numberArg("drift", 0.01);
const SLICE = numberArg("slice", 2000);
const IDENTIFIER = "tv.plex.agents.custom.stash2plex";

console.log(`starting the Stash simulator (${SCENES} scenes) …`);
const stash = await startStashSim(SCENES, 9);
const pms = new PmsSim().start();
try {
  const env = {
    STASH_URL: stash.url, PLEX_URL: pms.url, PLEX_TOKEN: pms.token, DATA_DIR: mkdtempSync(join(tmpdir(), "s2p-bench-")),
    PATHS_RULES: JSON.stringify(DEMO_RULES), LOG_LEVEL: "warn",
  };
  const ctx = metadataContext(loadConfig(env, undefined));
  const client = createStashClient({ url: stash.url, apiKey: "", timeoutMs: 60_000 });

  // Plex holds every scene's files as items showing what the provider serves (built from Stash itself).
  console.log("filling the PMS simulator …");
  pms.addSection({ key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] }, []);
  const scenes: StashScene[] = [];
  for (let page = 1; ; page++) {
    const { items } = await client.scenesPage(page, 1000);
    scenes.push(...items);
    if (items.length < 1000) break;
  }
  const bySceneItem = new Map<string, string>();
  for (const scene of scenes) {
    for (const file of scene.files) {
      const item = pms.addItem("1", plexPathFor(file.path), { guid: sceneGuid(IDENTIFIER, scene.id), fields: sceneToMetadata(scene, ctx) });
      item.title = item.fields.title;
      bySceneItem.set(scene.id, item.ratingKey);
    }
  }
  const drifted = scenes.filter((_, i) => i % Math.round(1 / DRIFT) === 7);
  for (const scene of drifted) {
    const item = pms.items.get(bySceneItem.get(scene.id)!)!;
    item.fields = { ...item.fields, title: "Edited in Plex" };
    item.title = "Edited in Plex";
  }

  // 1. The real reconcile, its own process.
  const s0 = (await stash.stats()).queries;
  const p0 = pms.calls.length;
  const started = performance.now();
  const proc = Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), "reconcile", "--json"], { env: { PATH: process.env.PATH ?? "", ...env }, stdout: "pipe", stderr: "inherit" });
  // Peak RSS: the kernel's high-water mark (VmHWM) of the process, read until it exits.
  let peakMb = 0;
  const sampler = setInterval(() => {
    try {
      const now = peakRssMb(proc.pid); // NaN once it has exited (a zombie has no memory figures)
      if (now > peakMb) peakMb = now;
    } catch {}
  }, 25);
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  const stashRequests = (await stash.stats()).queries - s0;
  const plexRequests = pms.calls.length - p0;
  const result = JSON.parse(out) as { run: { counts: Record<string, number>; scenes: number; items: number } };

  // 2. Naive, side by side: every scene looked up in Plex by its GUID, one request each, on a slice.
  const slice = scenes.slice(0, SLICE);
  const n0 = pms.calls.length;
  const naiveStarted = performance.now();
  let naiveStale = 0;
  for (const scene of slice) {
    const url = new URL(`${pms.url}/library/sections/1/all`);
    url.searchParams.set("guid", sceneGuid(IDENTIFIER, scene.id));
    const res = await fetch(url, { headers: { accept: "application/json", "x-plex-token": pms.token } });
    const item = ((await res.json()) as any).MediaContainer.Metadata?.[0];
    if (item && differingFields(expectedFields(sceneToMetadata(scene, ctx), "critic", scene.rating100), shownFields(item, "critic"), true).length) naiveStale++;
  }
  const naiveSeconds = ((performance.now() - naiveStarted) / 1000) * (SCENES / SLICE);
  const naivePlexPer1000 = ((pms.calls.length - n0) / SLICE) * 1000;

  const rows = [
    ["scenes / Plex items", `${result.run.scenes} / ${result.run.items}`, ""],
    ["gaps found", `${JSON.stringify(result.run.counts)} (planted: ${drifted.length} stale)`, `${drifted.length} stale, nothing else`],
    ["wall time (process start to report)", `${fmt(seconds, 1)} s`, "< 60 s"],
    ["Stash requests per 1,000 scenes", fmt((stashRequests / SCENES) * 1000, 1), "≤ 10"],
    ["Plex requests per 1,000 scenes", fmt((plexRequests / SCENES) * 1000, 1), "≤ 10"],
    ["peak RSS of the reconcile process", `${fmt(peakMb, 0)} MB`, "< 250 MB"],
    [`naive (one Plex lookup per scene), ${SLICE} scenes extrapolated to ${SCENES}`, `${fmt(naiveSeconds, 1)} s, ${fmt(naivePlexPer1000, 0)} Plex requests per 1,000 scenes (found ${naiveStale} of the ${drifted.filter((s) => slice.includes(s)).length} drifted in the slice: one item per GUID, so a two-file scene's second item is not seen)`, ""],
    ["naive ÷ reconcile, wall time", fmt(naiveSeconds / seconds, 1), ""],
  ];
  report("reconcile", [
    "## Reconcile: the whole library against Plex (issue 7)",
    "",
    `Command: \`${commandLine("bench/reconcile.ts")}\` (${SCENES} scenes, ${DRIFT * 100}% of Plex items hand-edited).`,
    `Machine: ${machine()}. Stash simulator, PMS simulator (in the bench process) and \`stash2plex reconcile --json\` each in their own process.`,
    "",
    "| measure | result | target |",
    "|---|---|---|",
    ...rows.map(([a, b, c]) => `| ${a} | ${b} | ${c} |`),
    "",
    "Both sides are read in pages of 1,000 (Stash: every scene with the fields the provider maps;",
    "Plex: the synced sections' listings). Plex items are held compactly; Stash pages stream past",
    "the detector. The naive approach is the same comparison with one Plex request per scene.",
  ].join("\n"));
} finally {
  stash.proc.kill("SIGTERM");
  await pms.stop();
}
