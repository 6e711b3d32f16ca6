/**
 * Pure mapping of a Stash scene (and group) to the Plex metadata PMS stores. No I/O:
 * everything it needs arrives in `MetadataContext`, so it is tested exhaustively.
 */
import type { StashGroup, StashScene } from "../schema/stash.ts";
import type { PlexImage, PlexMetadata } from "../schema/plex.ts";
import { sceneTitle } from "../domain/scene.ts";
import { collectionGuidOf, DEFAULT_INSTANCE_ID, guidOf, plexTypeOf, ratingKeyOf, sceneRef } from "../domain/ref.ts";

export interface MetadataContext {
  identifier: string;
  publicUrl: string;
  contentRating: string;
  genreMode: "all" | "first" | "joined";
  excludeTags: string[];
  taglineFrom: "code" | "none";
  /** critic: the rating is served with the metadata; user: it is set as the star rating on push instead. */
  ratingAs?: "critic" | "user";
}

export const collectionKey = (groupId: string) => `g${groupId}`;
type ImageKind = "scene" | "performer" | "group" | "studio";
export const imageUrl = (ctx: MetadataContext, kind: ImageKind, id: string) => `${ctx.publicUrl}/images/${kind}/${id}`;

/**
 * Whether Stash has an image of the thing's own: Stash answers an image_path for every
 * performer, studio and group, marked `default=true` when it would serve its generic
 * placeholder (Plex's own is better).
 */
export const hasOwnImage = (imagePath: string | null | undefined) =>
  Boolean(imagePath) && !/[?&]default=true(?:&|$)/.test(imagePath!);

/**
 * Our proxy's URL of an image, with Stash's version of it (the `t=` of Stash's URL: the thing's
 * updated_at): PMS keeps an image by its URL, so a new picture must be a new URL to be
 * downloaded again when the item is refreshed.
 */
export const versionedImageUrl = (
  ctx: MetadataContext,
  kind: ImageKind,
  id: string,
  stashImagePath: string | null | undefined,
) => {
  const t = /[?&]t=(\d+)/.exec(stashImagePath ?? "")?.[1];
  return `${imageUrl(ctx, kind, id)}${t ? `?t=${t}` : ""}`;
};

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
export const validDate = (text: string | null | undefined): string | undefined => {
  const m = text ? DATE.exec(text) : null;
  if (!m) return undefined;
  const d = new Date(`${text}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== text ? undefined : text!;
};

/** The release date, falling back to when Stash first saw the scene (PMS requires one). */
export function sceneDate(scene: Pick<StashScene, "date" | "created_at">): string {
  return validDate(scene.date) ?? validDate(scene.created_at.slice(0, 10)) ?? "1970-01-01";
}

/** Tags as genres, per the genre settings (mode, excluded tags). */
export function genres(scene: StashScene, ctx: MetadataContext): PlexMetadata["Genre"] {
  const excluded = new Set(ctx.excludeTags.map((t) => t.toLowerCase()));
  const names = scene.tags.map((t) => t.name).filter((n) => !excluded.has(n.toLowerCase()));
  if (names.length === 0) return undefined;
  if (ctx.genreMode === "first") return [{ tag: names[0]! }];
  if (ctx.genreMode === "joined") return [{ tag: names.join(", ") }];
  return names.map((tag) => ({ tag }));
}

/** Scene markers as chapters, each ending where the next starts (or at its own end). */
export function chapters(scene: StashScene, durationMs: number | undefined): PlexMetadata["Chapter"] {
  const markers = [...scene.scene_markers].sort((a, b) => a.seconds - b.seconds);
  if (markers.length === 0) return undefined;
  return markers.map((m, i) => {
    const start = Math.round(m.seconds * 1000);
    const nextStart = markers[i + 1] ? Math.round(markers[i + 1]!.seconds * 1000) : undefined;
    const end = m.end_seconds != null ? Math.round(m.end_seconds * 1000) : (nextStart ?? durationMs ?? start);
    return {
      tag: m.title || m.primary_tag.name,
      index: i + 1,
      startTimeOffset: start,
      endTimeOffset: Math.max(start, end),
    };
  });
}

/** stash-box ids become `{host label}://{id}`, e.g. https://stashdb.org/graphql → stashdb://…. */
export function guids(scene: StashScene): PlexMetadata["Guid"] {
  const out = scene.stash_ids.flatMap((s) => {
    let host: string;
    try {
      host = new URL(s.endpoint).hostname;
    } catch {
      return [];
    }
    const scheme = host
      .replace(/^www\./, "")
      .split(".")[0]
      ?.toLowerCase()
      .replace(/[^a-z0-9]/g, "");
    return scheme ? [{ id: `${scheme}://${s.stash_id}` }] : [];
  });
  return out.length ? out : undefined;
}

export function sceneImages(scene: StashScene, ctx: MetadataContext): PlexImage[] {
  if (!scene.paths.screenshot) return [];
  const url = imageUrl(ctx, "scene", scene.id);
  return [
    { type: "coverPoster", url, alt: sceneTitle(scene) },
    { type: "background", url, alt: sceneTitle(scene) },
  ];
}

export function groupToCollectionRef(group: StashGroup, ctx: MetadataContext) {
  const key = collectionKey(group.id);
  return {
    tag: group.name,
    guid: collectionGuidOf(ctx.identifier, key),
    key: `/library/collections/${key}`,
    ...(hasOwnImage(group.front_image_path)
      ? { thumb: versionedImageUrl(ctx, "group", group.id, group.front_image_path) }
      : {}),
    ...(group.synopsis ? { summary: group.synopsis } : {}),
  };
}

/** The longest file's length in ms (PMS wants one duration). */
export function sceneDuration(scene: StashScene): number | undefined {
  const seconds = Math.max(0, ...scene.files.map((f) => f.duration));
  return seconds > 0 ? Math.round(seconds * 1000) : undefined;
}

/** Performers as the cast, in Stash's order, with their image through our proxy. */
export function roles(scene: StashScene, ctx: MetadataContext): PlexMetadata["Role"] {
  return scene.performers.length
    ? scene.performers.map((p, i) => ({
        tag: p.name,
        ...(p.disambiguation ? { role: p.disambiguation } : {}),
        ...(hasOwnImage(p.image_path) ? { thumb: versionedImageUrl(ctx, "performer", p.id, p.image_path) } : {}),
        order: i + 1,
      }))
    : undefined;
}

/** Stash's rating (0–100) as Plex's 0–10, unless it is set as the user's star rating on push instead. */
export function rating(scene: StashScene, ctx: MetadataContext): PlexMetadata["Rating"] {
  return scene.rating100 != null && ctx.ratingAs !== "user"
    ? [
        {
          image: `${ctx.identifier}://image.rating`,
          type: "audience",
          value: Math.min(10, Math.max(0, scene.rating100 / 10)),
        },
      ]
    : undefined;
}

export function sceneToMetadata(scene: StashScene, ctx: MetadataContext): PlexMetadata {
  const date = sceneDate(scene);
  const duration = sceneDuration(scene);
  const images = sceneImages(scene, ctx);
  const studios = scene.studio
    ? [{ tag: scene.studio.name }, ...(scene.studio.parent_studio ? [{ tag: scene.studio.parent_studio.name }] : [])]
    : undefined;
  const ref = sceneRef(DEFAULT_INSTANCE_ID, scene.id);
  const meta: PlexMetadata = {
    ratingKey: ratingKeyOf(ref),
    key: `/library/metadata/${ratingKeyOf(ref)}`,
    guid: guidOf(ctx.identifier, ref),
    type: plexTypeOf(ref.kind),
    title: sceneTitle(scene),
    originallyAvailableAt: date,
    year: Number(date.slice(0, 4)),
    isAdult: true,
    addedAt: Math.floor(Date.parse(scene.created_at) / 1000) || undefined,
    summary: scene.details?.trim() || undefined,
    studio: scene.studio?.name,
    Studio: studios,
    tagline: ctx.taglineFrom === "code" ? scene.code?.trim() || undefined : undefined,
    contentRating: ctx.contentRating || undefined,
    duration,
    thumb: images[0]?.url,
    art: images[1]?.url,
    Image: images.length ? images : undefined,
    Role: roles(scene, ctx),
    Director: scene.director?.trim() ? [{ tag: scene.director.trim() }] : undefined,
    Genre: genres(scene, ctx),
    Rating: rating(scene, ctx),
    Chapter: chapters(scene, duration),
    Guid: guids(scene),
  };
  return dropUndefined(meta);
}

export function groupToMetadata(group: StashGroup & { scene_count?: number }, ctx: MetadataContext): PlexMetadata {
  const key = collectionKey(group.id);
  const date = validDate(group.date);
  const thumb = hasOwnImage(group.front_image_path)
    ? versionedImageUrl(ctx, "group", group.id, group.front_image_path)
    : undefined;
  return dropUndefined({
    ratingKey: key,
    key: `/library/collections/${key}`,
    guid: collectionGuidOf(ctx.identifier, key),
    type: "collection",
    title: group.name,
    summary: group.synopsis?.trim() || undefined,
    originallyAvailableAt: date,
    year: date ? Number(date.slice(0, 4)) : undefined,
    childCount: group.scene_count,
    thumb,
    Image: thumb ? [{ type: "coverPoster", url: thumb, alt: group.name }] : undefined,
  } as PlexMetadata);
}

/** Leaves absent fields out of the JSON rather than sending nulls PMS may choke on. */
export function dropUndefined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}
