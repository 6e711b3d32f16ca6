/**
 * Building a TV library's episode folder (issue 20's figures): the catalog of a seeded library
 * (50,000 scenes by default, real SQLite), then the episode folder from empty: wall time
 * (median of 3, each into a fresh temp folder), the filesystem calls the code makes (counted
 * through fs-ops' counting wrapper) and, once, the real syscalls (`strace -c -f`, when strace is
 * installed). Then a sync with nothing to do (the start-up case after a restart), and an edit of
 * one scene (its date to another year): the links touched, counted, and the folder compared
 * before and after (only its own link may differ). Links dangle: real media files are not needed.
 *
 *   bun bench/episode-folder.ts [--scenes 50000] [--seed 42] [--no-write]
 */
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimLibrary } from "../sim/stash/library.ts";
import { openStore } from "../src/store/db.ts";
import { createTvCatalog } from "../src/tv/catalog.ts";
import { episodeFolder } from "../src/tv/episode-folder.ts";
import { countingFs } from "../src/tv/fs-ops.ts";
import type { TvScene } from "../src/tv/placement.ts";
import { commandLine, fmt, machine, median, numberArg, report } from "./lib.ts";

const SCENES = numberArg("scenes", 50_000);
const SEED = numberArg("seed", 42);

/** Every link under `root` with its target. */
function tree(root: string, rel = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
    const path = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of tree(root, path)) out.set(k, v);
    else out.set(path, readlinkSync(join(root, path)));
  }
  return out;
}

function scenesOf(scenes: number, seed: number): TvScene[] {
  // POSIX paths only: the links are made on this machine.
  const library = new SimLibrary(() => "", { scenes, seed, windowsShare: 0 });
  return [...library.scenes.values()].map((s) => ({
    id: s.id,
    title: s.title,
    date: s.date,
    studio: s.studio && {
      id: s.studio.id,
      name: s.studio.name,
      parent_studio: s.studio.parent_studio && { id: s.studio.parent_studio.id, name: s.studio.parent_studio.name },
    },
    groups: s.groups.map((g) => ({ scene_index: g.scene_index, group: { id: g.group.id, name: g.group.name } })),
    files: s.files.map((f) => ({ path: f.path })),
  }));
}

/** `--child <folder>`: one sync into `folder` (under strace), nothing else. */
async function child(folder: string) {
  const dataDir = process.argv[process.argv.indexOf("--data") + 1]!;
  const store = openStore(dataDir);
  const catalog = createTvCatalog({ db: store.db, instance: "default", schemes: ["st"] });
  await episodeFolder(folder).sync(catalog.placements("st"));
  store.close();
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), "s2p-bench-tv-"));
  let shmDir: string | undefined;
  try {
    const scenes = scenesOf(SCENES, SEED);
    const dataDir = join(work, "data");
    const store = openStore(dataDir);
    const catalog = createTvCatalog({ db: store.db, instance: "default", schemes: ["st"] });
    let t = performance.now();
    const built = catalog.buildFrom(scenes);
    const buildMs = performance.now() - t;
    const wanted = catalog.placements("st");

    // The same build on the machine's disk and in tmpfs: the disk's own cost per symlink is
    // most of the time on a disk (this VM's ~0.8 ms a symlink); tmpfs shows the code's.
    const shm = (shmDir = existsSync("/dev/shm") ? mkdtempSync("/dev/shm/s2p-bench-tv-") : undefined);
    const places = [
      { label: `disk (${tmpdir()})`, base: work },
      ...(shm ? [{ label: "tmpfs (/dev/shm)", base: shm }] : []),
    ];
    const walls: { label: string; runs: number[]; floorUs: number }[] = [];
    let counted = countingFs();
    for (const { label, base } of places) {
      const runs: number[] = [];
      for (let run = 0; run < 3; run++) {
        counted = countingFs();
        const folder = join(base, `tv-${run}`);
        t = performance.now();
        const r = await episodeFolder(folder, counted).sync(wanted);
        runs.push(performance.now() - t);
        if (r.created !== wanted.length || r.problems.length)
          throw new Error(`run ${run}: ${JSON.stringify(r).slice(0, 300)}`);
        if (run > 0) rmSync(folder, { recursive: true });
      }
      // The floor: a bare loop of symlinkSync into one new folder (the filesystem's own cost per link).
      const bare = mkdtempSync(join(base, "bare-"));
      t = performance.now();
      for (let i = 0; i < 5000; i++)
        symlinkSync(`../../media/${i}.mp4`, join(bare, `Show - S2023E0${i} - Title {s2p-st-${i}}.mp4`));
      const floorUs = ((performance.now() - t) * 1000) / 5000;
      rmSync(bare, { recursive: true });
      walls.push({ label, runs, floorUs });
    }
    const folder = join(work, "tv-0");

    // Nothing to do: the start-up sync after a restart (reads the folder once, changes nothing).
    const idle = countingFs();
    t = performance.now();
    const idleReport = await episodeFolder(folder, idle).sync(wanted);
    const idleMs = performance.now() - t;
    if (idleReport.unchanged !== wanted.length) throw new Error("the idle sync changed something");

    // strace: the real syscalls of one full build, in a child process (SQLite's reads included).
    let strace = "strace is not installed: not measured";
    if (Bun.which("strace")) {
      const target = shm ? join(shm, "tv-strace") : join(work, "tv-strace");
      const out = Bun.spawnSync(
        [
          "strace",
          "-c",
          "-f",
          "-o",
          join(work, "strace.txt"),
          process.execPath,
          import.meta.path,
          "--child",
          target,
          "--data",
          dataDir,
        ],
        { stdout: "ignore", stderr: "inherit" },
      );
      if (out.exitCode === 0) {
        const text = await Bun.file(join(work, "strace.txt")).text();
        const rows = text
          .split("\n")
          .map((l) => l.trim().split(/\s+/))
          .filter((f) => f.length >= 5 && /^\d/.test(f[0]!) && f.at(-1) !== "total");
        const calls = (name: string) => Number(rows.find((f) => f.at(-1) === name)?.[3] ?? 0);
        const total = /(\d+)\s+(\d+\s+)?total/.exec(text)?.[1];
        const names = [
          "symlinkat",
          "symlink",
          "mkdirat",
          "mkdir",
          "getdents64",
          "readlinkat",
          "readlink",
          "newfstatat",
          "lstat",
          "statx",
          "unlinkat",
          "rmdir",
        ];
        const listed = names.filter((n) => calls(n) > 0).map((n) => `${n} ${calls(n)}`);
        strace = `${total ?? "?"} syscalls in all (the whole process: Bun's start, SQLite reading the catalog); of them ${listed.join(", ")}`;
      } else strace = `strace failed (exit ${out.exitCode}): not measured`;
    }

    // One scene's date moves to another year.
    const victim = wanted.find((p) => p.season >= 2016 && p.season <= 2024)!;
    const scene = scenes.find((s) => s.id === victim.sceneId)!;
    const beforeTree = tree(folder);
    const edit = countingFs();
    t = performance.now();
    const { changes } = catalog.update({ ...scene, date: `2015${scene.date!.slice(4)}` });
    const r = episodeFolder(folder, edit).syncOne(changes[0]!.before, changes[0]!.after);
    const editMs = performance.now() - t;
    const afterTree = tree(folder);
    const differing = [...new Set([...beforeTree.keys(), ...afterTree.keys()])].filter(
      (k) => beforeTree.get(k) !== afterTree.get(k),
    );
    const own = differing.every((k) => k.includes(`{s2p-st-${scene.id}}`));
    const shows = catalog.shows().length;
    store.close();

    const linksTouched = r.created + r.removed + r.retargeted;
    const md = `## Episode folder (issue 20)

\`${commandLine("bench/episode-folder.ts")}\` — ${machine()}

A seeded library of ${SCENES.toLocaleString("en")} scenes (seed ${SEED}), studio layout: ${wanted.length.toLocaleString("en")} placed (the rest have no studio: ${built.unplaced.length}), ${shows} shows. Links dangle (no media files needed). On this shared VM the disk's figures swing between runs (other work on the disk); the tmpfs row shows the code's own cost beside the bare symlink loop's.

| | figure |
|---|---|
| catalog build (placement, numbering, ${wanted.length.toLocaleString("en")} rows into SQLite) | ${fmt(buildMs / 1000)} s |
${walls.map((w) => `| episode folder from empty on ${w.label}, wall time (median of 3: ${w.runs.map((x) => fmt(x / 1000)).join(", ")} s) | **${fmt(median(w.runs) / 1000)} s**: ${fmt((median(w.runs) * 1000) / wanted.length, 0)} µs a link; the filesystem's floor (a bare symlinkSync loop, 5,000 links) ${fmt(w.floorUs, 0)} µs a link |`).join("\n")}
| filesystem calls made (counted) | ${counted.total().toLocaleString("en")}: ${Object.entries(counted.counts)
      .filter(([, n]) => n)
      .map(([k, n]) => `${k} ${n.toLocaleString("en")}`)
      .join(", ")} |
| real syscalls of one build (\`strace -c -f\`) | ${strace} |
| sync with nothing to do (start-up after a restart) | ${fmt(idleMs / 1000)} s, ${idle.total().toLocaleString("en")} calls: ${Object.entries(
      idle.counts,
    )
      .filter(([, n]) => n)
      .map(([k, n]) => `${k} ${n.toLocaleString("en")}`)
      .join(", ")} |
| one scene's date to another year: links touched | **${linksTouched}** (removed ${r.removed}, created ${r.created}); placements changed ${changes.length}; folder entries differing before/after: ${differing.length}, all the scene's own: ${own ? "yes" : "NO"} |
| that edit: filesystem calls, wall time | ${edit.total()} (${Object.entries(edit.counts)
      .filter(([, n]) => n)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")}), ${fmt(editMs, 1)} ms incl. the catalog update; season folders to scan: ${r.touched.length} |
`;
    report("episode-folder", md);
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (shmDir) rmSync(shmDir, { recursive: true, force: true });
  }
}

if (process.argv.includes("--child")) await child(process.argv[process.argv.indexOf("--child") + 1]!);
else await main();
