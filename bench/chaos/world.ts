/**
 * The chaos soak's world: two Stash simulators (the default instance, whose clock crosses a DST
 * change at UTC−05:00, and "vault"), one PMS simulator with a movie section for each and a TV
 * section on a real episode folder, all in this process so they outlive the service; and the
 * service itself as its own process (`bun src/main.ts serve`) on one data folder, which the
 * driver kills with SIGKILL and starts again.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim, type SimItem } from "../../sim/plex/server.ts";
import { freePort } from "../../sim/sim-server.ts";
import { tvIdentifierOf } from "../../src/domain/ref.ts";

export const IDENTIFIER = "tv.plex.agents.custom.stash2plex";
export const VAULT = `${IDENTIFIER}.vault`;
export const TV = tvIdentifierOf(IDENTIFIER);
export const ADMIN_TOKEN = "chaos-admin-token";
export const STASH_HOOK_TOKEN = "chaos-stash-hook-token";
export const PLEX_HOOK_TOKEN = "chaos-plex-hook-token";
/** A Stash that answers slower than this is a timeout to the service (the "Stash times out" fault). */
export const STASH_TIMEOUT_MS = 1000;
/** A Plex slower than this is a timeout to the service (the slowest "PMS slow" fault passes it). */
export const PLEX_TIMEOUT_MS = 1500;

/** One Stash instance: its simulator, its id in the service, where Plex sees its files. */
export interface Instance {
  id: "default" | "vault";
  stash: StashSim;
  /** The movie section of its scenes and the GUID scheme of its items. */
  section: string;
  identifier: string;
  root: string;
  plexRoot: string;
}

export interface WorldOptions {
  /** Scenes in each Stash. */
  scenes: number;
  seed: number;
}

/**
 * Retry and poll timings compressed (as the e2e tests do): a real minute of backoff is a second
 * here. Attempts are not the limit under test: a job is a dead letter only after 168 hours of
 * real time, which a compressed run never reaches, so maxAttempts is raised to match it.
 */
const FAST = {
  SYNC_POLL_SECONDS: "1",
  SYNC_RETRY_BASE_SECONDS: "0.05",
  SYNC_RETRY_CAP_SECONDS: "0.5",
  SYNC_SWEEP_SECONDS: "1",
  SYNC_DRAIN_PER_SECOND: "200",
  SYNC_CONFIRM_SECONDS: "3",
  SYNC_MAX_ATTEMPTS: "1000000",
  WRITEBACK_CATCH_UP_SECONDS: "5",
  // No reconcile heals behind the push pipeline's back during the soak.
  RECONCILE_AFTER_START_MINUTES: "0",
};

const rule = (name: string, folder: string, root: string) => ({
  name,
  plex: `^/media/${folder}/(.*)$`,
  stash: `${root}/$1`,
  plexRoots: [`/media/${folder}`],
});

export class ChaosWorld {
  readonly dir = mkdtempSync(join(tmpdir(), "s2p-chaos-"));
  readonly dataDir = join(this.dir, "data");
  /** The episode folder the service writes and PMS's TV section reads. */
  readonly folder = join(this.dir, "episodes");
  readonly logs = join(this.dir, "logs");
  readonly pms = new PmsSim().start();
  readonly instances: Instance[];
  readonly port = freePort();
  readonly url = `http://127.0.0.1:${this.port}`;
  proc?: ReturnType<typeof Bun.spawn>;
  /** How many times the service was started (its lives). */
  lives = 0;

  constructor(options: WorldOptions) {
    mkdirSync(this.dataDir);
    mkdirSync(this.folder);
    mkdirSync(this.logs);
    const main = new StashSim({
      scenes: options.scenes,
      seed: options.seed,
      root: "/data/main",
      windowsShare: 0,
      // Eastern time: EDT (−04:00) until the driver moves the switch to "now", EST (−05:00) after.
      clock: { dst: { at: Number.MAX_SAFE_INTEGER, from: -240, to: -300 } },
    }).start();
    const vault = new StashSim({
      scenes: options.scenes,
      seed: options.seed + 1,
      root: "/data/vault",
      windowsShare: 0,
      clock: { offsetMinutes: 60 },
    }).start();
    this.instances = [
      { id: "default", stash: main, section: "1", identifier: IDENTIFIER, root: "/data/main", plexRoot: "/media/Main" },
      { id: "vault", stash: vault, section: "2", identifier: VAULT, root: "/data/vault", plexRoot: "/media/Vault" },
    ];
    for (const i of this.instances) {
      const files = [...i.stash.library.scenes.values()].flatMap((s) =>
        s.files.map((f) => `${i.plexRoot}${f.path.slice(i.root.length)}`),
      );
      const title = i.id === "default" ? "Main" : "Vault";
      this.pms.addSection(
        { key: i.section, title, type: "movie", agent: i.identifier, locations: [i.plexRoot] },
        files,
      );
    }
    this.pms.addSection({ key: "3", title: "Sites", type: "show", agent: TV, locations: [this.folder] });
    // PMS knows the providers before the service's first start (its start-up pass scans through them).
    this.pms.providers.set(IDENTIFIER, this.url);
    this.pms.providers.set(VAULT, `${this.url}/instances/vault`);
    this.pms.providers.set(TV, `${this.url}/tv`);
    this.pms.watch.webhooks = [`${this.url}/hooks/plex?token=${PLEX_HOOK_TOKEN}`];
  }

  get main() {
    return this.instances[0]!;
  }

  env(): Record<string, string> {
    const [main, vault] = this.instances as [Instance, Instance];
    return {
      PATH: process.env.PATH ?? "",
      LOG_LEVEL: "warn",
      LOG_FORMAT: "json",
      DATA_DIR: this.dataDir,
      LISTEN_HOST: "127.0.0.1",
      LISTEN_PORT: String(this.port),
      ADMIN_TOKEN,
      ADMIN_OPEN_READS: "true",
      STASH_TIMEOUT_MS: String(STASH_TIMEOUT_MS),
      STASH_INSTANCES: JSON.stringify([
        { name: "Main", url: main.stash.url, paths: { rules: [rule("main", "Main", main.root)] } },
        { id: "vault", name: "Vault", url: vault.stash.url, paths: { rules: [rule("vault", "Vault", vault.root)] } },
      ]),
      PLEX_URL: this.pms.url,
      PLEX_TOKEN: this.pms.token,
      PLEX_TIMEOUT_MS: String(PLEX_TIMEOUT_MS),
      PLEX_SECTIONS: "1,vault:2",
      TV_LIBRARIES: JSON.stringify([{ id: "sites", layout: "studio", folder: this.folder, plexFolder: this.folder }]),
      SYNC_WEBHOOK_TOKEN: STASH_HOOK_TOKEN,
      WRITEBACK_ENABLED: "true",
      WRITEBACK_WEBHOOK_TOKEN: PLEX_HOOK_TOKEN,
      WRITEBACK_NOTIFICATIONS: "true",
      ...FAST,
    };
  }

  /** Starts the service (a new process on the same data folder and port); does not wait for it. */
  start() {
    this.lives++;
    this.proc = Bun.spawn([process.execPath, join(import.meta.dir, "../../src/main.ts"), "serve"], {
      env: this.env(),
      stdout: "ignore",
      stderr: Bun.file(join(this.logs, `life-${this.lives}.log`)),
    });
  }

  /** kill -9: the process gets no chance to finish anything. */
  async kill() {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc) return;
    proc.kill("SIGKILL");
    await proc.exited;
  }

  /** Why the service process ended by itself (a crash is a finding), or undefined while it runs. */
  crashed(): string | undefined {
    const proc = this.proc;
    if (!proc || (proc.exitCode === null && !proc.signalCode)) return undefined;
    return `the service exited by itself (code ${proc.exitCode}, signal ${proc.signalCode}) in life ${this.lives}: see ${this.logs}/life-${this.lives}.log`;
  }

  async healthy(timeoutMs = 30_000) {
    const end = performance.now() + timeoutMs;
    for (;;) {
      try {
        if ((await fetch(`${this.url}/healthz`)).ok) return;
      } catch {}
      const crash = this.crashed();
      if (crash) throw new Error(crash);
      if (performance.now() > end) throw new Error(`the service was not healthy within ${timeoutMs / 1000} s`);
      await Bun.sleep(50);
    }
  }

  /** GET an admin API route as JSON. */
  async api<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    return (await res.json()) as T;
  }

  /** The instance a Plex item's GUID names, with the scene id. */
  sceneOf(item: SimItem): { instance: Instance; id: string } | undefined {
    for (const instance of this.instances) {
      const prefix = `${instance.identifier}://movie/`;
      if (item.guid.startsWith(prefix)) return { instance, id: item.guid.slice(prefix.length) };
    }
    const episode = /^.+\.tv:\/\/episode\/st-(\d+)$/.exec(item.guid);
    return episode ? { instance: this.main, id: episode[1]! } : undefined;
  }

  /** Our movie items of one instance, by scene id (a scene with two files has two). */
  movieItems(instance: Instance): Map<string, SimItem[]> {
    const out = new Map<string, SimItem[]>();
    const prefix = `${instance.identifier}://movie/`;
    for (const item of this.pms.items.values()) {
      if (item.sectionId !== instance.section || !item.guid.startsWith(prefix)) continue;
      const id = item.guid.slice(prefix.length);
      out.set(id, [...(out.get(id) ?? []), item]);
    }
    return out;
  }

  /** Stops everything; the folder (data, episode folder, the service's logs) is kept when `keep`. */
  async close(keep = false) {
    await this.kill();
    await this.pms.stop();
    for (const i of this.instances) await i.stash.stop();
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
  }
}
