/**
 * A latency probe in its own process, so the load generator's own pauses are not counted:
 * GETs `url` every `intervalMs` until its standard input closes, then prints every latency
 * (ms) as one JSON line: {"ms": [...], "failed": n}.
 *
 *   bun bench/probe.ts <url> [intervalMs]
 */
export {};
const [url, interval = "10"] = process.argv.slice(2);
const ms: number[] = [];
let failed = 0;
let running = true;
void (async () => {
  for await (const _ of Bun.stdin.stream()) {
    // Drain until the parent closes it.
  }
  running = false;
})();
while (running) {
  const t = performance.now();
  try {
    if ((await fetch(url!)).status !== 200) failed++;
  } catch {
    failed++;
  }
  ms.push(performance.now() - t);
  await Bun.sleep(Number(interval));
}
console.log(JSON.stringify({ ms, failed }));
