/**
 * `check`'s lines for TV-style libraries, per library: its episode folder (there or creatable,
 * writable, outside every Stash library folder), the TV provider's URL to paste into Plex, its
 * Plex section (a TV library on that folder, on the TV provider's agent), and the scenes that
 * cannot be placed or are placed other than a viewer expects, with where they went.
 */
import { accessSync, constants, statSync } from "node:fs";
import { dirname } from "node:path";
import type { Config } from "../config/schema.ts";
import { instancesOf, type StashInstance } from "../config/instances.ts";
import { tvIdentifierOf, tvPathOf } from "../domain/ref.ts";
import { compilePathRules } from "../paths/mapper.ts";
import type { PlexSection } from "../plex/client.ts";
import { createStashClient } from "../stash/client.ts";
import { openStore } from "../store/db.ts";
import { isInside } from "../sync/push.ts";
import { createTvCatalog } from "../tv/catalog.ts";
import { tvCheck, type TvCheckEntry } from "../tv/check.ts";
import { folderProblems, tvLibrariesOf, type TvLibrary } from "../tv/libraries.ts";
import type { TvScene } from "../tv/placement.ts";
import type { CheckLine } from "./check.ts";

/** Scenes listed by name per library; the rest are counted. */
const LISTED = 20;
const PAGE = 1000;

/** Whether a folder is there and writable, or can be made (its parent is). */
function folderLine(lib: TvLibrary): CheckLine {
  const what = `tv ${lib.id} folder`;
  const writable = (path: string) => {
    try {
      accessSync(path, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  };
  let stat: ReturnType<typeof statSync> | undefined;
  try {
    stat = statSync(lib.folder);
  } catch {
    stat = undefined;
  }
  if (stat && !stat.isDirectory()) return { ok: false, what, detail: `${lib.folder} is a file, not a folder` };
  if (stat)
    return writable(lib.folder)
      ? { ok: true, what, detail: `${lib.folder} is writable` }
      : { ok: false, what, detail: `${lib.folder} is not writable by this user: the links cannot be written` };
  return writable(dirname(lib.folder))
    ? { ok: true, level: "note", what, detail: `${lib.folder} does not exist yet; the service creates it` }
    : { ok: false, what, detail: `${lib.folder} does not exist and cannot be created (${dirname(lib.folder)})` };
}

/** The Plex section on the library's folder: a TV library on the TV provider's agent. */
function sectionLine(lib: TvLibrary, instance: StashInstance, sections: PlexSection[], url: string): CheckLine {
  const what = `tv ${lib.id} plex section`;
  const plexFolder = lib.plexFolder ?? compilePathRules(instance.paths.rules).mapper.toPlex(lib.folder)?.path;
  if (!plexFolder)
    return {
      ok: false,
      what,
      detail: `no path rule maps ${lib.folder} to a path Plex sees: set plexFolder on this TV library`,
    };
  const agent = tvIdentifierOf(instance.provider.identifier);
  const section = sections.find((s) => s.locations.some((l) => isInside(plexFolder, l) || isInside(l, plexFolder)));
  if (!section)
    return {
      ok: true,
      level: "warn",
      what,
      detail: `no Plex library holds ${plexFolder}: add a TV Shows library on that folder whose agent is built on ${url}`,
    };
  const name = `${section.key} "${section.title}"`;
  if (section.type !== "show")
    return {
      ok: false,
      what,
      detail: `${name} is a ${section.type} library: the episode folder needs a TV Shows library`,
    };
  if (section.agent !== agent)
    return {
      ok: false,
      what,
      detail: `${name} uses the agent ${section.agent || "none"}: choose the agent built on ${url} (identifier ${agent})`,
    };
  return { ok: true, what, detail: `${name} holds ${plexFolder} on the TV provider's agent` };
}

/** A scene as a person reads it in the list. */
const entryText = (e: TvCheckEntry) => `scene ${e.sceneId}${e.title ? ` "${e.title}"` : ""}: ${e.problem} — ${e.where}`;

/** The scenes that cannot be placed, or went to Specials, with where they went. */
async function scenesLine(lib: TvLibrary, instance: StashInstance, config: Config): Promise<CheckLine> {
  const what = `tv ${lib.id} scenes`;
  const stash = createStashClient(instance.stash);
  const scenes: TvScene[] = [];
  try {
    for (let page = 1; ; page++) {
      const { count, items } = await stash.tvScenesPage(page, PAGE);
      scenes.push(...items);
      if (items.length < PAGE || scenes.length >= count) break;
    }
  } catch (err) {
    return { ok: false, what, detail: `cannot read the scenes: ${(err as Error).message}` };
  }
  // Where the running service placed them (its catalog); none yet: "not placed yet (next sync)".
  let entries: TvCheckEntry[];
  try {
    const store = openStore(config.dataDir);
    try {
      const catalog = createTvCatalog({ db: store.db, instance: instance.id, schemes: [lib.scheme] });
      entries = tvCheck(scenes, [lib.scheme], catalog.placementOf);
    } finally {
      store.close();
    }
  } catch {
    entries = tvCheck(scenes, [lib.scheme], () => undefined);
  }
  if (!entries.length) return { ok: true, what, detail: `all ${scenes.length} scenes placed as dated episodes` };
  const counts = new Map<string, number>();
  for (const e of entries) {
    const kind = e.problem.replace(/^index \d+/, "index");
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const summary = [...counts].map(([problem, n]) => `${n} ${problem}`).join(", ");
  const listed = entries.slice(0, LISTED).map(entryText);
  if (entries.length > LISTED) listed.push(`… and ${entries.length - LISTED} more`);
  return {
    ok: true,
    level: "note",
    what,
    detail: [`of ${scenes.length} scenes: ${summary}`, ...listed].join("\n    "),
  };
}

/** Every TV library's lines; `sections` are Plex's (undefined when Plex is off or did not answer). */
export async function tvCheckLines(config: Config, sections: PlexSection[] | undefined): Promise<CheckLine[]> {
  const libraries = tvLibrariesOf(config);
  if (!libraries.length) return [];
  const instances = instancesOf(config);
  const lines: CheckLine[] = [];
  const stashFolders = new Map<string, string[]>();
  for (const lib of libraries) {
    const instance = instances.find((i) => i.id === lib.instance)!;
    const url = `${config.publicUrl}${tvPathOf(instance.path)}`;
    lines.push(folderLine(lib));
    if (!stashFolders.has(instance.id))
      stashFolders.set(
        instance.id,
        await createStashClient(instance.stash)
          .libraryPaths()
          .catch(() => []),
      );
    const [overlap] = folderProblems([lib], stashFolders);
    if (overlap) lines.push({ ok: false, what: `tv ${lib.id} folder`, detail: overlap });
    lines.push({
      ok: true,
      what: `tv ${lib.id} provider`,
      detail: `add ${url} in Plex (Settings → Metadata Agents → Add Provider); identifier ${tvIdentifierOf(instance.provider.identifier)}`,
    });
    if (sections) lines.push(sectionLine(lib, instance, sections, url));
    lines.push(await scenesLine(lib, instance, config));
  }
  return lines;
}
