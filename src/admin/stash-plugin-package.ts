/**
 * The Stash plugin as a package Stash's plugin manager installs (Settings → Plugins → Available
 * Plugins → Add Source): an index of one package and its zip, as Stash's pkg/pkg reads them. The
 * index is a YAML list of packages (id, name, metadata, version, date, path, sha256); Stash
 * downloads the zip from `path` (resolved against the index's URL), refuses it unless its
 * sha256 is the one named, and unpacks it into plugins/<id>/.
 *
 * The package is exactly this service's: the plugin's files as this version ships them, with its
 * version, and with the address Stash's pages must be allowed to connect to for the scene panel
 * (`ui.csp.connect-src`: the address the source was added with, which is how Stash and the
 * browser reach this service). A package holds no token.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { VERSION } from "../version.ts";
import { zipStored } from "./zip.ts";
import pluginYml from "../../deploy/stash-plugin/stash2plex.yml" with { type: "text" };
import pluginPy from "../../deploy/stash-plugin/stash2plex.py" with { type: "text" };
import httpPy from "../../deploy/stash-plugin/s2p_http.py" with { type: "text" };
import tasksPy from "../../deploy/stash-plugin/s2p_tasks.py" with { type: "text" };
import panelJs from "../../deploy/stash-plugin/stash2plex.js" with { type: "text" };
import panelCss from "../../deploy/stash-plugin/stash2plex.css" with { type: "text" };

export const PLUGIN_ID = "stash2plex";
export const PACKAGE_FILE = `${PLUGIN_ID}.zip`;
/** Where this service serves the package (an absolute path: read the same by Stash versions that
 * resolve it against the index's URL and by older ones that put it in place of the URL's path). */
export const PACKAGE_PATH = `/stash-plugin/${PACKAGE_FILE}`;

declare const STASH2PLEX_BUILT_AT: string | undefined;
/**
 * The package's date: Stash offers an update when a source's date is newer than the installed
 * one's. Fixed per build (the executable's build time), or from source the newest plugin file.
 */
function packageDate(): Date {
  if (typeof STASH2PLEX_BUILT_AT === "string") return new Date(STASH2PLEX_BUILT_AT);
  try {
    const dir = join(import.meta.dir, "../../deploy/stash-plugin");
    const times = [
      "stash2plex.yml",
      "stash2plex.py",
      "s2p_http.py",
      "s2p_tasks.py",
      "stash2plex.js",
      "stash2plex.css",
    ].map((f) => statSync(join(dir, f)).mtimeMs);
    const newest = new Date(Math.max(...times));
    newest.setUTCMilliseconds(0);
    return newest;
  } catch {
    // An executable built without the build script's date (no plugin files beside it): a fixed
    // date, so the package never looks newer than itself.
    return new Date("2026-01-01T00:00:00Z");
  }
}
let date: Date | undefined;
const packageDateOnce = () => (date ??= packageDate());
/** Stash's package time format (UTC). */
const stashTime = (d: Date) => d.toISOString().replace("T", " ").slice(0, 19);

/** The plugin's YAML as this service ships it: its version, and the address its panel may connect to. */
function pluginConfig(connectTo: string | undefined): string {
  const config = parse(pluginYml) as Record<string, unknown> & { ui?: Record<string, unknown> };
  config.version = VERSION;
  if (connectTo) config.ui = { ...config.ui, csp: { "connect-src": [connectTo] } };
  return stringify(config, { lineWidth: 0 });
}

export interface PluginPackage {
  files: { name: string; data: Uint8Array }[];
  zip: Uint8Array;
  sha256: string;
}

const text = (s: string) => new TextEncoder().encode(s);
const built = new Map<string, PluginPackage>();

/** The package for a source added at `origin` (its scheme, host and port), built once per origin. */
export function pluginPackage(origin: string | undefined): PluginPackage {
  const key = origin ?? "";
  const known = built.get(key);
  if (known) return known;
  const files = [
    { name: `${PLUGIN_ID}.yml`, data: text(pluginConfig(origin)) },
    { name: "stash2plex.py", data: text(pluginPy) },
    { name: "s2p_http.py", data: text(httpPy) },
    { name: "s2p_tasks.py", data: text(tasksPy) },
    { name: "stash2plex.js", data: text(panelJs.replace("__STASH2PLEX_PLUGIN_VERSION__", VERSION)) },
    { name: "stash2plex.css", data: text(panelCss) },
  ];
  const zip = zipStored(files, packageDateOnce());
  const made = { files, zip, sha256: new Bun.CryptoHasher("sha256").update(zip).digest("hex") };
  // One per address the source is added with (a handful); a flood of made-up Host headers is not kept.
  if (built.size >= 8) built.clear();
  built.set(key, made);
  return made;
}

/**
 * The source's index: this one package, as Stash's plugin manager lists it. `path`: where the zip
 * is, relative to the index (a release publishes both side by side) or absolute on this service.
 */
export function pluginIndex(origin: string | undefined, path = PACKAGE_PATH): string {
  const pkg = pluginPackage(origin);
  return stringify(
    [
      {
        id: PLUGIN_ID,
        name: "stash2plex",
        metadata: {
          description:
            "Sends scene changes to stash2plex at once, shows each scene's state in Plex on its page, and adds tasks (sync, reconcile, dead letters, status).",
        },
        version: VERSION,
        date: stashTime(packageDateOnce()),
        path,
        sha256: pkg.sha256,
      },
    ],
    { lineWidth: 0 },
  );
}
