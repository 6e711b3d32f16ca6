/**
 * Pure mapping of a TV-style library to the Plex metadata PMS stores: a show (a studio, a
 * studio with its sub-studios, or a group), its seasons, and its episodes (Stash scenes).
 * Plex's provider docs: a season names its show (parent*), an episode its season (parent*)
 * and its show (grandparent*); GUIDs are `{tv identifier}://show|season|episode/{ratingKey}`.
 * The scene's own fields come from metadata.ts's pieces, so an episode says what the movie
 * of the same scene says. No I/O.
 */
import type { StashGroup, StashScene } from "../schema/stash.ts";
import type { PlexImage, PlexMetadata } from "../schema/plex.ts";
import type { Placement, SeasonSummary, ShowSummary } from "../tv/types.ts";
import { sceneTitle } from "../domain/scene.ts";
import {
  EPISODE_ID,
  episodeRef,
  guidOf,
  plexTypeOf,
  ratingKeyOf,
  SEASON_ID,
  seasonIdOf,
  seasonRef,
  SHOW_ID,
  showRef,
  type Ref,
  type ShowScheme,
} from "../domain/ref.ts";
import {
  chapters,
  dropUndefined,
  genres,
  guids,
  hasOwnImage,
  imageUrl,
  rating,
  roles,
  sceneDate,
  versionedImageUrl,
  sceneDuration,
  validDate,
  type MetadataContext,
} from "./metadata.ts";

/** What the TV mapping needs: the instance's metadata settings and its TV provider's identifier. */
export interface TvContext {
  ctx: MetadataContext;
  /** The TV provider's identifier (tvIdentifierOf), the scheme of every GUID it serves. */
  tvIdentifier: string;
  /** The Stash instance's id (the references it names). */
  instance: string;
}

/** What a TV rating key names; null for text that is none of the three forms. */
export type TvKey =
  | { kind: "show"; showId: string; scheme: ShowScheme; id: string }
  | { kind: "season"; showId: string; season: number }
  | { kind: "episode"; scheme: ShowScheme; sceneId: string };

export function parseTvKey(key: string): TvKey | null {
  const show = SHOW_ID.exec(key);
  if (show) return { kind: "show", showId: key, scheme: show[1] as ShowScheme, id: show[2]! };
  const season = SEASON_ID.exec(key);
  if (season) return { kind: "season", showId: season[1]!, season: Number(season[2]) };
  const episode = EPISODE_ID.exec(key);
  if (episode) return { kind: "episode", scheme: episode[1] as ShowScheme, sceneId: episode[2]! };
  return null;
}

/** The scheme and Stash id of a show id (`st12` → st, 12). */
export const showParts = (showId: string) => {
  const m = SHOW_ID.exec(showId);
  return m ? { scheme: m[1] as ShowScheme, id: m[2]! } : undefined;
};

/** Season 0 holds the undated scenes (studio layout) or those without an index (group layout). */
export const seasonTitle = (season: number) => (season === 0 ? "Specials" : `Season ${season}`);

const keyOf = (ref: Ref) => `/library/metadata/${ratingKeyOf(ref)}`;
/** Plex's docs give a show or season the path of its children as `key`; an episode its own. */
const childrenKeyOf = (ref: Ref) => `${keyOf(ref)}/children`;

/** What Stash says of a show beyond the catalog's title and counts. */
export interface ShowInfo {
  /** The show's first episode's scene (its date, screenshot and studio). */
  firstScene?: StashScene;
  /** A group show's group. */
  group?: StashGroup;
  /** A studio show's studio (the network of an `sn` show), with its description and image. */
  studio?: { id: string; details?: string | null; image_path?: string | null };
}

/** The show's poster: the studio's image (or the group's front image) through our image proxy. */
export function showPoster(showId: string, info: ShowInfo, ctx: MetadataContext): string | undefined {
  const parts = showParts(showId);
  if (!parts) return undefined;
  if (parts.scheme === "gr") {
    const front = info.group?.front_image_path;
    return hasOwnImage(front) ? versionedImageUrl(ctx, "group", parts.id, front) : undefined;
  }
  // A studio we know to have no image gets none; one we know nothing of is linked (the proxy answers 404 if Stash has none).
  const own =
    info.studio?.id === parts.id
      ? info.studio
      : info.firstScene?.studio?.id === parts.id
        ? info.firstScene.studio
        : undefined;
  if (own && !hasOwnImage(own.image_path)) return undefined;
  return versionedImageUrl(ctx, "studio", parts.id, own?.image_path);
}

/** Its artwork: the poster, and a scene's screenshot as the background. */
export function showImages(show: ShowSummary, info: ShowInfo, ctx: MetadataContext): PlexImage[] {
  const poster = showPoster(show.id, info, ctx);
  const scene = info.firstScene;
  const art = scene?.paths.screenshot ? imageUrl(ctx, "scene", scene.id) : undefined;
  return [
    ...(poster ? [{ type: "coverPoster" as const, url: poster, alt: show.title }] : []),
    ...(art ? [{ type: "background" as const, url: art, alt: show.title }] : []),
  ];
}

export function showToMetadata(show: ShowSummary, info: ShowInfo, tv: TvContext): PlexMetadata {
  const ref = showRef(tv.instance, show.id);
  const images = showImages(show, info, tv.ctx);
  const date = validDate(info.group?.date) ?? (info.firstScene && !info.group ? sceneDate(info.firstScene) : undefined);
  const summary = (info.group ? info.group.synopsis : info.studio?.details)?.trim() || undefined;
  return dropUndefined({
    ratingKey: ratingKeyOf(ref),
    key: childrenKeyOf(ref),
    guid: guidOf(tv.tvIdentifier, ref),
    type: plexTypeOf(ref.kind),
    title: show.title,
    originallyAvailableAt: date,
    year: date ? Number(date.slice(0, 4)) : undefined,
    isAdult: true,
    summary,
    studio: showParts(show.id)?.scheme === "gr" ? undefined : show.title,
    contentRating: tv.ctx.contentRating || undefined,
    thumb: images.find((i) => i.type === "coverPoster")?.url,
    art: images.find((i) => i.type === "background")?.url,
    Image: images.length ? images : undefined,
    childCount: show.seasons,
    leafCount: show.episodes,
  } as PlexMetadata);
}

/** A year season starts on 1 January of it; Season 0 and a group's Season 1 have no date of their own. */
const seasonDate = (season: number) => (season >= 1900 && season <= 2999 ? `${season}-01-01` : undefined);

export function seasonToMetadata(
  show: ShowSummary,
  season: SeasonSummary,
  showPosterUrl: string | undefined,
  tv: TvContext,
): PlexMetadata {
  const ref = seasonRef(tv.instance, seasonIdOf(show.id, season.season));
  const parent = showRef(tv.instance, show.id);
  const date = seasonDate(season.season);
  return dropUndefined({
    ratingKey: ratingKeyOf(ref),
    key: childrenKeyOf(ref),
    guid: guidOf(tv.tvIdentifier, ref),
    type: plexTypeOf(ref.kind),
    title: seasonTitle(season.season),
    index: season.season,
    originallyAvailableAt: date,
    year: date ? season.season : undefined,
    isAdult: true,
    contentRating: tv.ctx.contentRating || undefined,
    leafCount: season.episodes,
    parentRatingKey: ratingKeyOf(parent),
    parentKey: keyOf(parent),
    parentGuid: guidOf(tv.tvIdentifier, parent),
    parentType: "show",
    parentTitle: show.title,
    parentThumb: showPosterUrl,
  } as PlexMetadata);
}

/** An episode's still: the scene's screenshot, as snapshot (Plex's episode image) and background. */
export function episodeImages(scene: StashScene, ctx: MetadataContext): PlexImage[] {
  if (!scene.paths.screenshot) return [];
  const url = imageUrl(ctx, "scene", scene.id);
  const alt = sceneTitle(scene);
  return [
    { type: "snapshot", url, alt },
    { type: "background", url, alt },
  ];
}

/** The reference a placement's episode is served under. */
export const episodeRefOf = (instance: string, placement: Pick<Placement, "scheme" | "sceneId">) =>
  episodeRef(instance, placement.scheme, placement.sceneId);

export function episodeToMetadata(
  scene: StashScene,
  placement: Placement,
  show: Pick<ShowSummary, "id" | "title">,
  tv: TvContext,
): PlexMetadata {
  const { ctx } = tv;
  const ref = episodeRefOf(tv.instance, placement);
  const season = seasonRef(tv.instance, seasonIdOf(placement.showId, placement.season));
  const grand = showRef(tv.instance, show.id);
  const date = sceneDate(scene);
  const duration = sceneDuration(scene);
  const images = episodeImages(scene, ctx);
  return dropUndefined({
    ratingKey: ratingKeyOf(ref),
    key: keyOf(ref),
    guid: guidOf(tv.tvIdentifier, ref),
    type: plexTypeOf(ref.kind),
    title: sceneTitle(scene),
    index: placement.episode,
    parentIndex: placement.season,
    originallyAvailableAt: date,
    year: Number(date.slice(0, 4)),
    isAdult: true,
    addedAt: Math.floor(Date.parse(scene.created_at) / 1000) || undefined,
    summary: scene.details?.trim() || undefined,
    contentRating: ctx.contentRating || undefined,
    duration,
    thumb: images[0]?.url,
    Image: images.length ? images : undefined,
    parentRatingKey: ratingKeyOf(season),
    parentKey: keyOf(season),
    parentGuid: guidOf(tv.tvIdentifier, season),
    parentType: "season",
    parentTitle: seasonTitle(placement.season),
    grandparentRatingKey: ratingKeyOf(grand),
    grandparentKey: keyOf(grand),
    grandparentGuid: guidOf(tv.tvIdentifier, grand),
    grandparentType: "show",
    grandparentTitle: show.title,
    Role: roles(scene, ctx),
    Director: scene.director?.trim() ? [{ tag: scene.director.trim() }] : undefined,
    Genre: genres(scene, ctx),
    Rating: rating(scene, ctx),
    Chapter: chapters(scene, duration),
    Guid: guids(scene),
  } as PlexMetadata);
}
