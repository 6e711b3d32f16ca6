/**
 * Every command and request shown in the README's shell code blocks, run against one demo
 * (`stash2plex demo`: the real service between the bundled Stash and PMS simulators). curl
 * lines become fetch calls, `stash2plex <cmd>` becomes `bun src/main.ts <cmd>` on the demo's
 * settings (its data folder holds them). What needs something absent here is skipped, each
 * with its reason; anything else the README shows and this test does not know fails it.
 * Blocks that are not commands (YAML, diagrams, output) are not run; the YAML config example
 * is loaded as a config.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { freePort } from "../../sim/sim-server.ts";
import { codeBlocks, curlRequest, isShell, shownCommands, type ShownCommand } from "../readme-commands.ts";
import { runProcess } from "../helpers.ts";

const ROOT = join(import.meta.dir, "../..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const MAIN = join(ROOT, "src/main.ts");

/** What is not run here, and why. Matched against the words of a command. */
const SKIPPED: [RegExp, string][] = [
  [/^npm ci$/, "reinstalls node_modules under the running tests; this checkout is installed already"],
  [/^npm test$/, "the whole suite, of which this test is a part"],
  [
    /^(docker|podman)\b/,
    "needs Docker, absent here (test/e2e/container.test.ts builds and runs the image where podman is)",
  ],
  [
    /^curl -O https:\/\/raw\.githubusercontent\.com\/stash2plex\/stash2plex\/main\/compose\.yaml$/,
    "downloads from GitHub (no outside network in tests); the file is this repository's compose.yaml, which test/unit/generated.test.ts checks",
  ],
];

let demo: ReturnType<typeof Bun.spawn>;
let shown = "";
const given: Record<string, string> = {};
const cwd = mkdtempSync(join(tmpdir(), "s2p-readme-"));

beforeAll(async () => {
  demo = Bun.spawn([process.execPath, MAIN, "demo"], {
    env: { PATH: process.env.PATH ?? "", LISTEN_PORT: String(freePort()), TMPDIR: cwd },
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = (demo.stdout as ReadableStream<Uint8Array>).getReader();
  const until = Date.now() + 50_000;
  while (!shown.includes("Press Ctrl-C") && Date.now() < until) {
    const { value, done } = await reader.read();
    if (done) break;
    shown += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  // Values only the running demo knows: its port (a free one) and the admin token it generated.
  given.URL = /stash2plex: +(http:\/\/\S+)/.exec(shown)?.[1] ?? "";
  given.ADMIN_TOKEN = /admin token: (\S+?)\)/.exec(shown)?.[1] ?? "";
  given.DATA_DIR = /DATA_DIR=(\S+)/.exec(shown)?.[1] ?? "";
}, 60_000);

afterAll(async () => {
  demo?.kill("SIGINT");
  await demo?.exited;
  rmSync(cwd, { recursive: true, force: true });
});

interface Outcome {
  ok: boolean;
  detail: string;
  skipped?: string;
}

async function runCurl(args: string[]): Promise<Outcome> {
  const r = curlRequest(args);
  if (r.download) return { ok: false, detail: `a download this test does not know: ${r.url}` };
  if (!r.url.startsWith(given.URL!)) return { ok: false, detail: `a request to ${r.url}, not to the service` };
  const res = await fetch(r.url, { method: r.method, headers: r.headers, body: r.body, redirect: "manual" });
  const text = await res.text();
  return { ok: res.status < 400, detail: `HTTP ${res.status} ${text.slice(0, 200)}` };
}

async function runCli(args: string[], env: Record<string, string>, exit: number): Promise<Outcome> {
  const { out, err, code } = await runProcess([process.execPath, MAIN, ...args], {
    env: { PATH: process.env.PATH ?? "", DATA_DIR: given.DATA_DIR!, ...env },
    cwd,
  });
  return { ok: code === exit, detail: `exit ${code} (README: ${exit}) ${(out + err).slice(-300)}` };
}

async function run(c: ShownCommand): Promise<Outcome> {
  const line = c.words.join(" ");
  for (const [pattern, reason] of SKIPPED) if (pattern.test(line)) return { ok: true, detail: "", skipped: reason };
  const env: Record<string, string> = {};
  let words = c.words;
  while (words[0] && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
    const [name, ...value] = words[0].split("=");
    env[name!] = value.join("=");
    words = words.slice(1);
  }
  const [cmd, ...args] = words;
  if (cmd === "curl") return runCurl(args);
  if (cmd === "stash2plex" || cmd === "/app/stash2plex") return runCli(args, env, c.exit);
  if (cmd === "npm" && args.join(" ") === "run demo") {
    // The demo every command here runs against: it started, walked through and kept running.
    return {
      ok: shown.includes("demo — the real service") && shown.includes("Press Ctrl-C"),
      detail: shown.slice(-300),
    };
  }
  if (cmd === "mkdir") {
    const proc = Bun.spawnSync(["mkdir", ...args], { cwd });
    return { ok: proc.exitCode === c.exit, detail: proc.stderr.toString() };
  }
  if (cmd === "promtool" && !Bun.which("promtool"))
    return { ok: true, detail: "", skipped: "promtool is not installed (Debian's prometheus package)" };
  if (cmd === "promtool") {
    const proc = Bun.spawnSync(["promtool", ...args], { cwd: ROOT });
    return { ok: proc.exitCode === c.exit, detail: proc.stdout.toString() + proc.stderr.toString() };
  }
  return { ok: false, detail: `the README shows a command this test does not know how to run: ${c.text}` };
}

test("the demo is up, with the values the README's examples need", () => {
  expect(given.URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(given.ADMIN_TOKEN!.length).toBeGreaterThanOrEqual(16);
  expect(given.DATA_DIR).toContain("stash2plex-demo-");
});

test("every command and request in the README's shell blocks works against the demo, or is skipped for a stated reason", async () => {
  const blocks = codeBlocks(README).filter(isShell);
  const vars: Record<string, string> = {};
  const results: { at: string; outcome: Outcome }[] = [];
  for (const block of blocks) {
    for (const c of shownCommands(block, vars, { URL: given.URL!, ADMIN_TOKEN: given.ADMIN_TOKEN! })) {
      results.push({ at: `README.md:${c.line}: ${c.text}`, outcome: await run(c) });
    }
  }
  if (process.env.README_TEST_VERBOSE)
    for (const r of results)
      console.log(
        r.outcome.skipped ? "skip" : r.outcome.ok ? "ok  " : "FAIL",
        r.at,
        "→",
        r.outcome.skipped ?? r.outcome.detail.slice(0, 100),
      );
  const failed = results.filter((r) => !r.outcome.ok).map((r) => `${r.at}\n    ${r.outcome.detail}`);
  expect(failed).toEqual([]);
  const ran = results.filter((r) => !r.outcome.skipped);
  // The README shows requests and CLI commands; most of what it shows really runs.
  expect(ran.length).toBeGreaterThanOrEqual(15);
  for (const r of results.filter((r) => r.outcome.skipped)) expect(r.outcome.skipped!.length).toBeGreaterThan(10);
}, 120_000);

test("the README's config.yaml example is a valid config whose rule maps the path the README maps", () => {
  const yaml = codeBlocks(README)
    .filter((b) => b.lang === "yaml")
    .find((b) => b.body.includes("paths:"));
  expect(yaml).toBeDefined();
  const file = join(cwd, "example-config.yaml");
  writeFileSync(file, yaml!.body);
  const mapped = /`stash2plex map (\S+)` shows which rule maps a path/.exec(README)?.[1];
  expect(mapped).toBeDefined();
  const proc = Bun.spawnSync([process.execPath, MAIN, "map", mapped!], {
    env: { PATH: process.env.PATH ?? "", CONFIG_FILE: file, DATA_DIR: join(cwd, "example-data") },
    cwd,
  });
  expect(proc.stdout.toString()).toContain("as a Plex path → Stash: /stash/library/Studio/a.mp4");
  expect(proc.exitCode).toBe(0);
});

test("the compose example's Stash and Plex reach stash2plex by name: no Plex on another network", () => {
  // The commented services at the end of compose.yaml, uncommented, beside stash2plex.
  const compose = readFileSync(join(ROOT, "compose.yaml"), "utf8").split("\n");
  const from = compose.findIndex((l) => /^# {2}stash:/.test(l));
  const example = parseYaml(
    `services:\n${compose
      .slice(from)
      .filter((l) => l.startsWith("#  "))
      .map((l) => l.slice(1))
      .join("\n")}`,
  );
  expect(Object.keys(example.services)).toEqual(["stash", "plex"]);
  for (const service of Object.values(example.services) as Record<string, unknown>[])
    expect(service.network_mode).toBeUndefined();
  expect(compose.join("\n")).toContain('PLEX_URL: "http://plex:32400"');
});
