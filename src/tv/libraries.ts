/**
 * The TV libraries of a config, resolved (their instance, their show scheme), and the start-up
 * check that needs Stash: an episode folder inside (or equal to, or holding) one of Stash's
 * library folders is refused, because Stash would scan the links and add every scene twice.
 * (Config-only checks, an unknown instance or a folder shared by two TV libraries, are in
 * config/instances.ts with the rest of the config's.)
 */
import type { ShowScheme } from "../domain/ref.ts";
import { instancesOf, nestedFolders } from "../config/instances.ts";
import type { Config } from "../config/schema.ts";
import { type Layout, schemeOf } from "./placement.ts";

export interface TvLibrary {
  id: string;
  /** The Stash instance whose scenes it shows. */
  instance: string;
  layout: Layout;
  scheme: ShowScheme;
  /** The episode folder as stash2plex (and Stash) name it. */
  folder: string;
  /** The same folder as Plex names it, when set. */
  plexFolder?: string;
}

export function tvLibrariesOf(config: Config): TvLibrary[] {
  const defaultInstance = instancesOf(config)[0]!.id;
  return (config.tv?.libraries ?? []).map((lib) => {
    const layout: Layout = { layout: lib.layout, parentStudio: lib.parentStudio };
    return {
      id: lib.id,
      instance: lib.instance ?? defaultInstance,
      layout,
      scheme: schemeOf(layout),
      folder: lib.folder,
      ...(lib.plexFolder ? { plexFolder: lib.plexFolder } : {}),
    };
  });
}

/** The show schemes one instance's TV libraries use (its catalog places scenes in each). */
export const schemesOf = (libraries: readonly TvLibrary[], instance: string): ShowScheme[] => [
  ...new Set(libraries.filter((l) => l.instance === instance).map((l) => l.scheme)),
];

/** Episode folders that lie in (or are, or hold) one of their Stash's library folders: one line each. */
export function folderProblems(
  libraries: readonly TvLibrary[],
  stashFolders: ReadonlyMap<string, readonly string[]>,
): string[] {
  const problems: string[] = [];
  for (const lib of libraries) {
    for (const stashFolder of stashFolders.get(lib.instance) ?? []) {
      if (!nestedFolders(lib.folder, stashFolder)) continue;
      problems.push(
        `TV library "${lib.id}": its episode folder ${lib.folder} overlaps Stash's library folder ${stashFolder} (Stash would scan the links as new scenes) — put the episode folder outside every Stash library folder`,
      );
      break;
    }
  }
  return problems;
}

/**
 * Asks each instance's Stash for its library folders and checks every TV library's folder
 * against them. An instance whose Stash does not answer is listed in `unchecked` (start-up goes
 * on; a Stash that is down must not keep the service from starting).
 */
export async function checkTvFolders(
  libraries: readonly TvLibrary[],
  libraryPathsOf: (instance: string) => Promise<string[]>,
): Promise<{ problems: string[]; unchecked: string[] }> {
  const instances = [...new Set(libraries.map((l) => l.instance))];
  const stashFolders = new Map<string, string[]>();
  const unchecked: string[] = [];
  await Promise.all(
    instances.map(async (instance) => {
      try {
        stashFolders.set(instance, await libraryPathsOf(instance));
      } catch {
        unchecked.push(instance);
      }
    }),
  );
  return { problems: folderProblems(libraries, stashFolders), unchecked: unchecked.sort() };
}
