/**
 * `npm run build` targets: x64 builds use Bun's baseline runtime (CPUs without AVX2), and an
 * arm64 executable cross-compiles. (Bun fetches a target's runtime from the npm registry.)
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { healthy, runProcess, tempDir } from "../helpers.ts";
import { StashSim } from "../../sim/stash/server.ts";
import { freePort } from "../../sim/sim-server.ts";
import { rawRequest } from "../raw-http.ts";

const ROOT = join(import.meta.dir, "../..");
/** The ELF header's machine field: 0x3e x86-64, 0xb7 aarch64. */
const machineOf = (file: string) => readFileSync(file).readUInt16LE(18);

async function build(args: string[]) {
  const outfile = join(tempDir(), "stash2plex");
  const { out, err, code } = await runProcess([process.execPath, join(ROOT, "scripts/build.ts"), ...args], {
    env: { ...process.env, OUTFILE: outfile },
  });
  return { outfile, text: out + err, code };
}

describe("build targets", () => {
  test("the default on x64 is the baseline runtime; --target bun-linux-arm64 gives an arm64 executable", async () => {
    const native = await build([]);
    expect(native.code).toBe(0);
    if (process.arch === "x64") {
      expect(native.text).toContain("bun-linux-x64-baseline");
      expect(machineOf(native.outfile)).toBe(0x3e);
      const version = Bun.spawnSync([native.outfile, "--version"]);
      expect(version.stdout.toString().trim()).toMatch(/^\d+\.\d+\.\d+/);
      await survivesMalformedHosts(native.outfile);
    }
    const arm = await build(["--target", "bun-linux-arm64"]);
    expect(arm.code).toBe(0);
    expect(machineOf(arm.outfile)).toBe(0xb7);
  }, 240_000);
});

/** The compiled executable, not only `bun src/main.ts`: a request without a usable Host does not end it. */
async function survivesMalformedHosts(executable: string) {
  const stash = new StashSim({ scenes: 5 }).start();
  const port = freePort();
  const proc = Bun.spawn([executable, "serve"], {
    env: {
      STASH_URL: stash.url,
      DATA_DIR: tempDir(),
      LISTEN_HOST: "127.0.0.1",
      LISTEN_PORT: String(port),
      LOG_LEVEL: "error",
    },
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    expect(await healthy(port)).toBe(true);
    for (const host of ["", "Host:\r\n", "Host: a b\r\n", "Host: a@b\r\n"]) {
      await rawRequest(port, `GET /healthz HTTP/1.0\r\n${host}\r\n`);
      await rawRequest(port, `GET /nope HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
    }
    await Bun.sleep(50);
    expect(proc.exitCode).toBeNull();
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  } finally {
    proc.kill("SIGKILL");
    await stash.stop();
  }
}
