/** Preloaded by `bun test` (bunfig.toml): the temporary folders the tests made are removed when the run ends. */
import { afterAll } from "bun:test";
import { rmSync } from "node:fs";
import { madeTempDirs } from "./helpers.ts";

afterAll(() => {
  for (const dir of madeTempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
