/**
 * How many Plex files the provider finds with no path rule at all, by the tail rung of the
 * match ladder (provider/match.ts): the longest tail of the path, a folder and the name or
 * more, that Stash files end with. `check` uses it to tell a setup that works without rules
 * (different roots, same folders) from one where nothing can match by path (pure).
 */

const slashed = (path: string) => path.normalize("NFC").replaceAll("\\", "/");
/** Folder and name, as the Stash file index keys them (stash/file-index.ts lastTwoSegments). */
const lastTwoSegments = (path: string) => slashed(path).split("/").filter(Boolean).slice(-2).join("/");

export interface TailCoverage {
  /** Plex files whose longest shared tail one Stash file has: matched automatically. */
  found: number;
  /** Plex files whose longest shared tail several Stash files have: left to Fix Match. */
  ambiguous: number;
}

export function tailCoverage(plexFiles: readonly string[], stashFiles: readonly string[]): TailCoverage {
  const byFolderAndName = new Map<string, string[]>();
  for (const path of stashFiles) {
    const key = lastTwoSegments(path);
    if (!key.includes("/")) continue;
    const list = byFolderAndName.get(key);
    if (list) list.push(slashed(path));
    else byFolderAndName.set(key, [slashed(path)]);
  }
  let found = 0;
  let ambiguous = 0;
  for (const file of plexFiles) {
    const same = byFolderAndName.get(lastTwoSegments(file));
    if (!same) continue;
    const segments = slashed(file).split("/").filter(Boolean);
    for (let k = segments.length; k >= 2; k--) {
      const tail = segments.slice(-k).join("/");
      const hits = same.filter((p) => p === tail || p.endsWith(`/${tail}`)).length;
      if (hits === 0) continue;
      if (hits === 1) found++;
      else ambiguous++;
      break;
    }
  }
  return { found, ambiguous };
}
