/**
 * Pure: finds every gap between the Plex items of the synced sections (held compactly, one
 * pass) and Stash's scenes (streamed page by page: never two full copies). A scene's files are
 * mapped to Plex paths by the path rules and looked up among the items; an item no path places
 * is held under the scene its size and duration or fingerprint name too (sync/identity.ts, asked
 * by the reconcile as it lists the items). What no scene claims is left over at the end (unknown
 * to Stash, bound to a scene Stash no longer has, or several scenes' by size and duration).
 * A field locked in Plex is the user's decision: where PMS re-pulls from us it would keep it
 * anyway, so it is reported as kept, never as stale. A section picked by default whose agent
 * is not ours is reported only when Stash knows a file in it; otherwise it is skipped, with why.
 */
import type { PathMapper } from "../paths/mapper.ts";
import { DEFAULT_INSTANCE_ID, refFromGuid } from "../domain/ref.ts";
import type { StashScene } from "../schema/stash.ts";
import { isInside } from "../sync/push.ts";
import { COMPARED_FIELDS, differingFields, showsNothing, type ComparedField, type Shown } from "./compare.ts";
import { stashIsEmpty } from "../domain/scene.ts";
import type { Gap, KeptItem, SkippedSection } from "../domain/gaps.ts";

export interface PlexItemView {
  ratingKey: string;
  sectionId: string;
  guid: string;
  files: string[];
  shown: Shown;
  /** Fields not to compare on this item (edit strategy: ones the user changed in Plex, kept by keepUserEdits). */
  skip?: ReadonlySet<ComparedField>;
  /** `shown` comes from the item itself (every tag), not from a listing row (the first few). */
  full?: boolean;
  /** Fields locked in Plex. */
  locked?: ReadonlySet<ComparedField>;
  /** No path places it; its size and duration (or fingerprint) are this scene's file's (sync/identity.ts). */
  foundBy?: { sceneId: string; how: "size+duration" | "oshash" };
  /** No path places it, and several Stash files have its size and duration: never guessed. */
  ambiguous?: { candidates: { sceneId: string; path: string }[]; why: string };
}

/** The key an item found by identity is held under (a Plex path never looks like it). */
export const identityKey = (sceneId: string) => `scene#${sceneId}`;

/**
 * Where the detector finds the items: an array held in memory, or a reconcile's scratch file
 * (item-spill.ts). Each item is found by keys (a movie item by its files' paths, NFC).
 */
export interface ItemSource<T> {
  /** The items found by a key, in the order they were listed (the same objects for the same items while a scene is compared). */
  holding(key: string): T[];
  /** Looks up many keys at once (a page of scenes'), so that `holding` then answers them without a query each. */
  prefetch?(keys: readonly string[]): void;
  /** A scene holds this item. */
  claim(item: T): void;
  /** The items no scene claimed, in the order they were listed. */
  unclaimed(): Iterable<T>;
}

/** An ItemSource over an array (claims by rating key). */
export function itemsInMemory<T extends { ratingKey: string }>(
  items: readonly T[],
  keysOf: (item: T) => readonly string[],
): ItemSource<T> {
  const byKey = new Map<string, T[]>();
  for (const item of items) for (const key of keysOf(item)) byKey.set(key, [...(byKey.get(key) ?? []), item]);
  const claimed = new Set<string>();
  return {
    holding: (key) => byKey.get(key) ?? [],
    claim: (item) => void claimed.add(item.ratingKey),
    unclaimed: () => items.filter((item) => !claimed.has(item.ratingKey)),
  };
}

/** The keys a movie item is found by: its files' paths, and the scene identity found it to be. */
export const pathKeys = (item: Pick<PlexItemView, "files" | "foundBy">) => [
  ...new Set(item.files.map(nfc)),
  ...(item.foundBy ? [identityKey(item.foundBy.sceneId)] : []),
];

export interface SectionView {
  key: string;
  title: string;
  locations: string[];
  /** The section's agent is our provider: items should be bound to our GUIDs. */
  ours: boolean;
  /** Fields this section is kept equal in (edit strategy: the configured edit fields; refresh: all). */
  compared?: ReadonlySet<ComparedField>;
  /** Picked by default though its agent is not ours: reported only if Stash knows a file in it. */
  optional?: boolean;
  agent?: string;
}

export interface DetectContext {
  identifier: string;
  mapper: PathMapper;
  sections: SectionView[];
  /** What the provider would answer for a scene today, comparable. */
  expected(scene: StashScene): Shown;
}

const nfc = (p: string) => p.normalize("NFC");

export function createDetector<T extends PlexItemView>(listed: T[] | ItemSource<T>, ctx: DetectContext) {
  const items: ItemSource<T> = Array.isArray(listed) ? itemsInMemory(listed, pathKeys) : listed;
  const sections = new Map(ctx.sections.map((s) => [s.key, s]));
  const gaps: Gap[] = [];
  const sceneIds = new Set<string>();
  /** Items bound to another scene than the one owning their file: wrong-scene or orphaned, known once every scene is seen. */
  const misbound: { item: T; owner: StashScene; boundTo: string }[] = [];
  const kept: KeptItem[] = [];
  /** Optional sections Stash knows a file in. */
  const known = new Set<string>();
  const optional = ctx.sections.filter((sec) => sec.optional);
  /** The scene an item's GUID binds it to, when the GUID is ours (one instance for now). */
  const ours = [{ id: DEFAULT_INSTANCE_ID, identifier: ctx.identifier }];
  const sceneOfGuid = (guid: string | undefined) => refFromGuid(guid, ours)?.id ?? null;

  const plexPathsOf = (s: StashScene) => s.files.flatMap((f) => ctx.mapper.toPlex(f.path)?.path ?? []);
  /** The keys a scene's items are found by: its files' Plex paths, and its identity. */
  const keysOf = (s: StashScene) => [...plexPathsOf(s).map(nfc), identityKey(s.id)];
  /** The items holding a scene's files, and those identity found to be the scene. */
  const holdersOf = (s: StashScene, plexPaths: string[]) => [
    ...new Set([...plexPaths.flatMap((p) => items.holding(nfc(p))), ...items.holding(identityKey(s.id))]),
  ];

  /** Returns the gaps this scene adds. */
  function scene(s: StashScene): Gap[] {
    const before = gaps.length;
    sceneIds.add(s.id);
    const stashPaths = s.files.map((f) => f.path);
    const plexPaths = plexPathsOf(s);
    const held = plexPaths.map((p) => items.holding(nfc(p)));
    const holders = holdersOf(s, plexPaths);
    for (const sec of optional)
      if (!known.has(sec.key) && plexPaths.some((p) => sec.locations.some((l) => isInside(p, l)))) known.add(sec.key);
    // Every file of the scene that a synced section's folder holds must be an item (a scene may have several).
    const missing = plexPaths.filter((_, i) => !held[i]!.length);
    const section = ctx.sections.find((sec) => missing.some((p) => sec.locations.some((l) => isInside(p, l))));
    if (section) {
      const inSection = missing.filter((p) => section.locations.some((l) => isInside(p, l)));
      gaps.push({
        kind: "missing-in-plex",
        sceneId: s.id,
        sectionId: section.key,
        plexPaths: inSection,
        stashPaths,
        reason: `Plex has no item for ${inSection.join(", ")} in section "${section.title}"`,
      });
    }
    for (const item of holders) {
      items.claim(item);
      known.add(item.sectionId); // a scene's file is an item here: Stash knows a file in this section
      const section = sections.get(item.sectionId);
      if (!section) continue;
      const gap = {
        sceneId: s.id,
        ratingKey: item.ratingKey,
        sectionId: item.sectionId,
        plexPaths: item.files,
        stashPaths,
        ...(item.foundBy ? { foundBy: item.foundBy.how } : {}),
      };
      const boundTo = sceneOfGuid(item.guid);
      if (section.ours && boundTo === null) {
        const why =
          !item.guid || item.guid.startsWith("local://")
            ? "is not matched"
            : `is bound to another agent (${item.guid.split("://")[0]})`;
        const whose = !item.foundBy
          ? `Stash scene ${s.id} has its file`
          : item.foundBy.how === "oshash"
            ? `its fingerprint (oshash) is Stash scene ${s.id}'s file's (its name tells nothing)`
            : `its size and duration are Stash scene ${s.id}'s file's (its name tells nothing)`;
        gaps.push({ kind: "unmatched", ...gap, reason: `item ${item.ratingKey} ${why}, though ${whose}` });
        continue;
      }
      if (section.ours && boundTo !== s.id) {
        misbound.push({ item, owner: s, boundTo: boundTo! });
        continue;
      }
      if (stashIsEmpty(s)) {
        gaps.push({
          kind: "stash-empty",
          ...gap,
          reason: `Stash scene ${s.id} has no metadata (no title, date, studio, performers, tags or details); Plex is left as it is`,
        });
        continue;
      }
      if (showsNothing(item.shown)) {
        gaps.push({
          kind: "empty",
          ...gap,
          reason: `item ${item.ratingKey} shows no metadata, though Stash scene ${s.id} has some`,
        });
        continue;
      }
      const only = new Set([...(section.compared ?? COMPARED_FIELDS)].filter((f) => !item.skip?.has(f)));
      const differ = differingFields(ctx.expected(s), item.shown, !item.full, only);
      // Locks matter where PMS re-pulls from us (a refresh keeps them); in edit sections our own edits lock.
      const locked = section.ours ? differ.filter((f) => item.locked?.has(f)) : [];
      const fields = differ.filter((f) => !locked.includes(f));
      if (locked.length) kept.push({ ratingKey: item.ratingKey, sceneId: s.id, fields: locked });
      if (fields.length)
        gaps.push({
          kind: "stale",
          ...gap,
          fields,
          reason: `item ${item.ratingKey} differs from Stash scene ${s.id} in ${fields.join(", ")}`,
        });
    }
    return gaps.slice(before);
  }

  /** Sections left out: picked by default, another agent's, and no file Stash knows in them. */
  const skipped = (): SkippedSection[] =>
    optional
      .filter((sec) => !known.has(sec.key))
      .map((sec) => ({
        key: sec.key,
        title: sec.title,
        agent: sec.agent ?? "",
        reason:
          `its agent (${sec.agent || "none"}) is not stash2plex's agent and it holds no file Stash knows; ` +
          `list it in PLEX_SECTIONS to compare it anyway`,
      }));

  function finish(): Gap[] {
    const left = new Set(skipped().map((sec) => sec.key));
    for (const { item, owner, boundTo } of misbound) {
      const gap = {
        sceneId: owner.id,
        ratingKey: item.ratingKey,
        sectionId: item.sectionId,
        plexPaths: item.files,
        stashPaths: owner.files.map((f) => f.path),
      };
      gaps.push(
        sceneIds.has(boundTo)
          ? {
              kind: "wrong-scene",
              ...gap,
              reason: `item ${item.ratingKey} is bound to scene ${boundTo}, but its file belongs to scene ${owner.id}`,
            }
          : {
              kind: "orphaned",
              ...gap,
              reason: `item ${item.ratingKey} is bound to scene ${boundTo}, which Stash no longer has; its file now belongs to scene ${owner.id}`,
            },
      );
    }
    for (const item of items.unclaimed()) {
      if (!sections.has(item.sectionId) || left.has(item.sectionId)) continue;
      const boundTo = sceneOfGuid(item.guid);
      const base = { ratingKey: item.ratingKey, sectionId: item.sectionId, plexPaths: item.files };
      if (item.ambiguous && boundTo === null && sections.get(item.sectionId)?.ours) {
        const { candidates, why } = item.ambiguous;
        const scenes = [...new Set(candidates.map((c) => c.sceneId))];
        gaps.push({
          kind: "unmatched",
          ...base,
          stashPaths: candidates.map((c) => c.path).filter(Boolean),
          candidates,
          reason:
            `item ${item.ratingKey} (${item.files.join(", ")}) is not matched and its name tells nothing: ${why} ` +
            `(scenes ${scenes.join(", ")}); left unmatched for a person (Fix Match lists them first)`,
        });
        continue;
      }
      if (boundTo && !sceneIds.has(boundTo)) {
        gaps.push({
          kind: "orphaned",
          ...base,
          stashPaths: [],
          reason: `item ${item.ratingKey} is bound to scene ${boundTo}, which Stash no longer has, and no scene has its file`,
        });
        continue;
      }
      const stashPaths = item.files.flatMap((f) => ctx.mapper.toStash(f)?.path ?? []);
      const where = stashPaths.length
        ? `Stash has no file ${stashPaths.join(", ")}`
        : "no path rule maps its file to Stash";
      gaps.push({
        kind: "unknown-to-stash",
        ...base,
        stashPaths,
        reason: `item ${item.ratingKey} (${item.files.join(", ")}): ${where}`,
      });
    }
    return gaps;
  }

  return {
    scene,
    finish,
    skipped,
    /** Fields locked in Plex that differ from Stash (after the scenes are seen). */
    kept: (): readonly KeptItem[] => kept,
    /** The items holding a scene's files (to read them whole before `scene`). */
    holders: (s: StashScene) => holdersOf(s, plexPathsOf(s)),
    /** Looks up the items of a page of scenes at once (see ItemSource.prefetch). */
    prefetch: (scenes: readonly StashScene[]) => items.prefetch?.(scenes.flatMap(keysOf)),
  };
}
