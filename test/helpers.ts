/** Shared set-up for end-to-end tests: simulators, a real service on a free port, a temp data folder. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StashSim } from "../sim/stash/server.ts";
import { PmsSim } from "../sim/plex/server.ts";
import { loadConfig } from "../src/config/load.ts";
import { createApp, type App } from "../src/app.ts";
import { silentLogger } from "../src/log.ts";
import { DEMO_RULES, plexFilesFor } from "../src/demo.ts";
import type { SeedOptions, SimScene } from "../sim/stash/library.ts";
import { DEFAULT_INSTANCE_ID, sceneRef } from "../src/domain/ref.ts";

export const IDENTIFIER = "tv.plex.agents.custom.stash2plex";
export const WEBHOOK_TOKEN = "test-webhook-token-123";
export const ADMIN_TOKEN = "test-admin-token-456";
/** Headers of an operator (the admin token). */
export const adminAuth = { authorization: `Bearer ${ADMIN_TOKEN}` };
/** GET with the admin token. */
export const adminGet = (url: string) => fetch(url, { headers: adminAuth });
/** Scene `id` of the default Stash instance, as the queue names it. */
export const scene = (id: string) => sceneRef(DEFAULT_INSTANCE_ID, id);

/** Every temporary folder the tests made; test/setup.ts removes them when the run ends. */
export const madeTempDirs: string[] = [];
export const tempDir = (prefix = "s2p-test-") => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  madeTempDirs.push(dir);
  return dir;
};

export interface World {
  stash: StashSim;
  pms: PmsSim;
  app: App;
  files: string[];
  close(): Promise<void>;
}

export function testEnv(
  stash: StashSim,
  pms: PmsSim | undefined,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    STASH_URL: stash.url,
    STASH_TIMEOUT_MS: "2000",
    DATA_DIR: tempDir(),
    PATHS_RULES: JSON.stringify(DEMO_RULES),
    SYNC_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
    ADMIN_TOKEN,
    SYNC_POLL_SECONDS: "0",
    // Collections (on by default for users) are the subject of their own tests (collections.test.ts);
    // elsewhere they would add their pass's requests to counts those tests make exact.
    COLLECTIONS_KINDS: "[]",
    ...(pms ? { PLEX_URL: pms.url, PLEX_TOKEN: pms.token } : {}),
    ...extra,
  };
}

/**
 * Plex's section "1" scanned through a scratch service's provider (push off, a scratch data
 * folder): the same files scanned in the same order give the same rating keys, and the GUIDs are
 * today's provider's (the upgrade tests rebuild the library a fixture was made against).
 */
export async function scanThroughScratchProvider(stash: StashSim, pms: PmsSim): Promise<void> {
  const scanner = createApp(loadConfig(testEnv(stash, undefined), undefined), { log: silentLogger });
  await scanner.start(0, "127.0.0.1");
  pms.providerUrl = scanner.url!;
  await scanner.stashIndex.refresh();
  await pms.scan("1");
  await scanner.stop();
}

/** Stash and PMS simulators plus the real service, wired like the demo. */
export async function startWorld(
  options: { seed?: Partial<SeedOptions>; env?: Record<string, string>; push?: boolean } = {},
): Promise<World> {
  const stash = new StashSim({ scenes: 200, seed: 3, ...options.seed }).start();
  const pms = new PmsSim().start();
  const files = plexFilesFor(stash);
  pms.addSection(
    { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
    files,
  );
  const config = loadConfig(testEnv(stash, options.push === false ? undefined : pms, options.env), undefined);
  const app = createApp(config, { log: silentLogger });
  await app.start(0, "127.0.0.1");
  pms.providerUrl = app.url!;
  await app.stashIndex.refresh();
  return {
    stash,
    pms,
    app,
    files,
    async close() {
      await app.stop();
      await pms.stop();
      await stash.stop();
      rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  stepMs = 25,
): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await condition()) return true;
    await Bun.sleep(stepMs);
  }
  return condition();
}

export const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

export const MAIN = join(import.meta.dir, "../src/main.ts");

/** The real service (`bun src/main.ts …`) in its own process, JSON logs on stdout. */
export function spawnMain(env: Record<string, string>, args: string[] = ["serve"]) {
  return Bun.spawn([process.execPath, MAIN, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env, LOG_FORMAT: "json" },
    stdout: "pipe",
    stderr: "pipe",
  });
}

/** A process run to its end: what it printed and its exit code. */
export async function runProcess(
  cmd: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
) {
  const proc = Bun.spawn(cmd, { ...options, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { out, err, code };
}

/** A one-shot command (`bun src/main.ts reconcile …`) run to its end: what it printed and its exit code. */
export const runMain = (env: Record<string, string>, args: string[]) =>
  runProcess([process.execPath, MAIN, ...args], { env: { PATH: process.env.PATH ?? "", ...env } });

/** Waits until the service on `port` answers /healthz. */
export async function healthy(port: number) {
  return waitFor(
    async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
      } catch {
        return false;
      }
    },
    10_000,
    20,
  );
}

/** Adds a scene like scene 1 but with these files (Stash paths) and fields; returns its id. */
export function addStashScene(stash: StashSim, files: string[], patch: Partial<SimScene> = {}): string {
  const library = stash.library;
  const base = library.scenes.get("1")!;
  const id = String(Math.max(...[...library.scenes.keys()].map(Number)) + 1);
  library.add({
    ...base,
    id,
    title: `Set ${id}`,
    date: null,
    updated_at: library.clock.stamp(),
    ...patch,
    files: files.map((path, k) => ({
      ...base.files[0]!,
      id: `${id}${k}`,
      path,
      basename: path.split(/[\\/]/).at(-1)!,
    })),
  });
  return id;
}

/** A path rule mapping Plex's /media/<Folder>/ to a Stash simulator's root. */
const folderRule = (name: string, folder: string, root: string) => ({
  name,
  plex: `^/media/${folder}/(.*)$`,
  stash: `${root}/$1`,
  plexRoots: [`/media/${folder}`],
});

/**
 * STASH_INSTANCES for two Stash simulators: "Main" (the default; Plex sees its /data/main files
 * under /media/Main) and "Vault" (id vault; /data/vault under /media/Vault).
 */
export function twoStashInstances(
  main: { url: string },
  vault: { url: string },
  options: { apiKey?: string; rule?: string } = {},
): string {
  return JSON.stringify([
    { name: "Main", url: main.url, paths: { rules: [folderRule("main", "Main", "/data/main")] } },
    {
      id: "vault",
      name: "Vault",
      url: vault.url,
      ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      paths: { rules: [folderRule(options.rule ?? "vault", "Vault", "/data/vault")] },
    },
  ]);
}
