/**
 * The chaos soak (issue 27), short: the same driver and the same checks as `bun bench/chaos.ts`,
 * with fewer edits and faults. A fixed seed plans every edit, viewing and fault; whatever the
 * timing, once everything is up again no edit may be lost, no play duplicated or missing, no
 * episode link wrong, and the service must not have died by itself.
 */
import { expect, test } from "bun:test";
import { lastLine, runChaos } from "../../bench/chaos/driver.ts";

test("300 edits in two Stashes and viewings in Plex through 4 kill -9s, Plex down, restarted and slow, a Stash 503 and timing out, and a DST change: nothing lost, nothing twice", async () => {
  // The driver's own account (faults, findings, the kept run folder) is printed when the run failed.
  const said: string[] = [];
  const r = await runChaos({
    log: (line) => said.push(line),
    edits: 300,
    kills: 4,
    outagesPerKind: 1,
    maxOutageMs: 2000,
    scenes: 60,
    seed: 27,
    editsPerSecond: 20,
    viewEvery: 15,
    convergeTimeoutMs: 45_000,
  });
  console.log(lastLine(r));
  if (!r.converged || r.crashes.length) console.log(said.join("\n"));
  expect(r.crashes).toEqual([]);
  expect([r.kills, r.outages]).toEqual([4, 5]);
  expect([...r.findings.lost]).toEqual([]);
  expect([...r.findings.wrong]).toEqual([]);
  expect(r.findings.links).toEqual([]);
  expect(r.findings.playProblems).toEqual([]);
  expect(r.converged).toBe(true);
}, 120_000);
