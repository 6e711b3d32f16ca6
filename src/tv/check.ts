/**
 * What `check` says of a TV library's scenes: those that cannot be placed (no file; no studio
 * or no group: not placed), those placed whose file no link on this system can reach (a Windows
 * path: no link, so not in Plex's TV library) and those placed other than a viewer expects
 * (undated → Specials; a group index another scene holds → Specials), each with where it went.
 * Pure.
 */
import type { ShowScheme } from "../domain/ref.ts";
import { unreachablePath } from "./episode-folder.ts";
import { placeScene, type TvScene } from "./placement.ts";
import type { Placement } from "./types.ts";

export interface TvCheckEntry {
  scheme: ShowScheme;
  sceneId: string;
  title: string | null;
  /** What is odd: "no file", "no studio", "in no group", "on a Windows path", "undated", "index taken". */
  problem: string;
  /** Where it went: the link inside the episode folder, or "not placed". */
  where: string;
}

export function tvCheck(
  scenes: Iterable<TvScene>,
  schemes: readonly ShowScheme[],
  placementOf: (scheme: ShowScheme, sceneId: string) => Placement | undefined,
): TvCheckEntry[] {
  const entries: TvCheckEntry[] = [];
  for (const scene of scenes) {
    for (const scheme of schemes) {
      const placed = placeScene(scene, scheme);
      const base = { scheme, sceneId: scene.id, title: scene.title ?? null };
      if (!placed.ok) {
        const problem = placed.reason.startsWith("no file") ? "no file" : placed.reason;
        entries.push({ ...base, problem, where: "not placed" });
        continue;
      }
      // The catalog places it, but the episode folder cannot link a file this system has no path for.
      const path = scene.files[0]!.path;
      const unreachable = unreachablePath(path);
      if (unreachable) {
        const problem = unreachable === "windows-path" ? "on a Windows path → no link" : "not a full path → no link";
        entries.push({ ...base, problem, where: `its file is ${path}` });
        continue;
      }
      const at = placementOf(scheme, scene.id);
      const where = at ? `${at.link} (Season ${at.season}, episode ${at.episode})` : "not placed yet (next sync)";
      if (placed.place.claim.kind === "index" && at && at.season !== placed.place.season)
        entries.push({
          ...base,
          problem: `index ${placed.place.claim.index} taken by another scene → Specials`,
          where,
        });
      else if (scheme !== "gr" && placed.place.season === 0)
        entries.push({ ...base, problem: "undated → Specials", where });
    }
  }
  return entries;
}
