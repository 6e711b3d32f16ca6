/** Shared benchmark plumbing: child processes, percentiles, peak RSS, and BENCHMARKS.md sections. */
import {
  type Dirent,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../sim/sim-server.ts";
import { SimLibrary } from "../sim/stash/library.ts";
import type { ScanFile } from "../sim/plex/scan.ts";
import { plexPathFor } from "../src/demo.ts";

export const ROOT = join(import.meta.dir, "..");

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
export const median = (values: number[]) => percentile(values, 50);
export const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");

/** Peak resident set size of a process, in MB (Linux: VmHWM). */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}
/** CPU time a process has used so far (user + system), in ms (Linux: /proc/<pid>/stat, clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
/**
 * Resets a process's peak RSS (VmHWM) to its current RSS, so a later peakRssMb is the peak of
 * what came after (Linux ≥ 4.0: `5` into /proc/<pid>/clear_refs). False where that is refused.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}
/**
 * CPU time each live thread of a process has used so far, in ms with µs precision (Linux:
 * se.sum_exec_runtime of /proc/<pid>/task/<tid>/sched), by thread id; empty where unreadable.
 */
export function threadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const text = readFileSync(`/proc/${pid}/task/${tid}/sched`, "utf8");
        const ms = Number(/se\.sum_exec_runtime\s*:\s*([\d.]+)/.exec(text)?.[1]);
        if (Number.isFinite(ms)) out.set(tid, ms);
      } catch {}
    }
  } catch {}
  return out;
}
/**
 * CPU a process used between two threadCpuMs samples, in ms: each thread's growth (a thread
 * born in between counts whole; one that ended in between is not counted, so never negative).
 */
export function cpuSpentMs(before: Map<string, number>, after: Map<string, number>): number {
  let sum = 0;
  for (const [tid, ms] of after) sum += Math.max(0, ms - (before.get(tid) ?? 0));
  return sum;
}
export function currentRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

export { freePort };

/** A numeric command-line option: `--name 123`. */
export function numberArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

/**
 * Starts the Stash simulator in its own process and returns its URL. `orderedPages`: pages of
 * the whole library in id order are cut from an id order kept once, not sorted per page (the
 * same answers; see sim/stash/main.ts), for libraries where the simulator's sort would dominate.
 */
export async function startStashSim(
  scenes: number,
  seed: number,
  genericShare = 0,
  options: { orderedPages?: boolean; twins?: number } = {},
) {
  const proc = Bun.spawn(
    [
      process.execPath,
      join(ROOT, "sim/stash/main.ts"),
      String(scenes),
      String(seed),
      String(genericShare),
      ...(options.orderedPages ? ["--ordered-pages"] : []),
      ...(options.twins ? ["--twins", String(options.twins)] : []),
    ],
    { stdout: "pipe", stderr: "inherit" },
  );
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the Stash simulator exited");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const { url } = JSON.parse(text.split("\n")[0]!) as { url: string };
  return { proc, url, stats: async () => (await (await fetch(`${url}/__sim/stats`)).json()) as { queries: number } };
}

/** The admin token of every service a benchmark starts (reads are open to it too). */
export const BENCH_ADMIN_TOKEN = "bench-admin-token";

/** Starts the real service (`bun src/main.ts serve`, of this checkout or `root`) and waits until /healthz answers. */
export async function startService(env: Record<string, string>, port: number, root = ROOT) {
  const { proc, url, started } = spawnService(env, port, root);
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {}
    if (performance.now() - started > 20_000) throw new Error("the service did not become healthy");
    await Bun.sleep(5);
  }
  return { proc, url };
}

/**
 * Spawns the real service as startService does, without waiting for it: `started` is the
 * moment just before the spawn (performance.now()), for timing a start-up from its beginning.
 * `bunArgs` go before the script (`--cpu-prof`, …).
 */
export function spawnService(env: Record<string, string>, port: number, root = ROOT, bunArgs: string[] = []) {
  const started = performance.now();
  const proc = Bun.spawn([process.execPath, ...bunArgs, join(root, "src/main.ts"), "serve"], {
    env: {
      PATH: process.env.PATH ?? "",
      LOG_LEVEL: "warn",
      LOG_FORMAT: "json",
      ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      ADMIN_OPEN_READS: "true",
      ...env,
      LISTEN_HOST: "127.0.0.1",
      LISTEN_PORT: String(port),
    },
    stdout: "ignore",
    stderr: "inherit",
  });
  return { proc, url: `http://127.0.0.1:${port}`, started };
}

/** Runs `count` tasks with `concurrency` at once; returns each task's latency in ms. */
export async function concurrently(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<number[]> {
  const latencies: number[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        await task(i);
        latencies[i] = performance.now() - t;
      }
    }),
  );
  return latencies;
}

/** The command line that produced a report, as it goes into BENCHMARKS.md. */
export const commandLine = (script: string) =>
  ["bun", script, ...process.argv.slice(2).filter((a) => a !== "--no-write")].join(" ");

/** Prints a benchmark's report and, unless --no-write, puts it in its section of BENCHMARKS.md. */
export function report(section: string, markdown: string) {
  console.log(markdown);
  if (!process.argv.includes("--no-write")) writeSection(section, markdown);
}

/** Replaces this benchmark's section of BENCHMARKS.md (between its markers). */
export function writeSection(name: string, markdown: string) {
  const file = join(ROOT, "BENCHMARKS.md");
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  let text = existsSync(file) ? readFileSync(file, "utf8") : "# Benchmarks\n";
  text = text.includes(start)
    ? text.replace(new RegExp(`${start}[\\s\\S]*?${end}`), block)
    : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
}

export const machine = () =>
  `${navigator.hardwareConcurrency} cores, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}`;

/**
 * The service's source at a git revision, in a temp folder (`git archive`, the checkout
 * untouched), sharing this checkout's node_modules: for a before/after side by side.
 */
export function sourceAt(rev: string): { root: string; commit: string } {
  const commit = Bun.spawnSync(["git", "rev-parse", "--short", rev], { cwd: ROOT }).stdout.toString().trim();
  if (!commit) throw new Error(`no such git revision: ${rev}`);
  const root = mkdtempSync(join(tmpdir(), `s2p-rev-${commit}-`));
  const tar = Bun.spawnSync(["sh", "-c", `git archive ${commit} | tar -x -C '${root}'`], {
    cwd: ROOT,
    stderr: "inherit",
  });
  if (tar.exitCode !== 0) throw new Error(`git archive ${rev} failed`);
  symlinkSync(join(ROOT, "node_modules"), join(root, "node_modules"));
  return { root, commit };
}

/** Waits until a service reports this many Stash scenes indexed; returns the seconds it took. */
export async function indexed(url: string, scenes: number, timeoutMs = 120_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    try {
      const status = (await (await fetch(`${url}/api/status`)).json()) as { indexes?: { stashScenes?: number } };
      if ((status.indexes?.stashScenes ?? 0) >= scenes) return (performance.now() - t0) / 1000;
    } catch {}
    if (performance.now() - t0 > timeoutMs)
      throw new Error(`the service did not index ${scenes} scenes in ${timeoutMs / 1000} s`);
    await Bun.sleep(100);
  }
}

/**
 * The files a PMS scan of a seeded library walks (the library the Stash simulator process builds
 * from the same seed): `count` files, 2% of them unknown to Stash and spread through the scan as
 * on a real disk, with which scene owns each known one. `tag` keeps two libraries' unknown
 * file names apart.
 */
export function scanOfLibrary(options: {
  scenes: number;
  seed: number;
  count: number;
  genericShare?: number;
  tag?: string;
}) {
  const library = new SimLibrary(() => "", {
    scenes: options.scenes,
    seed: options.seed,
    genericShare: options.genericShare,
  });
  const owner = new Map<string, string>();
  for (const scene of library.scenes.values()) for (const f of scene.files) owner.set(plexPathFor(f.path), scene.id);
  const known = [...owner.keys()].slice(0, Math.round(options.count * 0.98));
  const unknown = Array.from(
    { length: options.count - known.length },
    (_, i) => `/media/Scenes/Unsorted/not-in-stash-${options.tag ?? ""}${i}.mp4`,
  );
  const paths = known.flatMap((p, i) => (i % 49 === 48 && unknown.length ? [p, unknown.pop()!] : [p])).concat(unknown);
  const files: ScanFile[] = paths.map((path) => ({
    path,
    root: path.startsWith("/media/Windows/") ? "/media/Windows" : "/media/Scenes",
  }));
  return { files, owner, known };
}

/** Every entry under `root` that is not a folder (symbolic links with their target), by path relative to it. */
export function linksUnder(root: string, rel = ""): Map<string, string> {
  const out = new Map<string, string>();
  let entries: Dirent[];
  try {
    entries = readdirSync(join(root, rel), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const path = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of linksUnder(root, path)) out.set(k, v);
    else out.set(path, e.isSymbolicLink() ? readlinkSync(join(root, path)) : "");
  }
  return out;
}

/**
 * Waits until `check` answers something truthy (returned), asking every `everyMs` (a check that
 * throws counts as not yet); throws after `timeoutMs`, or at once when `fail` names a reason
 * (a process that exited).
 */
export async function until<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs: number,
  what: string,
  everyMs = 100,
  fail: () => string | undefined = () => undefined,
): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch {}
    const reason = fail();
    if (reason) throw new Error(`${what}: ${reason}`);
    if (performance.now() > end) throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s`);
    await Bun.sleep(everyMs);
  }
}
