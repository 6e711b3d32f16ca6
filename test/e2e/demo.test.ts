/** The README's "run it" command: the demo walks through a scan and a push and exits 0. */
import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../sim/sim-server.ts";

test("stash2plex demo --once: a scan and a push work against the bundled simulators", async () => {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "../../src/main.ts"), "demo", "--once"], {
    env: { PATH: process.env.PATH ?? "", LISTEN_PORT: String(freePort()) },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  expect(out).toContain("contract violations: 0");
  expect(out).toContain("demo finished: scan and push worked");
  expect(out.match(/✓/g)?.length).toBe(2);
  expect(code).toBe(0);
}, 60_000);

test("the demo stopped with Ctrl-C exits 0 and leaves no temporary folder", async () => {
  const tmp = mkdtempSync(join(tmpdir(), "s2p-demo-tmp-"));
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "../../src/main.ts"), "demo"], {
    env: { PATH: process.env.PATH ?? "", LISTEN_PORT: String(freePort()), TMPDIR: tmp },
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  const reader = proc.stdout.getReader();
  while (!out.includes("Press Ctrl-C")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  expect(readdirSync(tmp).filter((f) => f.startsWith("stash2plex-demo-"))).toHaveLength(1);
  proc.kill("SIGINT");
  expect(await proc.exited).toBe(0);
  expect(readdirSync(tmp)).toEqual([]);
  rmSync(tmp, { recursive: true, force: true });
}, 60_000);
