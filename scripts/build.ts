/**
 * `npm run build`: the single executable dist/stash2plex (minified, version embedded).
 * The target defaults to what runs on every NAS of this machine's architecture: x64 builds
 * use Bun's *baseline* runtime (no AVX2: Celeron, Atom, Pentium, e.g. J4125), arm64 builds
 * the arm64 one. `npm run build -- --target bun-linux-arm64` cross-compiles; in a container
 * build, TARGETARCH (amd64 / arm64, set by buildx or podman) picks it.
 */
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import pkg from "../package.json" with { type: "json" };

const TARGETS: Record<string, string> = {
  x64: "bun-linux-x64-baseline",
  amd64: "bun-linux-x64-baseline",
  arm64: "bun-linux-arm64",
};

const root = join(import.meta.dir, "..");
const outfile = process.env.OUTFILE ?? join(root, "dist/stash2plex");
mkdirSync(dirname(outfile), { recursive: true });
const args = process.argv.slice(2);
const given = args.indexOf("--target");
const target = given >= 0 ? args[given + 1] : TARGETS[process.env.TARGETARCH || process.arch];
const extra = given >= 0 ? [...args.slice(0, given), ...args.slice(given + 2)] : args;
const proc = Bun.spawn(
  [
    process.execPath,
    "build",
    "--compile",
    "--minify",
    "--sourcemap=none",
    `--define=STASH2PLEX_VERSION=${JSON.stringify(pkg.version)}`,
    // The Stash plugin package's date (Stash offers an update when it is newer than the installed one's).
    `--define=STASH2PLEX_BUILT_AT=${JSON.stringify(new Date().toISOString().slice(0, 19) + "Z")}`,
    ...(target ? [`--target=${target}`] : []),
    join(root, "src/main.ts"),
    "--outfile",
    outfile,
    ...extra,
  ],
  { stdout: "inherit", stderr: "inherit", cwd: root },
);
const code = await proc.exited;
if (code === 0) console.log(`built ${outfile} (stash2plex ${pkg.version}, ${target ?? "this machine's runtime"})`);
process.exit(code);
