/**
 * One owner per table: each table of the database is read and written by one module (besides
 * store/db.ts, which creates and migrates it); everything else asks that module.
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../../src");
const DB = join(SRC, "store/db.ts");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

test("every table is read and written by one module only", () => {
  const tables = [
    ...new Set([...readFileSync(DB, "utf8").matchAll(/CREATE TABLE (?:IF NOT EXISTS )?([a-z_]+)/g)].map((m) => m[1]!)),
  ];
  expect(tables).toContain("edit_state");
  const files = sourceFiles(SRC)
    .filter((f) => f !== DB)
    .map((f) => ({ path: relative(SRC, f), text: readFileSync(f, "utf8") }));
  const shared: string[] = [];
  for (const table of tables) {
    const sql = new RegExp(`\\b(FROM|INTO|UPDATE|JOIN)\\s+${table}\\b`, "i");
    const users = files.filter((f) => sql.test(f.text)).map((f) => f.path);
    if (users.length > 1) shared.push(`${table}: ${users.join(", ")}`);
  }
  expect(shared).toEqual([]);
});
