/**
 * The test suite (`npm test` runs this after the typecheck): every test file, in parallel worker
 * processes (Bun's --parallel). Most of the suite's time is spent waiting on real servers and
 * processes, not on the CPU, so four workers fit two cores. The slowest files start first, by
 * the durations in test/timings.json (refreshed from a run with `bun scripts/test.ts
 * --save-timings`); this run's own durations land in test-output/timings.json, which .ci/run
 * reads for its line of the ten slowest files. Arguments after the script's own go to bun test.
 */
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const SAVED = join(ROOT, "test/timings.json");
const RUN = join(ROOT, "test-output/timings.json");
const WORKERS = 4;

const args = process.argv.slice(2);
const save = args.includes("--save-timings");
mkdirSync(join(ROOT, "test-output"), { recursive: true });
if (existsSync(SAVED)) copyFileSync(SAVED, RUN);
const proc = Bun.spawn(
  [
    process.execPath,
    "test",
    "--timeout",
    "60000",
    `--parallel=${WORKERS}`,
    `--timings=${RUN}`,
    "--update-timings",
    ...args.filter((a) => a !== "--save-timings"),
  ],
  { cwd: ROOT, stdio: ["inherit", "inherit", "inherit"] },
);
const code = await proc.exited;
if (save && code === 0) copyFileSync(RUN, SAVED);
process.exit(code);
