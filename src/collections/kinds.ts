/**
 * What Plex collections Stash implies (issue 28), pure. A collection is named after one thing of
 * a Stash instance: a studio, a network (a parent studio: its sub-studios' scenes and its own),
 * a group, a performer with enough scenes, or a chosen tag. Its key (`studio:12`) is what it is
 * known by everywhere: its name can change (a renamed studio renames its collection), the key
 * cannot, and two kinds of the same name are two keys, never one collection.
 */
import type { CollectionKind, CollectionsConfig } from "../config/schema.ts";
import type { ImageSource } from "../sync/artwork.ts";

/** A collection's key: its kind and the Stash id of its thing. */
export type CollectionKey = `${CollectionKind}:${string}`;
export const collectionKeyOf = (kind: CollectionKind, id: string): CollectionKey => `${kind}:${id}`;
export const kindOfKey = (key: string) => key.slice(0, key.indexOf(":")) as CollectionKind;

/** What a collection shows besides its members: its name, text and poster. */
export interface Described {
  key: CollectionKey;
  title: string;
  summary: string;
  poster?: ImageSource;
}

/** The things of an instance that collections can be made of, as Stash describes them now. */
export interface Catalog {
  /** Every collection the config allows, by key. */
  described: Map<CollectionKey, Described>;
}

type Thing = { id: string; name: string; image_path?: string | null };
const PREFIX: Record<CollectionKind, keyof CollectionsConfig> = {
  studio: "studioPrefix",
  network: "networkPrefix",
  group: "groupPrefix",
  performer: "performerPrefix",
  tag: "tagPrefix",
};
const IMAGE_OF: Record<CollectionKind, ImageSource["kind"]> = {
  studio: "studio",
  network: "studio",
  group: "group",
  performer: "performer",
  tag: "tag",
};

/** Stash's image of a thing, versioned by its `t=`; none when Stash would serve its placeholder. */
function posterOf(kind: CollectionKind, thing: Thing): ImageSource | undefined {
  const path = thing.image_path;
  if (!path || /[?&]default=true(?:&|$)/.test(path)) return undefined;
  return { kind: IMAGE_OF[kind], id: thing.id, version: /[?&]t=(\d+)/.exec(path)?.[1] ?? "" };
}

export interface CatalogInput {
  studios: (Thing & { details?: string | null; parent_studio: { id: string } | null })[];
  groups: (Thing & { synopsis?: string | null; front_image_path?: string | null })[];
  /** Only those with enough scenes (Stash filters them). */
  performers: (Thing & { details?: string | null })[];
  tags: (Thing & { description?: string | null; parents: { id: string }[] })[];
}

/** The tags the config makes collections: named ones, and every tag under a named parent (at any depth). */
export function chosenTags(tags: CatalogInput["tags"], config: Pick<CollectionsConfig, "tags" | "tagParents">) {
  const lower = (list: string[]) => new Set(list.map((n) => n.trim().toLowerCase()));
  const named = lower(config.tags);
  const parents = lower(config.tagParents);
  const byId = new Map(tags.map((t) => [t.id, t]));
  const under = (tag: CatalogInput["tags"][number], seen = new Set<string>()): boolean =>
    tag.parents.some((p) => {
      if (seen.has(p.id)) return false; // Stash forbids loops; a damaged database must not hang us.
      seen.add(p.id);
      const parent = byId.get(p.id);
      return parent !== undefined && (parents.has(parent.name.toLowerCase()) || under(parent, seen));
    });
  return tags.filter((t) => named.has(t.name.toLowerCase()) || (parents.size > 0 && under(t)));
}

/** Every collection the config allows, described as Stash has its things now. */
export function catalogOf(input: CatalogInput, config: CollectionsConfig): Catalog {
  const on = new Set(config.kinds);
  const described = new Map<CollectionKey, Described>();
  const add = (kind: CollectionKind, thing: Thing, summary: string | null | undefined) => {
    if (!on.has(kind)) return;
    const key = collectionKeyOf(kind, thing.id);
    const prefix = config[PREFIX[kind]] as string;
    described.set(key, {
      key,
      title: `${prefix}${thing.name}`,
      summary: summary?.trim() ?? "",
      poster: posterOf(kind, thing),
    });
  };
  const parents = new Set(input.studios.flatMap((s) => (s.parent_studio ? [s.parent_studio.id] : [])));
  for (const studio of input.studios) {
    add("studio", studio, studio.details);
    if (parents.has(studio.id)) add("network", studio, studio.details);
  }
  for (const group of input.groups) add("group", { ...group, image_path: group.front_image_path }, group.synopsis);
  for (const performer of input.performers) add("performer", performer, performer.details);
  for (const tag of chosenTags(input.tags, config)) add("tag", tag, tag.description);
  return { described };
}

/** What a scene's collections are made of (a page of FIND_COLLECTION_SCENES, or a pushed scene). */
export interface SceneMembers {
  id: string;
  studio?: { id: string; parent_studio?: { id: string } | null } | null;
  groups: { scene_index?: number | null; group: { id: string } }[];
  performers: { id: string }[];
  tags: { id: string }[];
}

/** A scene's place in a collection: its key, and its order there (a group's scene index). */
export interface Membership {
  key: CollectionKey;
  order: number | null;
}

/** The collections a scene belongs to, among those the catalog allows. */
export function membershipsOf(scene: SceneMembers, catalog: Catalog): Membership[] {
  const out: Membership[] = [];
  const add = (kind: CollectionKind, id: string, order: number | null = null) => {
    const key = collectionKeyOf(kind, id);
    if (catalog.described.has(key) && !out.some((m) => m.key === key)) out.push({ key, order });
  };
  if (scene.studio) {
    add("studio", scene.studio.id);
    // A network holds its own scenes and its sub-studios'.
    add("network", scene.studio.parent_studio?.id ?? scene.studio.id);
  }
  for (const g of scene.groups) add("group", g.group.id, g.scene_index ?? null);
  for (const p of scene.performers) add("performer", p.id);
  for (const t of scene.tags) add("tag", t.id);
  return out;
}
