/**
 * `stash2plex demo`: the real service against the bundled Stash and PMS simulators. It seeds
 * a library, lets the simulated PMS scan it through our provider (a movie library) and through
 * our TV provider (a TV library on the episode folder the service writes), edits scenes in Stash
 * and shows the changes reaching Plex, then keeps running so the URLs can be opened.
 * `--once` exits after the walk-through (used by the tests).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify as toYaml } from "yaml";
import { StashSim } from "../sim/stash/server.ts";
import { PmsSim, type SimItem } from "../sim/plex/server.ts";
import { freePort } from "../sim/sim-server.ts";
import { loadConfig } from "./config/load.ts";
import { createApp } from "./app.ts";
import { createLogger, type Logger } from "./log.ts";
import { DEFAULT_INSTANCE_ID, refFromGuid, sceneRef, tvIdentifierOf, tvPathOf } from "./domain/ref.ts";

const IDENTIFIER = "tv.plex.agents.custom.stash2plex";
const TV_IDENTIFIER = tvIdentifierOf(IDENTIFIER);

/** Whether nothing listens on a local port now. */
function portIsFree(port: number): boolean {
  try {
    Bun.serve({ port, hostname: "127.0.0.1", fetch: () => new Response() }).stop(true);
    return true;
  } catch {
    return false;
  }
}

/** A TV item's parent (an episode's season, a season's show) in the PMS simulator. */
const parentOf = (pms: PmsSim, item: SimItem | undefined) => pms.items.get(item?.parentRatingKey ?? "");

export const DEMO_RULES = [
  {
    name: "linux-share",
    plex: "^/media/Scenes/(.*)$",
    stash: "/data/stash/$1",
    plexRoots: ["/media/Scenes"],
    samples: [{ plex: "/media/Scenes/Studio/a.mp4", stash: "/data/stash/Studio/a.mp4" }],
  },
  {
    name: "windows-share",
    plex: "^/media/Windows/(.*)$",
    stash: "D:\\Scenes\\$1",
    plexRoots: ["/media/Windows"],
    stashSeparator: "\\",
    plexSeparator: "/",
    samples: [{ plex: "/media/Windows/Studio/b.mp4", stash: "D:\\Scenes\\Studio\\b.mp4" }],
  },
];

/** Plex's view of the simulated Stash library's files (plus one file Stash does not know). */
/** Where Plex sees a simulated Stash file: /data/stash/… under /media/Scenes, D:\\Scenes\\… under /media/Windows. */
export const plexPathFor = (stashPath: string) =>
  stashPath.startsWith("D:\\")
    ? `/media/Windows/${stashPath.slice("D:\\Scenes\\".length).replaceAll("\\", "/")}`
    : stashPath.replace("/data/stash/", "/media/Scenes/");

export function plexFilesFor(stash: StashSim): string[] {
  const files = [...stash.library.scenes.values()].flatMap((s) => s.files.map((f) => plexPathFor(f.path)));
  return [...files, "/media/Scenes/Unknown/2020-01-01 Not In Stash.mp4"];
}

export async function runDemo(args: string[]): Promise<number> {
  const once = args.includes("--once");
  const say = (line = "") => console.log(line);
  const stash = new StashSim({ scenes: 120, seed: 7 }).start();
  const pms = new PmsSim().start();
  const files = plexFilesFor(stash);
  pms.addSection(
    { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
    files,
  );

  const dataDir = mkdtempSync(join(tmpdir(), "stash2plex-demo-"));
  // The TV library: an episode folder in the data folder (the service writes its links), and a
  // TV section of Plex on it with the TV provider's agent, as a user sets one up.
  const tvFolder = join(dataDir, "tv");
  const tvLibraries = [{ id: "sites", layout: "studio" as const, folder: tvFolder, plexFolder: tvFolder }];
  pms.addSection({ key: "2", title: "Sites", type: "show", agent: TV_IDENTIFIER, locations: [tvFolder] });
  // The port is chosen before the config is made: the provider's public URL (image links) names it.
  let port = Number(process.env.LISTEN_PORT ?? 8787);
  if (!portIsFree(port)) {
    say(`port ${port} is busy; trying a free one`);
    port = freePort();
  }
  const config = loadConfig(
    {
      LISTEN_HOST: "127.0.0.1",
      LISTEN_PORT: String(port),
      STASH_URL: stash.url,
      PLEX_URL: pms.url,
      PLEX_TOKEN: pms.token,
      SYNC_WEBHOOK_TOKEN: "demo-webhook-token",
      SYNC_POLL_SECONDS: "2",
      SYNC_SWEEP_SECONDS: "1",
      DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
      PATHS_RULES: JSON.stringify(DEMO_RULES),
      TV_LIBRARIES: JSON.stringify(tvLibraries),
    },
    undefined,
  );
  // Scenes on the simulated Windows share (D:\Scenes\…) get no link in the episode folder: a
  // D:\ path is no file on this host. Counted for step 2 rather than logged one by one.
  const log = createLogger({ level: "warn", format: "pretty" });
  let unlinked = 0;
  const demoLog: Logger = {
    ...log,
    warn: (msg, fields) => (/is not a path on this system/.test(msg) ? void unlinked++ : log.warn(msg, fields)),
  };
  const app = createApp(config, { log: demoLog });
  // Plex knows both providers before the service starts (as after set-up): the start-up pass
  // writes the episode folder and asks Plex to scan it, through the TV provider.
  const url = `http://127.0.0.1:${port}`;
  const tvUrl = `${url}${tvPathOf("")}`;
  pms.providers.set(IDENTIFIER, url);
  pms.providers.set(TV_IDENTIFIER, tvUrl);
  await app.start(port, "127.0.0.1");
  pms.providerUrl = app.url!;
  await app.stashIndex.refresh();
  // The CLI beside the demo (check, reconcile, sync, map, healthcheck) reads the same settings from its data folder.
  writeFileSync(
    join(dataDir, "config.yaml"),
    toYaml({
      listen: { host: "127.0.0.1", port: Number(new URL(app.url!).port) },
      stash: { url: stash.url },
      plex: { url: pms.url, token: pms.token },
      sync: { webhookToken: "demo-webhook-token" },
      paths: { rules: DEMO_RULES },
      tv: { libraries: tvLibraries },
    }),
  );

  say(`stash2plex demo — the real service against simulated Stash and Plex`);
  say(`  Stash simulator: ${stash.url} (${stash.library.scenes.size} scenes)`);
  say(`  Plex simulator:  ${pms.url} (section "Scenes", ${files.length} files, agent ${IDENTIFIER})`);
  say(`  stash2plex:      ${app.url}`);
  say(`  TV provider:     ${tvUrl} (agent ${TV_IDENTIFIER})`);
  say(`  TV library:      episode folder ${tvFolder} (layout studio), Plex section "Sites" on it`);
  say();
  say(`1. Plex scans its library through our provider (POST /library/metadata/matches, GET /library/metadata/{id}) …`);
  const report = await pms.scan("1", { concurrency: 8 });
  const matched = report.results.filter((r) => "metadata" in r && r.metadata).length;
  say(
    `   ${report.results.length} files in ${report.seconds.toFixed(2)} s: ${matched} matched to Stash scenes, ${report.results.length - matched} left unmatched`,
  );
  say(`   contract violations: ${report.violations.length}`);
  // A movie whose scene is an episode too (it has a studio and a date): the edits below show both.
  const movies = [...pms.items.values()].filter((i) => i.sectionId === "1");
  const episodeOf = (sceneId: string) =>
    [...pms.items.values()].find((i) => i.sectionId === "2" && i.guid === `${TV_IDENTIFIER}://episode/st-${sceneId}`);
  const sceneOf = (item: SimItem) => refFromGuid(item.guid, [{ id: DEFAULT_INSTANCE_ID, identifier: IDENTIFIER }])?.id;
  const dated = (item: SimItem) => {
    const id = sceneOf(item);
    const scene = id ? stash.library.scenes.get(id) : undefined;
    return Boolean(scene?.studio && scene.date && scene.files.length === 1);
  };
  const sample =
    movies.find((i) => i.fields.Role && i.fields.Genre && dated(i)) ??
    movies.find((i) => i.fields.Role && i.fields.Genre);
  if (sample) {
    say(
      `   e.g. ${sample.files[0]} → "${sample.title}" (${sample.fields.studio ?? "no studio"}, ${sample.fields.originallyAvailableAt})`,
    );
    say(
      `        performers: ${sample.fields.Role.map((r: any) => r.tag).join(", ")}; genres: ${sample.fields.Genre.map((g: any) => g.tag).join(", ")}`,
    );
  }
  say();

  say(`2. Plex scans the TV library: the episode folder stash2plex wrote, through the TV provider …`);
  const synced = () => app.scheduler.list().find((j) => j.id === "tv-sync")?.lastSuccessAt;
  for (let i = 0; i < 300 && !synced(); i++) await Bun.sleep(100);
  await pms.idle();
  // The start-up pass asked Plex to scan the folder; a scan now finds what that one left, if anything.
  const tvScan = await pms.scanTv("2");
  const tvItems = (type: string) => [...pms.items.values()].filter((i) => i.sectionId === "2" && i.type === type);
  const [shows, seasons, episodes] = [tvItems("show"), tvItems("season"), tvItems("episode")];
  const unmatched = episodes.filter((e) => !e.guid.startsWith(`${TV_IDENTIFIER}://`)).length;
  say(
    `   ${shows.length} shows (one per studio), ${seasons.length} seasons (a year each), ${episodes.length} episodes; ${unmatched} unmatched`,
  );
  if (unlinked)
    say(`   ${unlinked} scenes on the Windows share have no episode: a D:\\ path is no file this host can link to`);
  say(`   contract violations: ${pms.violations.length + tvScan.violations.length}`);
  const firstEpisode = sample && episodeOf(sceneOf(sample)!);
  if (firstEpisode) {
    const season = parentOf(pms, firstEpisode);
    say(
      `   e.g. "${parentOf(pms, season)?.title}" › ${season?.title} › episode ${firstEpisode.index}: "${firstEpisode.title}" (${firstEpisode.files[0]?.slice(tvFolder.length + 1)})`,
    );
  }
  say();

  const target = sample ?? movies[0]!;
  const sceneId = sceneOf(target)!;
  const newTitle = `Edited in Stash at ${new Date().toISOString().slice(11, 19)} UTC`;

  /** Step 4: the scene's date moves to another year; its episode moves to that season. */
  async function moveDate(): Promise<boolean> {
    const scene = stash.library.scenes.get(sceneId);
    const before = episodeOf(sceneId);
    const from = parentOf(pms, before);
    if (!scene?.date || !before || !from) {
      say(`4. (scene ${sceneId} has no episode to move)`);
      return false;
    }
    const year = scene.date.startsWith("2024") ? 2023 : 2024;
    const date = `${year}-06-15`;
    say(`4. The user moves scene ${sceneId}'s date from ${scene.date} to ${date} in Stash …`);
    stash.library.update(sceneId, { date });
    const begun = performance.now();
    await fetch(`${app.url}/hooks/stash`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer demo-webhook-token" },
      body: JSON.stringify({ hookContext: { type: "Scene.Update.Post", id: Number(sceneId) } }),
    });
    const seasonNow = () => parentOf(pms, episodeOf(sceneId));
    for (let i = 0; i < 200 && seasonNow()?.index !== year; i++) {
      await Bun.sleep(50);
      await pms.idle();
    }
    const to = seasonNow();
    const ok = to?.index === year && episodeOf(sceneId)?.fields.originallyAvailableAt === date;
    say(
      `   its link moved to ${to?.title ?? "?"}: Plex shows the episode in "${parentOf(pms, to)?.title}" › ${to?.title ?? "?"} (it was in ${from.title}) after ${Math.round(performance.now() - begun)} ms ${ok ? "✓" : "✗"}`,
    );
    return ok;
  }
  say(`3. A user renames scene ${sceneId} in Stash to "${newTitle}"; the Stash plugin calls our webhook …`);
  stash.library.update(sceneId, { title: newTitle });
  const started = performance.now();
  await fetch(`${app.url}/hooks/stash`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer demo-webhook-token" },
    body: JSON.stringify({ hookContext: { type: "Scene.Update.Post", id: Number(sceneId) } }),
  });
  for (let i = 0; i < 100 && pms.items.get(target.ratingKey)!.title !== newTitle; i++) {
    await Bun.sleep(50);
    await pms.idle();
  }
  const shown = pms.items.get(target.ratingKey)!.title;
  say(
    `   Plex item ${target.ratingKey} now shows "${shown}" after ${Math.round(performance.now() - started)} ms ${shown === newTitle ? "✓" : "✗"}`,
  );
  // The same push refreshed the scene's episode in the TV library.
  for (let i = 0; i < 100 && episodeOf(sceneId)?.title !== newTitle; i++) {
    await Bun.sleep(50);
    await pms.idle();
  }
  const episodeTitle = episodeOf(sceneId)?.title;
  say(
    `   its episode in the TV library shows "${episodeTitle ?? "(none)"}" too ${episodeTitle === newTitle ? "✓" : "✗"}`,
  );
  say();

  const moved = await moveDate();
  say();

  say(`5. Plex goes down; another edit is queued on disk and lands when Plex is back …`);
  await pms.stop();
  const second = `${newTitle} (while Plex was down)`;
  stash.library.update(sceneId, { title: second });
  await fetch(`${app.url}/hooks/stash`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer demo-webhook-token" },
    body: JSON.stringify({ sceneIds: [sceneId] }),
  });
  await Bun.sleep(1500);
  const waiting = app.queue.job(sceneRef(DEFAULT_INSTANCE_ID, sceneId));
  say(`   kept on disk: ${app.queue.pending()} job(s); last attempt: ${waiting?.last_error ?? "not yet tried"}`);
  pms.start();
  for (let i = 0; i < 200 && pms.items.get(target.ratingKey)!.title !== second; i++) {
    await Bun.sleep(100);
    await pms.idle();
  }
  const after = pms.items.get(target.ratingKey)!.title;
  say(`   Plex is back: item ${target.ratingKey} shows "${after}" ${after === second ? "✓" : "✗"}`);
  say();
  const tvOk =
    episodes.length > 0 &&
    unmatched === 0 &&
    pms.violations.length + tvScan.violations.length === 0 &&
    episodeTitle === newTitle &&
    moved;
  const ok = matched > 0 && report.violations.length === 0 && shown === newTitle && after === second && tvOk;
  if (once) {
    await app.stop();
    await pms.stop();
    await stash.stop();
    rmSync(dataDir, { recursive: true, force: true });
    say(ok ? "demo finished: scan and push worked" : "demo finished with problems (see above)");
    return ok ? 0 : 1;
  }
  // Stopped with Ctrl-C (or a SIGTERM): leave no temporary folder behind.
  const cleanUp = async () => {
    await app.stop();
    await pms.stop();
    await stash.stop();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  };
  process.once("SIGINT", () => void cleanUp());
  process.once("SIGTERM", () => void cleanUp());
  say(`Open the dashboard: ${app.url}/ui  (admin token: ${app.admin.token})`);
  say(`Or: ${app.url}/library/metadata/${sceneId} (what Plex reads), ${app.url}/metrics`);
  if (shows[0])
    say(
      `The TV side: ${tvUrl}/library/metadata/${shows[0].guid.split("/").at(-1)}?includeChildren=1 (a show, its seasons)`,
    );
  say(
    `The CLI on the demo's settings: DATA_DIR=${dataDir} npx bun src/main.ts check  (or reconcile, sync --since 7d, map <path>)`,
  );
  say(`Press Ctrl-C to stop.`);
  return -1;
}
