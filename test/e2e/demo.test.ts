/** The README's "run it" command: the demo walks through a scan and a push and exits 0. */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { freePort } from "../sim/sim-server.ts";

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
