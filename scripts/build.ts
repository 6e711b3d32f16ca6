/**
 * `npm run build`: the single executable dist/stash2plex (minified, version embedded).
 * `--target bun-linux-x64` style targets can be passed through: `npm run build -- --target …`.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };

const root = join(import.meta.dir, "..");
const outfile = process.env.OUTFILE ?? join(root, "dist/stash2plex");
mkdirSync(join(root, "dist"), { recursive: true });
const extra = process.argv.slice(2);
const proc = Bun.spawn([
  process.execPath, "build", "--compile", "--minify", "--sourcemap=none",
  `--define=STASH2PLEX_VERSION=${JSON.stringify(pkg.version)}`,
  join(root, "src/main.ts"), "--outfile", outfile, ...extra,
], { stdout: "inherit", stderr: "inherit", cwd: root });
const code = await proc.exited;
if (code === 0) console.log(`built ${outfile} (stash2plex ${pkg.version})`);
process.exit(code);
