/**
 * Chaos soak (issue 27, part 1): edits of titles, tags, performers, dates, studios and covers
 * in two Stash instances (a movie library each, a TV library of the default one), viewings in
 * Plex, both change feeds (the plugin's fire-and-forget webhook, polling), while the service is
 * killed with SIGKILL and restarted, Plex goes down, restarts and slows, a Stash answers 503 or
 * times out, and the default Stash's clock crosses a DST change at UTC−05:00. Then, everything
 * up: convergence, and no edit lost, no play duplicated. See bench/chaos/driver.ts.
 *
 *   bun bench/chaos.ts [--edits 10000] [--kills 100] [--outages 20] [--scenes 400] [--rate 25] [--seed 27]
 */
import { lastLine, runChaos } from "./chaos/driver.ts";
import { commandLine, fmt, machine, numberArg, report } from "./lib.ts";

const edits = numberArg("edits", 10_000);
const options = {
  edits,
  kills: numberArg("kills", 100),
  outagesPerKind: numberArg("outages", 20),
  maxOutageMs: numberArg("max-outage-ms", 5000),
  scenes: numberArg("scenes", 400),
  seed: numberArg("seed", 27),
  editsPerSecond: numberArg("rate", 25),
  viewEvery: numberArg("view-every", 40),
  convergeTimeoutMs: numberArg("converge-timeout-s", 300) * 1000,
  log: (line: string) => console.error(`[chaos] ${line}`),
};
const r = await runChaos(options);
const faults = [...r.faults].map(([k, n]) => `${k} ×${n}`).join(", ");
const rows = [
  [
    "edits (titles, tags, performers, dates, studios, covers)",
    `${r.edits} over ${r.editedScenes} scenes of 2 instances, ${fmt(r.runSeconds, 0)} s`,
    "",
  ],
  ["viewings in Plex (webhooks, some delivered twice; notifications; history)", String(r.viewings), ""],
  ["faults", faults, ""],
  ["service lives (kill -9 and restart)", `${r.lives} (crashes by itself: ${r.crashes.length})`, "0 crashes"],
  ["lost edits (a Plex item not showing its scene's last edit)", String(r.findings.lost.size), "0"],
  [
    "wrong unedited items, episode-folder or episode problems",
    `${r.findings.wrong.size}, ${r.findings.links.length}`,
    "0, 0",
  ],
  ["duplicated plays / viewings without a play", `${r.findings.duplicates} / ${r.findings.missingPlays}`, "0 / 0"],
  ["convergence after the last fault", r.converged ? `${fmt(r.convergeSeconds, 1)} s` : "not converged", ""],
  [
    "Plex calls per edited scene (all kinds) / refreshes per edit",
    `${fmt(r.plexCallsPerScene, 1)} / ${fmt(r.refreshesPerEdit, 2)}`,
    "",
  ],
];
report(
  "chaos",
  [
    "## Chaos soak: kills, outages and a DST change under edits and viewings (issue 27)",
    "",
    `Command: \`${commandLine("bench/chaos.ts")}\` (${options.scenes} scenes in each of 2 Stash instances, seed ${options.seed}, ${options.editsPerSecond} edits/s, outages up to ${options.maxOutageMs / 1000} s).`,
    `Machine: ${machine()}. The service in its own process on one data folder throughout; the simulators in the driver's process.`,
    "",
    "Faults, planned from the seed: kill -9 of the service (restarted after 0–0.8 s); Plex down, Plex",
    "restarted right after accepting refreshes (their fetches never come), Plex slow (0.1–2 s an answer,",
    "past the service's 1.5 s timeout at worst); a Stash answering 503, or slower than the service's 1 s",
    "timeout; the default Stash's clock going from UTC−04:00 to UTC−05:00 halfway (an hour repeats).",
    "Half the edits are announced by the Stash plugin's webhook (fire-and-forget), the rest found by",
    "polling (1 s). Timings compressed as in the tests (retries 0.05–0.5 s, confirmation window 3 s).",
    "",
    "| measure | result | target |",
    "|---|---|---|",
    ...rows.map((row) => `| ${row.join(" | ")} |`),
    "",
    `Last line: \`${lastLine(r)}\``,
  ].join("\n"),
);
console.log(lastLine(r));
process.exit(r.converged && r.crashes.length === 0 ? 0 : 1);
