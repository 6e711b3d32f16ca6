/**
 * Backup benchmark (issue 27): the database of a library of `--scenes` scenes (default 50,000),
 * filled as the service fills it (every table with the rows such a library leaves: the Plex index
 * of a movie item per scene with its file and an episode per scene, a delivery record and three
 * history lines per scene, artwork records, TV placements, write-back events), then:
 *   - a backup as the service takes it (store/backup.ts: VACUUM INTO, then a whole integrity
 *     check of the copy): its time, median of `--runs`, and its size;
 *   - the start-up check of the database (db.ts: quick_check of every page) and the whole open,
 *     median of `--runs`, against the same open with the check left out.
 *
 *   bun bench/backup.ts [--scenes 50000] [--runs 5] [--no-write]
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backupsDir, makeBackup } from "../src/store/backup.ts";
import { DATABASE_FILE, openStore, SCHEMA_VERSION } from "../src/store/db.ts";
import { commandLine, fmt, machine, median, numberArg, report } from "./lib.ts";

const SCENES = numberArg("scenes", 50_000);
const RUNS = numberArg("runs", 5);
const dataDir = mkdtempSync(join(tmpdir(), "s2p-bench-backup-"));

/** The rows a library of `n` scenes leaves in the database after a while of service. */
function fill(n: number) {
  const store = openStore(dataDir);
  const { db } = store;
  const now = Date.now();
  const q = {
    item: db.query("INSERT INTO plex_items (rating_key, section_id, guid, title, updated_at) VALUES (?, ?, ?, ?, ?)"),
    file: db.query("INSERT INTO plex_files (path, basename, rating_key) VALUES (?, ?, ?)"),
    delivered: db.query("INSERT INTO delivered (ref, stash_updated_at, at, rating_key) VALUES (?, ?, ?, ?)"),
    history: db.query("INSERT INTO job_history (ref, at, event, detail) VALUES (?, ?, ?, ?)"),
    artwork: db.query("INSERT INTO artwork (rating_key, element, source, hash, shown, at) VALUES (?, ?, ?, ?, ?, ?)"),
    placement: db.query(
      "INSERT INTO tv_placements (instance, scheme, scene_id, show_id, show_title, season, episode, want, title, path, link) VALUES ('default', 'st', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    event: db.query(
      "INSERT INTO writeback_events (key, kind, ref, rating_key, account_id, at, event, sources, state, next_attempt_at, received_at, done_at) VALUES (?, 'play', ?, ?, '1', ?, ?, '[\"webhook\"]', 'done', ?, ?, ?)",
    ),
  };
  db.transaction(() => {
    for (let i = 1; i <= n; i++) {
      const ref = `default:scene:${i}`;
      const studio = `Studio ${i % 400}`;
      const title = `Scene number ${i} of ${studio} with a title of usual length`;
      const path = `/media/Scenes/${studio}/${2000 + (i % 25)}/${title}.mp4`;
      const movie = String(i);
      const episode = String(n + i);
      q.item.run(movie, "1", `tv.plex.agents.custom.stash2plex://movie/${i}`, title, now / 1000);
      q.file.run(path, `${title}.mp4`, movie);
      const link = `${studio} {s2p-st${i % 400}}/Season ${2000 + (i % 25)}/${studio} - S${2000 + (i % 25)}E${i} - ${title} {s2p-st-${i}}.mp4`;
      q.item.run(episode, "2", `tv.plex.agents.custom.stash2plex.tv://episode/st-${i}`, title, now / 1000);
      q.file.run(`/tv/${link}`, link.split("/").at(-1)!, episode);
      const stamp = new Date(now - i * 1000).toISOString();
      q.delivered.run(ref, stamp, now, movie);
      q.history.run(ref, now - 3000, "queued", "poll");
      q.history.run(ref, now - 2000, "pushed", `refreshed item ${movie} and episode ${episode}`);
      q.history.run(ref, now - 1000, "delivered", "delivered (confirmed by PMS's fetch)");
      for (const key of [movie, episode])
        for (const element of ["posters", "arts"])
          q.artwork.run(
            key,
            element,
            `scene/${i}@${stamp}`,
            "ab".repeat(32),
            `/library/metadata/${key}/thumb/${i}`,
            now,
          );
      q.placement.run(
        String(i),
        `st${i % 400}`,
        studio,
        2000 + (i % 25),
        i,
        `st${i % 400}/${2000 + (i % 25)}/d${i}`,
        title,
        path,
        link,
      );
      if (i % 10 === 0)
        q.event.run(`play:${i}`, ref, movie, now, JSON.stringify({ kind: "play", at: now }), now, now, now);
    }
  })();
  store.close();
}

fill(SCENES);
const live = join(dataDir, DATABASE_FILE);
const bytes = statSync(live).size;

// A backup as the service takes it, on the database as the service has it open.
const store = openStore(dataDir);
const backupMs: number[] = [];
let backupBytes = 0;
for (let r = 0; r < RUNS; r++) {
  const t = performance.now();
  const file = makeBackup(store.db, backupsDir(dataDir), {
    kind: "manual",
    at: Date.now() + r,
    keep: 2,
    newestSchema: SCHEMA_VERSION,
  });
  backupMs.push(performance.now() - t);
  backupBytes = file.bytes;
}
store.close();

// The start-up check: the service's whole open (with quick_check) against a bare open of the same file.
const openMs: number[] = [];
const bareMs: number[] = [];
const checkMs: number[] = [];
for (let r = 0; r < RUNS; r++) {
  let t = performance.now();
  openStore(dataDir).close();
  openMs.push(performance.now() - t);
  t = performance.now();
  const db = new Database(live);
  db.exec("PRAGMA journal_mode = WAL");
  bareMs.push(performance.now() - t);
  t = performance.now();
  db.query("PRAGMA quick_check(1)").get();
  checkMs.push(performance.now() - t);
  db.close();
}
rmSync(dataDir, { recursive: true, force: true });

const mb = (b: number) => `${fmt(b / 1024 / 1024, 1)} MB`;
report(
  "backup",
  `## Backups and the start-up check (issue 27)

Command: \`${commandLine("bench/backup.ts")}\` (${SCENES.toLocaleString("en")} scenes; median of ${RUNS}).
Machine: ${machine()}. The database filled with what such a library leaves (a movie item and an episode per scene in the Plex index, with their files; a delivery and three history lines per scene; poster and background records of every item; the TV placements; a play a tenth of the scenes).

| measure | result | goal |
|---|---|---|
| database size | ${mb(bytes)} |  |
| a backup (VACUUM INTO, then the copy's integrity_check), median | ${fmt(median(backupMs) / 1000, 2)} s |  |
| its size | ${mb(backupBytes)} |  |
| start-up after a stop that was not clean: the database opened with its check of every page (migrations, quick_check), median | ${fmt(median(openMs), 0)} ms |  |
| … of it the quick_check of every page, median | ${fmt(median(checkMs), 0)} ms | not noticeable beside a start (< 1 s) |
| … a bare open of the same file, for comparison | ${fmt(median(bareMs), 1)} ms |  |
`,
);
