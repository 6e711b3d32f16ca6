/**
 * Preloaded into a service process by `bench/scale.ts --heap <folder>` (bench only): on SIGUSR2
 * it writes what holds its memory to <folder>/<pid>-<n>.json: process.memoryUsage() and JSC's
 * heap statistics (object counts by type), before and after a full collection, so the live heap
 * shows apart from garbage not yet collected. The bench signals it after the idle time and after
 * the Plex index job.
 */
import { heapStats } from "bun:jsc";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.HEAP_PROBE_DIR;
let n = 0;
const top = (counts: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(counts)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 30),
  );
/** The process's largest mappings by resident size (/proc/self/smaps): the JS heap is only part of the RSS. */
const mappings = () => {
  const out: { name: string; rssKb: number; sizeKb: number }[] = [];
  let current: { name: string; rssKb: number; sizeKb: number } | undefined;
  for (const line of readFileSync("/proc/self/smaps", "utf8").split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) out.push((current = { name: head[1] || "[anon]", rssKb: 0, sizeKb: 0 }));
    else if (current && line.startsWith("Rss:")) current.rssKb = Number(line.split(/\s+/)[1]);
    else if (current && line.startsWith("Size:")) current.sizeKb = Number(line.split(/\s+/)[1]);
  }
  const byName = new Map<string, number>();
  for (const m of out) byName.set(m.name, (byName.get(m.name) ?? 0) + m.rssKb);
  return {
    byName: Object.fromEntries([...byName].sort((a, b) => b[1] - a[1]).slice(0, 8)),
    largest: out.sort((a, b) => b.rssKb - a.rssKb).slice(0, 15),
  };
};
const sample = () => {
  const s = heapStats();
  return {
    memory: process.memoryUsage(),
    mappings: mappings(),
    heapSize: s.heapSize,
    extraMemorySize: s.extraMemorySize,
    objectCount: s.objectCount,
    objectTypeCounts: top(s.objectTypeCounts),
    protectedObjectTypeCounts: top(s.protectedObjectTypeCounts),
  };
};
if (dir)
  process.on("SIGUSR2", () => {
    const before = sample();
    Bun.gc(true);
    const after = sample();
    writeFileSync(join(dir, `${process.pid}-${n++}.json`), JSON.stringify({ before, after }, null, 1));
    if (n === 1) writeFileSync(join(dir, `${process.pid}.heapsnapshot`), Bun.generateHeapSnapshot("v8"));
    // The allocator's own view (to stderr): live bytes per size class, pages touched, against the RSS.
    if (process.env.HEAP_PROBE_MIMALLOC) Bun.unsafe.mimallocDump();
  });
