/**
 * Pure: the gaps of TV-style libraries. The episodes of each TV section (a `type=4` listing)
 * against Stash's scenes streamed past it: an episode showing another title, date, performers
 * or tags than its scene is stale (the same compare.ts rules as movies; a locked field is kept),
 * a scene placed in a library with no episode there is missing, an episode bound to no scene
 * (or to one Stash no longer has) is reported, and a show whose title is not its studio's or
 * group's name is stale. Every gap names the episode as a person finds it: its show and season.
 */
import { refFromGuid, sceneIdOf, type ShowScheme } from "../domain/ref.ts";
import type { Gap, KeptItem } from "../domain/gaps.ts";
import type { StashScene } from "../schema/stash.ts";
import type { Placement } from "../tv/types.ts";
import { stashIsEmpty } from "../domain/scene.ts";
import { differingFields, showsNothing, type ComparedField, type Shown } from "./compare.ts";
import { itemsInMemory, type ItemSource } from "./detect.ts";

/** The fields an episode carries from its scene (the show carries the studio, the season the year). */
export const TV_COMPARED: ReadonlySet<ComparedField> = new Set(["title", "date", "performers", "genres"]);

/** One episode as a TV section lists it. */
export interface EpisodeView {
  ratingKey: string;
  sectionId: string;
  guid: string;
  files: string[];
  /** Its show's title and its season and episode numbers, as Plex shows them. */
  show: string;
  season?: number;
  episode?: number;
  shown: Shown;
  /** `shown` comes from the item itself (every tag), not a listing row. */
  full?: boolean;
  locked?: ReadonlySet<ComparedField>;
}

/** One show as a TV section lists it. */
export interface ShowView {
  ratingKey: string;
  sectionId: string;
  guid: string;
  title: string;
}

/** One TV library of the instance, as the detector reads it. */
export interface TvLibraryView {
  id: string;
  scheme: ShowScheme;
  /** Its Plex section (none: Plex has no section on its folder yet; nothing to compare). */
  sectionId?: string;
  placementOf(sceneId: string): Placement | undefined;
  showTitle(showId: string): string | undefined;
  /** A link's path (inside the episode folder) as Plex sees it. */
  plexPathOf(link: string): string | null;
}

export interface TvDetectContext {
  instance: string;
  tvIdentifier: string;
  libraries: readonly TvLibraryView[];
  expected(scene: StashScene): Shown;
}

/** The id token every link's name carries (`{s2p-st-42}`): the episode a file is, whatever Plex bound it to. */
const TOKEN = /\{s2p-(st|sn|gr)-(\d{1,18})\}/;
export const episodeIdOfFile = (file: string) => {
  const m = TOKEN.exec(file.split(/[\\/]/).at(-1) ?? "");
  return m ? `${m[1]}-${m[2]}` : null;
};

/** "episode S2023E0412 of "Studio A" (item 7)" — as a person finds it in Plex. */
export const episodeName = (e: Pick<EpisodeView, "ratingKey" | "show" | "season" | "episode">) =>
  `episode ${e.season === undefined ? "" : `S${e.season}`}${e.episode === undefined ? "" : `E${e.episode}`}${
    e.season === undefined && e.episode === undefined ? "" : " "
  }of "${e.show || "an untitled show"}" (item ${e.ratingKey})`;

/** The episode id an item is bound to (`st-42`), or null when the GUID is not our TV provider's. */
const boundToOf = (ctx: Pick<TvDetectContext, "instance" | "tvIdentifier">) => {
  const names = [{ id: ctx.instance, identifier: "\u0000", tvIdentifier: ctx.tvIdentifier }];
  return (guid: string) => {
    const ref = refFromGuid(guid, names);
    return ref?.kind === "episode" ? ref.id : null;
  };
};

/** The key an episode is found by: its section and the episode it is bound to, or else the one its file names. */
export const episodeKeyOf = (ctx: Pick<TvDetectContext, "instance" | "tvIdentifier">) => {
  const boundTo = boundToOf(ctx);
  return (e: Pick<EpisodeView, "guid" | "files" | "sectionId">): string[] => {
    const id = boundTo(e.guid) ?? episodeIdOfFile(e.files[0] ?? "");
    return id ? [episodeKey(e.sectionId, id)] : [];
  };
};
const episodeKey = (sectionId: string, episodeId: string) => `${sectionId}\u0000${episodeId}`;

export function createTvDetector(
  listed: EpisodeView[] | ItemSource<EpisodeView>,
  shows: ShowView[],
  ctx: TvDetectContext,
) {
  const names = [{ id: ctx.instance, identifier: "\u0000", tvIdentifier: ctx.tvIdentifier }];
  const boundTo = boundToOf(ctx);
  const episodes = Array.isArray(listed) ? itemsInMemory(listed, episodeKeyOf(ctx)) : listed;
  const sceneIds = new Set<string>();
  const gaps: Gap[] = [];
  const kept: KeptItem[] = [];

  /** The keys a scene's episodes are found by, one per library. */
  const keysOf = (s: StashScene) =>
    ctx.libraries.flatMap((lib) => (lib.sectionId ? [episodeKey(lib.sectionId, `${lib.scheme}-${s.id}`)] : []));

  /** The episode items of a scene in its libraries (to read whole before comparing). */
  function holders(s: StashScene): EpisodeView[] {
    return ctx.libraries.flatMap((lib) =>
      lib.sectionId && lib.placementOf(s.id)
        ? episodes.holding(episodeKey(lib.sectionId, `${lib.scheme}-${s.id}`))
        : [],
    );
  }

  function scene(s: StashScene): Gap[] {
    const before = gaps.length;
    sceneIds.add(s.id);
    const stashPaths = s.files.map((f) => f.path);
    for (const lib of ctx.libraries) {
      const placement = lib.placementOf(s.id);
      if (!placement || !lib.sectionId) continue;
      const items = episodes.holding(episodeKey(lib.sectionId, `${lib.scheme}-${s.id}`));
      const where = `S${placement.season}E${placement.episode} of show ${placement.showId}`;
      if (!items.length) {
        const at = lib.plexPathOf(placement.link);
        gaps.push({
          kind: "missing-in-plex",
          sceneId: s.id,
          sectionId: lib.sectionId,
          plexPaths: at ? [at] : [],
          stashPaths,
          reason: `TV library ${lib.id}: Plex has no episode for Stash scene ${s.id} (${where}${at ? `, ${at}` : ""})`,
        });
        continue;
      }
      for (const item of items) {
        episodes.claim(item);
        const base = {
          sceneId: s.id,
          ratingKey: item.ratingKey,
          sectionId: item.sectionId,
          plexPaths: item.files,
          stashPaths,
        };
        const name = episodeName(item);
        if (boundTo(item.guid) === null) {
          gaps.push({
            kind: "unmatched",
            ...base,
            reason: `TV library ${lib.id}: ${name} is not bound to Stash scene ${s.id}, though its link is that scene's`,
          });
          continue;
        }
        if (stashIsEmpty(s)) continue; // Plex is left as it is (the movie side reports stash-empty once)
        if (showsNothing(item.shown) && !item.shown.title) {
          gaps.push({ kind: "empty", ...base, reason: `TV library ${lib.id}: ${name} shows no metadata` });
          continue;
        }
        const differ = differingFields(ctx.expected(s), item.shown, !item.full, TV_COMPARED);
        const locked = differ.filter((f) => item.locked?.has(f));
        const fields = differ.filter((f) => !locked.includes(f));
        if (locked.length) kept.push({ ratingKey: item.ratingKey, sceneId: s.id, fields: locked });
        if (fields.length)
          gaps.push({
            kind: "stale",
            ...base,
            fields,
            reason: `TV library ${lib.id}: ${name} differs from Stash scene ${s.id} in ${fields.join(", ")}`,
          });
      }
    }
    return gaps.slice(before);
  }

  function finish(): Gap[] {
    const tvSections = new Set(ctx.libraries.flatMap((l) => l.sectionId ?? []));
    for (const e of episodes.unclaimed()) {
      if (!tvSections.has(e.sectionId)) continue;
      const id = boundTo(e.guid);
      const sceneId = id ? sceneIdOf({ instance: ctx.instance, kind: "episode", id }) : null;
      const base = { ratingKey: e.ratingKey, sectionId: e.sectionId, plexPaths: e.files, stashPaths: [] };
      const name = episodeName(e);
      if (sceneId && !sceneIds.has(sceneId))
        gaps.push({
          kind: "orphaned",
          ...base,
          reason: `${name} is bound to scene ${sceneId}, which Stash no longer has`,
        });
      else if (!id)
        gaps.push({
          kind: "unknown-to-stash",
          ...base,
          reason: `${name} (${e.files.join(", ")}) is bound to no Stash scene and its file is not one of our links`,
        });
    }
    for (const show of shows) {
      if (!tvSections.has(show.sectionId)) continue;
      const ref = refFromGuid(show.guid, names);
      if (ref?.kind !== "show") continue;
      const lib = ctx.libraries.find((l) => l.sectionId === show.sectionId);
      const title = lib?.showTitle(ref.id);
      if (title !== undefined && title !== show.title)
        gaps.push({
          kind: "stale",
          ratingKey: show.ratingKey,
          sectionId: show.sectionId,
          plexPaths: [],
          stashPaths: [],
          fields: ["title"],
          values: { title: { stash: title, plex: show.title } },
          reason: `show "${show.title}" (item ${show.ratingKey}) is called "${title}" in Stash`,
        });
    }
    return gaps;
  }

  return {
    scene,
    finish,
    holders,
    kept: (): readonly KeptItem[] => kept,
    /** Looks up the episodes of a page of scenes at once (see ItemSource.prefetch). */
    prefetch: (scenes: readonly StashScene[]) => episodes.prefetch?.(scenes.flatMap(keysOf)),
  };
}
