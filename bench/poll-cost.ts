/**
 * Poll cost benchmark (issue: the poller in every time zone). Two worlds side by side in one
 * run: a Stash at UTC−05:00 and one at UTC+01:00, each with the real service in its own
 * process polling at the default interval, and steady edits for the whole run. The previous
 * hour is backfilled with edits at the same rate (stamps only), so the repeated-hour band
 * (what the poller reads one hour below now, for DST) costs what it would in steady state.
 * For every poll: scenes Stash returned vs scenes edited since the poll before.
 *
 *   bun bench/poll-cost.ts [--minutes 10] [--poll 30] [--rate 2]   (rate: edits per second)
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StashSim } from "../sim/stash/server.ts";
import { PmsSim } from "../sim/plex/server.ts";
import { DEMO_RULES, plexFilesFor } from "../src/demo.ts";
import { commandLine, fmt, freePort, machine, median, numberArg, report, startService } from "./lib.ts";

const MINUTES = numberArg("minutes", 10);
const POLL = numberArg("poll", 30);
const RATE = numberArg("rate", 2);
const SCENES = 20_000;
const IDENTIFIER = "tv.plex.agents.custom.stash2plex";

interface PollSeen {
  at: number;
  read: number;
  swept: number;
}

async function world(offsetMinutes: number) {
  const stash = new StashSim({ scenes: SCENES, seed: 5, clock: { offsetMinutes } }).start();
  const pms = new PmsSim().start();
  pms.addSection(
    { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
    plexFilesFor(stash),
  );
  // The hour before the run, edited at the same steady rate (stamps as Stash wrote them then).
  const ids = [...stash.library.scenes.keys()];
  const now = Date.now();
  for (let k = 0; k < 70 * 60 * RATE; k++) {
    stash.library.scenes.get(ids[k % ids.length]!)!.updated_at = stash.library.clock.stamp(
      now - 70 * 60_000 + (k * 1000) / RATE,
    );
  }
  const service = await startService(
    {
      STASH_URL: stash.url,
      PLEX_URL: pms.url,
      PLEX_TOKEN: pms.token,
      SYNC_POLL_SECONDS: String(POLL),
      DATA_DIR: mkdtempSync(join(tmpdir(), "s2p-bench-poll-")),
      PATHS_RULES: JSON.stringify(DEMO_RULES),
    },
    freePort(),
  );
  pms.providerUrl = service.url;
  await pms.scan("1", { concurrency: 32 });
  const polls: PollSeen[] = [];
  return { offsetMinutes, stash, pms, service, polls, ids };
}

const worlds = await Promise.all([world(-300), world(60)]);
const runStart = Date.now();
console.log(`steady edits (${RATE}/s per world) for ${MINUTES} min, polls every ${POLL} s …`);
let n = 0;
const until = runStart + MINUTES * 60_000;
try {
  while (Date.now() < until) {
    for (const w of worlds) {
      w.stash.library.update(w.ids[(n * 7919) % w.ids.length]!, { title: `Steady ${n}` });
      const last = ((await (await fetch(`${w.service.url}/api/status`)).json()) as any).poller
        .lastPoll as PollSeen | null;
      if (last && last.at !== w.polls.at(-1)?.at) w.polls.push(last);
    }
    n++;
    await Bun.sleep(1000 / RATE);
  }

  const rows: string[][] = [];
  for (const w of worlds) {
    const edits = w.stash.library.edits;
    const regular = w.polls.slice(1).map((p, k) => {
      const changed = edits.filter((e) => e.at > w.polls[k]!.at && e.at <= p.at).length;
      return { read: p.read, changed, excess: p.read - 2 * changed };
    });
    const ratio = regular.filter((r) => r.changed > 0).map((r) => r.read / r.changed);
    const zone = w.offsetMinutes < 0 ? "UTC−05:00" : "UTC+01:00";
    rows.push([
      zone,
      String(regular.length),
      `${fmt(median(regular.map((r) => r.changed)), 0)} / ${fmt(median(regular.map((r) => r.read)), 0)}`,
      `${fmt(median(ratio))} (max ${fmt(Math.max(...ratio))})`,
      String(Math.max(...regular.map((r) => r.excess))),
      `${w.polls.reduce((s, p) => s + p.swept, 0)} in ${w.polls.filter((p) => p.swept > 0).length} sweep(s)`,
    ]);
  }
  const markdown = [
    "## Poll cost: scenes read per poll vs scenes changed (issue 9)",
    "",
    `Command: \`${commandLine("bench/poll-cost.ts")}\` (${MINUTES} min, poll every ${POLL} s, ${RATE} edits/s per world, ${SCENES} scenes).`,
    `Machine: ${machine()}. Both worlds side by side in one run; each service in its own process.`,
    "The hour before the run is backfilled with edits at the same rate, so the repeated-hour band (read 1 h below now",
    "for a DST switch back) reads what steady state makes it read. The regular reads are: above the watermark, the",
    "watermark's own second (a one-row count while it is open, all its scenes once after it closed: a scene edited again",
    "within it), and the band. Sweeps (every 15 min, everything stamped since the last sweep",
    "at any offset) are counted apart; the first runs 15 min after start, so a 10-minute run has none.",
    "",
    "| Stash offset | polls | scenes changed / read per poll (median) | read ÷ changed, median (max) | max of read − 2 × changed | sweep reads |",
    "|---|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.join(" | ")} |`),
    "",
    "Target: read ≤ 2 × changed + a constant for every poll.",
  ].join("\n");
  report("poll-cost", markdown);
} finally {
  for (const w of worlds) {
    w.service.proc.kill("SIGTERM");
    await w.pms.stop();
    await w.stash.stop();
  }
}
