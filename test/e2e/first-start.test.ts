/**
 * A first start as a NAS user makes it: the Unraid / TrueNAS templates filled only with what
 * a user must fill, plus a config.yaml; the image's own ENV; a port set only in config.yaml;
 * a data folder the service's user cannot write.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { parse as parseYaml } from "yaml";
import { StashSim } from "../../sim/stash/server.ts";
import { freePort } from "../../sim/sim-server.ts";
import { healthy, MAIN, madeTempDirs, spawnMain, tempDir, waitFor } from "../helpers.ts";
import { settings } from "../../src/config/settings.ts";

const ROOT = join(import.meta.dir, "../..");
const CONFIG_YAML = `paths:
  rules:
    - name: from-yaml
      plex: ^/data/media/adult/(.*)$
      stash: /stash/library/$1
`;

let stash: StashSim;
beforeAll(() => void (stash = new StashSim({ scenes: 5 }).start()));
afterAll(() => stash.stop());

/** The environment a template gives the container when the user fills in only the required fields. */
function unraidEnv(): Record<string, string> {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(
    readFileSync(join(ROOT, "deploy/unraid/stash2plex.xml"), "utf8"),
  );
  const env: Record<string, string> = {};
  for (const c of doc.Container.Config as { Type: string; Target: string; "#text"?: unknown; Required: string }[]) {
    if (c.Type === "Variable") env[c.Target] = c.Required === "true" ? "" : String(c["#text"] ?? "");
  }
  return env;
}
function truenasEnv(): Record<string, string> {
  const doc = parseYaml(readFileSync(join(ROOT, "deploy/truenas/stash2plex.yaml"), "utf8"));
  return Object.fromEntries(
    Object.entries(doc.services.stash2plex.environment as Record<string, string>).map(([k, v]) => [k, String(v)]),
  );
}
/** What the image itself sets (Containerfile ENV lines). */
function imageEnv(): Record<string, string> {
  const text = readFileSync(join(ROOT, "Containerfile"), "utf8").replace(/\\\n/g, " ");
  const line = /^ENV (.*)$/m.exec(text)?.[1] ?? "";
  return Object.fromEntries([...line.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
}

async function run(args: string[], env: Record<string, string>) {
  const proc = spawnMain(env, args);
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { out, err, code };
}

describe("templates respect config.yaml", () => {
  for (const [name, templateEnv] of [
    ["Unraid", unraidEnv],
    ["TrueNAS", truenasEnv],
  ] as const) {
    test(`${name} template as shipped + the user's STASH_URL and PUBLIC_URL + config.yaml: \`map\` uses the YAML rule`, async () => {
      const dir = tempDir();
      writeFileSync(join(dir, "config.yaml"), CONFIG_YAML);
      const env = {
        ...imageEnv(),
        ...templateEnv(),
        STASH_URL: stash.url,
        PUBLIC_URL: "http://192.168.1.10:8787",
        DATA_DIR: dir,
      };
      const { out, code } = await run(["map", "/data/media/adult/Studio/a.mp4"], env);
      expect(out).toContain("/stash/library/Studio/a.mp4");
      expect(out).toContain("from-yaml");
      expect(code).toBe(0);
    });
  }

  test("the templates ship no value for anything config.yaml can hold; the image sets only DATA_DIR and TZ", () => {
    for (const env of [unraidEnv(), truenasEnv()]) {
      expect(Object.entries(env).filter(([k, v]) => v !== "" && settings.some((s) => s.env === k))).toEqual([]);
    }
    expect(Object.keys(imageEnv()).sort()).toEqual(["DATA_DIR", "TZ"]);
  });

  test("`map` exits 1 when no rule maps the path", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "config.yaml"), CONFIG_YAML);
    const { code } = await run(["map", "/elsewhere/a.mp4"], { STASH_URL: stash.url, DATA_DIR: dir });
    expect(code).toBe(1);
  });
});

describe("healthcheck reads the config serve reads", () => {
  test("a port set only in config.yaml and a LISTEN_HOST other than 127.0.0.1: healthy", async () => {
    const dir = tempDir();
    const port = freePort();
    writeFileSync(join(dir, "config.yaml"), `listen:\n  port: ${port}\n`);
    const env = { STASH_URL: stash.url, DATA_DIR: dir, LISTEN_HOST: "127.0.0.2" };
    const service = spawnMain(env);
    try {
      expect(
        await waitFor(
          async () => (await fetch(`http://127.0.0.2:${port}/healthz`).catch(() => undefined))?.ok === true,
          10_000,
        ),
      ).toBe(true);
      expect((await run(["healthcheck"], env)).code).toBe(0);
    } finally {
      service.kill("SIGKILL");
    }
  });
});

describe("the admin token on a first start", () => {
  test("generated when unset, shown once, kept in the data folder (owner-only), never logged again; it signs in", async () => {
    const dir = tempDir();
    const startOnce = async () => {
      const port = freePort();
      const service = spawnMain({ STASH_URL: stash.url, DATA_DIR: dir, LISTEN_PORT: String(port) });
      await healthy(port);
      await Bun.sleep(300);
      service.kill("SIGTERM");
      await service.exited;
      return { out: await new Response(service.stdout).text(), port };
    };
    const first = await startOnce();
    const token = readFileSync(join(dir, "admin-token"), "utf8").trim();
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(statSync(join(dir, "admin-token")).mode & 0o777).toBe(0o600);
    expect(first.out.split(token).length - 1).toBe(1); // printed exactly once
    expect(first.out).toContain("admin token (shown once");
    const second = await startOnce();
    expect(second.out).not.toContain(token);
    expect(second.out).toContain(`admin token: kept in ${join(dir, "admin-token")}`);
  }, 30_000);
});

const asRoot = process.getuid?.() === 0;

/** Whether every user may enter this folder and every folder above it. */
function enterableByAll(dir: string): boolean {
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      if (!(statSync(d).mode & 0o001)) return false;
    } catch {
      return false;
    }
    if (d === dirname(d)) return true;
  }
}
/**
 * Where another user can run the service from. The clone (and the Bun in its node_modules) may
 * sit where other users cannot enter (a 0700 temp folder, /root): Bun then cannot even read its
 * working folder (CouldntReadCurrentDirectory). So the service is compiled into a folder all can
 * enter and run from there.
 */
const publicBase = [tmpdir(), "/tmp", "/var/tmp"].find(enterableByAll);
function publicDir(): string {
  const dir = mkdtempSync(join(publicBase!, "s2p-public-"));
  madeTempDirs.push(dir);
  chmodSync(dir, 0o755);
  return dir;
}

describe("a data folder the service cannot write", () => {
  // Skipped, not failed, without root (no other uid to run as) or without a folder every user can enter.
  test.skipIf(!asRoot || !publicBase)(
    "run as 65532 and as 99:100 against a root-owned folder: one line naming the folder, the uid and the fix; exit 1",
    async () => {
      const home = publicDir();
      const binary = join(home, "stash2plex");
      const build = Bun.spawnSync([process.execPath, "build", "--compile", MAIN, "--outfile", binary], {
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(build.exitCode).toBe(0);
      for (const [uid, gid] of [
        [65532, 65532],
        [99, 100],
      ]) {
        const dir = join(home, `config-${uid}`);
        mkdirSync(dir);
        chownSync(dir, 0, 0);
        chmodSync(dir, 0o755);
        const proc = Bun.spawn([binary, "serve"], {
          cwd: home,
          env: {
            PATH: process.env.PATH ?? "",
            STASH_URL: stash.url,
            DATA_DIR: dir,
            LISTEN_PORT: String(freePort()),
            HOME: home,
          },
          uid,
          gid,
          stdout: "pipe",
          stderr: "pipe",
        } as Parameters<typeof Bun.spawn>[1] & { uid: number; gid: number });
        const code = await proc.exited;
        const err = await new Response(proc.stderr as ReadableStream).text();
        expect({ uid, code }).toEqual({ uid, code: 1 });
        expect(err).toContain(dir);
        expect(err).toContain(`${uid}:${gid}`);
        expect(err).toContain("chown");
        expect(err.trim().split("\n")).toHaveLength(1);
        expect(err).not.toContain("    at ");
      }
    },
    30_000,
  );

  test("`check` fails when DATA_DIR is unusable", async () => {
    const file = join(tempDir(), "not-a-folder");
    writeFileSync(file, "x");
    const { out, code } = await run(["check"], { STASH_URL: stash.url, DATA_DIR: file });
    expect(code).toBe(1);
    expect(out).toContain("FAIL data folder");
    expect(out).toContain("DATA_DIR");
  });
});

void healthy;
