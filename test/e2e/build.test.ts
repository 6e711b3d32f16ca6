/**
 * `npm run build` targets: x64 builds use Bun's baseline runtime (CPUs without AVX2), and an
 * arm64 executable cross-compiles. (Bun fetches a target's runtime from the npm registry.)
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";

const ROOT = join(import.meta.dir, "../..");
/** The ELF header's machine field: 0x3e x86-64, 0xb7 aarch64. */
const machineOf = (file: string) => readFileSync(file).readUInt16LE(18);

async function build(args: string[]) {
  const outfile = join(tempDir(), "stash2plex");
  const proc = Bun.spawn([process.execPath, join(ROOT, "scripts/build.ts"), ...args], { env: { ...process.env, OUTFILE: outfile }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
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
    }
    const arm = await build(["--target", "bun-linux-arm64"]);
    expect(arm.code).toBe(0);
    expect(machineOf(arm.outfile)).toBe(0xb7);
  }, 240_000);
});
