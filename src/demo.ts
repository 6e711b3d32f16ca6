/**
 * `stash2plex demo`: the real service against the bundled Stash and PMS simulators. It seeds
 * a library, lets the simulated PMS scan it through our provider, edits a scene in Stash and
 * shows the change reaching Plex, then keeps running so the URLs can be opened.
 * `--once` exits after the walk-through (used by the tests).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify as toYaml } from "yaml";
import { StashSim } from "../sim/stash/server.ts";
import { PmsSim } from "../sim/plex/server.ts";
import { loadConfig } from "./config/load.ts";
import { createApp } from "./app.ts";
import { createLogger } from "./log.ts";
import { DEFAULT_INSTANCE_ID, refFromGuid, sceneRef } from "./domain/ref.ts";

const IDENTIFIER = "tv.plex.agents.custom.stash2plex";

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
  const port = Number(process.env.LISTEN_PORT ?? 8787);
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
    },
    undefined,
  );
  const app = createApp(config, { log: createLogger({ level: "warn", format: "pretty" }) });
  try {
    await app.start(port, "127.0.0.1");
  } catch {
    say(`port ${port} is busy; trying a free one`);
    await app.start(0, "127.0.0.1");
  }
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
    }),
  );

  say(`stash2plex demo — the real service against simulated Stash and Plex`);
  say(`  Stash simulator: ${stash.url} (${stash.library.scenes.size} scenes)`);
  say(`  Plex simulator:  ${pms.url} (section "Scenes", ${files.length} files, agent ${IDENTIFIER})`);
  say(`  stash2plex:      ${app.url}`);
  say();
  say(`1. Plex scans its library through our provider (POST /library/metadata/matches, GET /library/metadata/{id}) …`);
  const report = await pms.scan("1", { concurrency: 8 });
  const matched = report.results.filter((r) => "metadata" in r && r.metadata).length;
  say(
    `   ${report.results.length} files in ${report.seconds.toFixed(2)} s: ${matched} matched to Stash scenes, ${report.results.length - matched} left unmatched`,
  );
  say(`   contract violations: ${report.violations.length}`);
  const sample = [...pms.items.values()].find((i) => i.fields.Role && i.fields.Genre);
  if (sample) {
    say(
      `   e.g. ${sample.files[0]} → "${sample.title}" (${sample.fields.studio ?? "no studio"}, ${sample.fields.originallyAvailableAt})`,
    );
    say(
      `        performers: ${sample.fields.Role.map((r: any) => r.tag).join(", ")}; genres: ${sample.fields.Genre.map((g: any) => g.tag).join(", ")}`,
    );
  }
  say();

  const target = sample ?? [...pms.items.values()][0]!;
  const sceneId = refFromGuid(target.guid, [{ id: DEFAULT_INSTANCE_ID, identifier: IDENTIFIER }])!.id;
  const newTitle = `Edited in Stash at ${new Date().toISOString().slice(11, 19)} UTC`;
  say(`2. A user renames scene ${sceneId} in Stash to "${newTitle}"; the Stash plugin calls our webhook …`);
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
  say();

  say(`3. Plex goes down; another edit is queued on disk and lands when Plex is back …`);
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
  const ok = matched > 0 && report.violations.length === 0 && shown === newTitle && after === second;
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
  say(
    `The CLI on the demo's settings: DATA_DIR=${dataDir} npx bun src/main.ts check  (or reconcile, sync --since 7d, map <path>)`,
  );
  say(`Press Ctrl-C to stop.`);
  return -1;
}
