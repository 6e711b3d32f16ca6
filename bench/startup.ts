/**
 * Start-up benchmark (issue: ship it). Cold start to a healthy /healthz and idle RSS, for
 * the single executable and for `bun src/main.ts` side by side; executable and image size.
 *
 *   bun bench/startup.ts [--runs 15] [--scenes 5000]
 * Builds dist/stash2plex first; measures the image only where podman is installed.
 */
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  currentRssMb,
  fmt,
  freePort,
  machine,
  median,
  numberArg,
  commandLine,
  report,
  ROOT,
  startStashSim,
} from "./lib.ts";

const RUNS = numberArg("runs", 15);
const SCENES = numberArg("scenes", 5000);
const BIG = numberArg("big-scenes", 20000);

const build = Bun.spawnSync([process.execPath, join(ROOT, "scripts/build.ts")], {
  stdout: "ignore",
  stderr: "inherit",
});
if (build.exitCode !== 0) throw new Error("build failed");
const BINARY = join(ROOT, "dist/stash2plex");
let stash = await startStashSim(SCENES, 3);

const variants = {
  executable: [BINARY, "serve"],
  "bun src/main.ts": [process.execPath, join(ROOT, "src/main.ts"), "serve"],
} as const;
type Variant = keyof typeof variants;

async function coldStart(variant: Variant, idleSeconds = 0) {
  const port = freePort();
  const t0 = performance.now();
  const proc = Bun.spawn([...variants[variant]], {
    env: {
      PATH: process.env.PATH ?? "",
      STASH_URL: stash.url,
      DATA_DIR: mkdtempSync(join(tmpdir(), "s2p-start-")),
      LISTEN_HOST: "127.0.0.1",
      LISTEN_PORT: String(port),
      LOG_LEVEL: "warn",
      LOG_FORMAT: "json",
    },
    stdout: "ignore",
    stderr: "ignore",
  });
  let ms = NaN;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) {
        ms = performance.now() - t0;
        break;
      }
    } catch {}
    if (performance.now() - t0 > 10_000) break;
    await Bun.sleep(1);
  }
  let rss = NaN;
  if (idleSeconds) {
    await Bun.sleep(idleSeconds * 1000);
    rss = currentRssMb(proc.pid);
  }
  proc.kill("SIGTERM");
  await proc.exited;
  return { ms, rss };
}

const starts: Record<Variant, number[]> = { executable: [], "bun src/main.ts": [] };
for (let i = 0; i < RUNS; i++) {
  for (const v of Object.keys(variants) as Variant[]) starts[v].push((await coldStart(v)).ms);
}
const idle = { executable: await coldStart("executable", 10), source: await coldStart("bun src/main.ts", 10) };
stash.proc.kill("SIGTERM");
// Idle memory grows with the library (the index of Stash's files): measure a larger one too.
stash = await startStashSim(BIG, 3);
const idleBig = await coldStart("executable", 10);
stash.proc.kill("SIGTERM");

let imageSize = "not measured (podman not installed, not root, or --no-image)";
if (Bun.which("podman") && process.getuid?.() === 0 && !process.argv.includes("--no-image")) {
  const sizeFile = join(mkdtempSync(join(tmpdir(), "s2p-img-")), "size");
  const check = Bun.spawnSync(["bash", join(ROOT, "test/container/check.sh")], {
    env: { ...process.env, IMAGE_SIZE_FILE: sizeFile },
    stdout: "ignore",
    stderr: "ignore",
  });
  if (check.exitCode === 0)
    imageSize = `${fmt(Number(readFileSync(sizeFile, "utf8")) / 1024 / 1024, 0)} MiB (built on stand-in base images: glibc and CA certificates, ~3 MiB; the real distroless/cc base adds ~20 MiB)`;
}

const exe = statSync(BINARY).size / 1024 / 1024;
const rows = [
  ["cold start → healthy /healthz, executable (median)", `${fmt(median(starts.executable), 0)} ms`, "< 300 ms"],
  ["cold start → healthy /healthz, bun src/main.ts (median)", `${fmt(median(starts["bun src/main.ts"]), 0)} ms`, ""],
  ["executable ÷ source start-up", fmt(median(starts.executable) / median(starts["bun src/main.ts"])), ""],
  [
    `idle RSS after 10 s, executable (Stash library of ${SCENES} scenes indexed)`,
    `${fmt(idle.executable.rss, 0)} MB`,
    "< 80 MB",
  ],
  [`idle RSS after 10 s, bun src/main.ts`, `${fmt(idle.source.rss, 0)} MB`, ""],
  [`idle RSS after 10 s, executable, library of ${BIG} scenes`, `${fmt(idleBig.rss, 0)} MB`, ""],
  ["executable size (dist/stash2plex, includes the Bun runtime)", `${fmt(exe, 0)} MiB`, ""],
  ["container image size", imageSize, ""],
];
const markdown = [
  "## Start-up, memory, size (issue 4)",
  "",
  `Command: \`${commandLine("bench/startup.ts")}\` (${RUNS} cold starts of each, alternating; Stash simulator with ${SCENES} scenes in its own process).`,
  `Machine: ${machine()}.`,
  "",
  "| measure | result | target |",
  "|---|---|---|",
  ...rows.map(([a, b, c]) => `| ${a} | ${b} | ${c} |`),
].join("\n");
report("startup", markdown);
