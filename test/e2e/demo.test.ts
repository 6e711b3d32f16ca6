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
  // The movie item and the episode after the rename, the episode's move, the edit made while Plex was down.
  expect(out.match(/✓/g)?.length).toBe(4);
  expect(out).not.toContain("✗");
  expect(code).toBe(0);
  // The TV side: its provider's URL, and what the scan of the TV library found.
  const url = /stash2plex: +(http:\/\/\S+)/.exec(out)?.[1];
  expect(out).toContain(`TV provider:     ${url}/tv (agent tv.plex.agents.custom.stash2plex.tv)`);
  expect(out).toMatch(/TV library: +episode folder \S+stash2plex-demo-\w+\/tv \(layout studio\)/);
  const [, shows, seasons, episodes, unmatched] =
    /(\d+) shows \(one per studio\), (\d+) seasons \(a year each\), (\d+) episodes; (\d+) unmatched/.exec(out) ?? [];
  expect(Number(shows)).toBeGreaterThan(1);
  expect(Number(seasons)).toBeGreaterThan(Number(shows));
  expect(Number(episodes)).toBeGreaterThan(Number(seasons));
  expect(unmatched).toBe("0");
  expect((out.match(/contract violations: 0/g) ?? []).length).toBe(2);
  // The date edit moved the episode to the new year's season.
  expect(out).toMatch(/moves scene (\d+)'s date from (\d{4})-\d\d-\d\d to (\d{4})-06-15/);
  const [, from, to] = /from (\d{4})-\d\d-\d\d to (\d{4})-06-15/.exec(out)!;
  expect(out).toContain(`Season ${to} (it was in Season ${from})`);
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
