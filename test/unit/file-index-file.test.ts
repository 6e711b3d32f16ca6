/**
 * The index file's own rules (src/stash/file-index-file.ts): a file another process holds is
 * left to it, never removed (a one-shot CLI command beside the running service used to delete
 * the service's index, which then rebuilt it at its next start); a damaged one is replaced.
 */
import { afterEach, expect, test } from "bun:test";
import { existsSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openIndexFile } from "../../src/stash/file-index-file.ts";
import { tempDir } from "../helpers.ts";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

test("a file held by another connection (the running service) is neither removed nor written: this one works in memory", () => {
  dir = tempDir("s2p-index-file-");
  const file = join(dir, "stash-files.sqlite");
  const service = openIndexFile(file);
  service.save({ live: "a", builtAt: 1, watermark: "w1" });
  for (const t of ["scenes", "files", "words"]) service.db.run(`CREATE TABLE a_${t} (x)`);
  const inode = statSync(file).ino;
  const cli = openIndexFile(file);
  expect(cli.saved).toBeUndefined();
  cli.save({ live: "b", builtAt: 2 });
  cli.close();
  expect(existsSync(file)).toBe(true);
  expect(statSync(file).ino).toBe(inode);
  service.close();
  const next = openIndexFile(file);
  expect(next.saved).toEqual({ live: "a", watermark: "w1", builtAt: 1 });
  next.close();
});

test("a file that is not a database is replaced by a new one", () => {
  dir = tempDir("s2p-index-file-");
  const file = join(dir, "stash-files.sqlite");
  writeFileSync(file, "not a database at all, just text that is long enough to have a header".repeat(20));
  const index = openIndexFile(file);
  expect(index.saved).toBeUndefined();
  index.save({ live: "a", builtAt: 3 });
  index.close();
  const again = openIndexFile(file);
  expect(again.saved).toBeUndefined(); // no generation tables: rebuilt, but the file is a database now
  again.close();
});
