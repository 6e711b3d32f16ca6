/**
 * `bun scripts/stash-plugin.ts [outdir]`: the Stash plugin source a release publishes beside the
 * image — index.yml and stash2plex.zip side by side (dist/stash-plugin by default), the same
 * package a running service serves at /stash-plugin/, for this version. It names no stash2plex
 * address (a release cannot know yours), so Stash's pages are not told they may connect to it:
 * the plugin's tasks and instant pushes work, and the scene-page panel needs the package from
 * your own service's source (http://<stash2plex>:8787/stash-plugin/index.yml).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE_FILE, pluginIndex, pluginPackage } from "../src/admin/stash-plugin-package.ts";

const out = process.argv[2] ?? join(import.meta.dir, "../dist/stash-plugin");
mkdirSync(out, { recursive: true });
writeFileSync(join(out, PACKAGE_FILE), pluginPackage(undefined).zip);
writeFileSync(join(out, "index.yml"), pluginIndex(undefined, PACKAGE_FILE));
console.log(`wrote ${join(out, "index.yml")} and ${join(out, PACKAGE_FILE)}`);
