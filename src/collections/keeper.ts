/**
 * Keeps one Stash instance's Plex collections exact (issue 28), in movie and TV libraries alike,
 * through PMS's HTTP API (python-plexapi's spellings, src/plex/collections.ts). The provider's
 * own `Collection` tags are not used: PMS joins them by title, so a renamed studio would get a
 * second collection beside its own, and PMS neither drops a membership nor deletes an emptied
 * collection for them (shared/plex/real-pms-evidence.md §3); in TV libraries it ignores them.
 *
 * Ours are marked with a label (LABEL) and recorded by key (state.ts); a collection a person made
 * in Plex, or another agent's, carries neither and is never touched. Two ways in: the full pass
 * (every collection against every scene: hourly, and a reconcile's) and a scene's own look after
 * its push (its memberships only: a scene that left a studio leaves its collection at once).
 */
import type { CollectionsConfig } from "../config/schema.ts";
import type { StashClient } from "../stash/client.ts";
import type { PlexCollection, PlexCollections } from "../plex/collections.ts";
import { type ArtworkTarget, sourceKey } from "../sync/artwork.ts";
import { pages } from "../paging.ts";
import { pace } from "../pace.ts";
import {
  type Catalog,
  type CollectionKey,
  catalogOf,
  collectionKeyOf,
  membershipsOf,
  type SceneMembers,
} from "./kinds.ts";
import { type Action, gapKindOf, type Held, planCollections, type Wanted } from "./plan.ts";
import type { GapKind } from "../domain/gaps.ts";
import type { CollectionState } from "./state.ts";

/** The label that marks a collection as ours (read back from PMS: our database may be a restored one). */
export const LABEL = "stash2plex";
const SCENES_PAGE = 1000;
/** Items read at once to see which PMS still has (as the artwork keeper reads them). */
const ITEMS_READ = 50;
/** A scene's own look reloads Stash's things at most this often (a new studio: its collection is made). */
const CATALOG_FRESH_MS = 60_000;

/** A Plex item showing one of this instance's scenes, as the Plex index has it. */
export interface SceneItem {
  rating_key: string;
  section_id: string;
  /** Episodes (a TV library's members) and movies are added as their own Plex type. */
  type: 1 | 4;
}

export interface CollectionKeeperDeps {
  instance: string;
  config: CollectionsConfig;
  /** The movie provider's identifier: collections it served as tags before (…://collection/g3) are ours. */
  identifier: string;
  stash: Pick<
    StashClient,
    "collectionScenesPage" | "studios" | "performersWithScenes" | "tags" | "groups" | "newestThingStamps"
  >;
  /** The Plex items of each scene (a page of them at once), in every library this instance's scenes are in. */
  itemsOf: (sceneIds: readonly string[]) => Map<string, SceneItem[]>;
  /** An item PMS no longer has (an episode replaced when its scene moved show): out of the Plex index. */
  forgetItem: (ratingKey: string) => void;
  plex: PlexCollections & { items(keys: readonly string[]): Promise<Record<string, unknown>[]> };
  machineId: () => Promise<string>;
  /** Posters: uploaded into PMS as an item's are (Plex cannot fetch from a LAN). */
  artwork?: {
    keep(targets: readonly ArtworkTarget[]): Promise<unknown>;
    /** The poster we put into a collection, if any (its Stash image: `kind/id@version`). */
    posterOf(ratingKey: string): string | undefined;
  };
  state: CollectionState;
  now?: () => number;
}

export interface PassResult {
  /** Per library section: what was (or would be) done. */
  sections: SectionResult[];
}

export interface SectionResult {
  sectionId: string;
  wanted: number;
  actions: Action[];
  /** Its members' Plex type (a TV library's are episodes). */
  type: 1 | 4;
  /** What the collections its actions touch should be (a look's: what `heal` carries out). */
  touched: Map<CollectionKey, Wanted>;
}

export function createCollectionKeeper(deps: CollectionKeeperDeps) {
  const now = deps.now ?? Date.now;
  let catalog: { at: number; value: Catalog } | undefined;

  async function loadCatalog(): Promise<Catalog> {
    const kinds = new Set(deps.config.kinds);
    const groups: Parameters<typeof catalogOf>[0]["groups"] = [];
    if (kinds.has("group"))
      for await (const page of pages(200, (i) => deps.stash.groups(undefined, i + 1, 200))) groups.push(...page.items);
    const [studios, performers, tags] = await Promise.all([
      kinds.has("studio") || kinds.has("network") ? deps.stash.studios() : [],
      kinds.has("performer") ? deps.stash.performersWithScenes(deps.config.performerMinScenes) : [],
      kinds.has("tag") ? deps.stash.tags() : [],
    ]);
    const value = catalogOf({ studios, groups, performers, tags }, deps.config);
    catalog = { at: now(), value };
    return value;
  }

  /** Ours among a section's collections: recorded, labelled, or served by our provider as a tag. */
  function oursIn(sectionId: string, listed: PlexCollection[]) {
    const recorded = new Map(deps.state.inSection(sectionId).map((c) => [c.rating_key, c.key]));
    const providerGuid = `${deps.identifier}://collection/`;
    return listed.flatMap((c) => {
      const fromGuid = c.guid.startsWith(providerGuid) ? providerKey(c.guid.slice(providerGuid.length)) : undefined;
      const key = recorded.get(c.ratingKey) ?? fromGuid;
      return key || c.labels.includes(LABEL) ? [{ collection: c, key }] : [];
    });
  }

  /** Ours in a section as PMS has them, with their members (only those `which` picks: their members are read). */
  async function heldIn(
    sectionId: string,
    which: (c: PlexCollection, key: CollectionKey | undefined) => boolean = () => true,
  ): Promise<Held[]> {
    const held: Held[] = [];
    for (const { collection, key } of oursIn(sectionId, await deps.plex.list(sectionId)))
      if (which(collection, key))
        held.push({ ...collection, key, members: await deps.plex.members(collection.ratingKey) });
    return held;
  }

  /**
   * Carries out a section's actions; what PMS answers with an error is thrown (the caller retries).
   * `seen`: the members were just read from PMS (a scene's own look), so none is looked up again.
   */
  async function apply(sectionId: string, actions: Action[], wanted: Map<string, Wanted>, type: 1 | 4, seen = false) {
    const machine = actions.some((a) => a.do === "create" || a.do === "add") ? await deps.machineId() : "";
    const record = (key: CollectionKey, ratingKey: string) => {
      const w = wanted.get(key);
      if (w)
        deps.state.record({
          section_id: sectionId,
          key,
          instance: deps.instance,
          rating_key: ratingKey,
          title: w.title,
          members: w.members.length,
        });
    };
    const posters: ArtworkTarget[] = [];
    // Members PMS does not have (an episode replaced when its scene moved show, our index of Plex
    // not caught up yet) are forgotten there, so the next pass does not want them again: a read
    // of the added items, not of the whole collection.
    const forgetGone = async (members: readonly string[]) => {
      for (let i = 0; i < members.length; i += ITEMS_READ) {
        const part = members.slice(i, i + ITEMS_READ);
        const present = new Set((await deps.plex.items(part)).map((v) => String(v.ratingKey)));
        // An answer with none (a 404 for the whole read) names the missing one only when one was asked.
        if (present.size || part.length === 1) for (const m of part) if (!present.has(m)) deps.forgetItem(m);
      }
    };
    for (const a of actions) {
      if (a.do === "create") {
        const ratingKey = await deps.plex.create(sectionId, machine, type, a.title, a.members);
        // PMS holding every member sent (its count says so: one request) leaves none to look for.
        if (!seen && (await deps.plex.size(ratingKey)) !== a.members.length) await forgetGone(a.members);
        await deps.plex.label(sectionId, ratingKey, [LABEL]);
        if (a.summary) await deps.plex.edit(sectionId, ratingKey, { summary: a.summary });
        record(a.key, ratingKey);
        // Made in the wanted order: only its order setting is needed.
        if (wanted.get(a.key)?.ordered && a.members.length > 1) await deps.plex.order(ratingKey, a.members, a.members);
        const poster = wanted.get(a.key)?.poster;
        if (poster) posters.push({ ratingKey, posters: poster });
      } else if (a.do === "adopt") {
        await deps.plex.label(sectionId, a.ratingKey, [LABEL]);
        record(a.key, a.ratingKey);
      } else if (a.do === "add") {
        await deps.plex.add(a.ratingKey, machine, a.members);
        if (!seen) await forgetGone(a.members);
        record(a.key, a.ratingKey);
      } else if (a.do === "remove") {
        for (const member of a.members) await deps.plex.remove(a.ratingKey, member);
        record(a.key, a.ratingKey);
      } else if (a.do === "rename") {
        await deps.plex.edit(sectionId, a.ratingKey, { title: a.title });
        record(a.key, a.ratingKey);
      } else if (a.do === "order") {
        await deps.plex.order(a.ratingKey, a.members, a.current);
      } else if (a.do === "poster") {
        // Uploaded with every kept collection's poster below.
      } else if (a.do === "describe") {
        await deps.plex.edit(sectionId, a.ratingKey, { summary: a.summary });
      } else {
        await deps.plex.drop(a.ratingKey);
        deps.state.forget(a.ratingKey);
      }
    }
    // Every kept collection's poster (the artwork keeper uploads only what is new or changed).
    for (const c of deps.state.inSection(sectionId)) {
      const poster = wanted.get(c.key)?.poster;
      if (poster && !posters.some((p) => p.ratingKey === c.rating_key))
        posters.push({ ratingKey: c.rating_key, posters: poster });
    }
    if (deps.artwork && posters.length) await deps.artwork.keep(posters);
  }

  /** Every collection against every scene; `dryRun` only plans (a reconcile's report). */
  async function pass(options: { dryRun?: boolean } = {}): Promise<PassResult> {
    const cat = await loadCatalog();
    // Per section, the members each collection should have (a group's in its scene order).
    const members = new Map<string, Map<CollectionKey, { rk: string; order: number | null }[]>>();
    const typeOf = new Map<string, 1 | 4>();
    for await (const { items } of pages(SCENES_PAGE, (i) => deps.stash.collectionScenesPage(i + 1, SCENES_PAGE))) {
      const itemsBy = deps.itemsOf(items.map((s) => s.id));
      for (const scene of items) {
        const keys = membershipsOf(scene, cat);
        if (!keys.length) continue;
        for (const item of itemsBy.get(scene.id) ?? []) {
          typeOf.set(item.section_id, item.type);
          let section = members.get(item.section_id);
          if (!section) members.set(item.section_id, (section = new Map()));
          for (const m of keys) {
            let list = section.get(m.key);
            if (!list) section.set(m.key, (list = []));
            list.push({ rk: item.rating_key, order: m.order });
          }
        }
      }
      await pace();
    }
    const sectionIds = new Set([
      ...members.keys(),
      ...deps.state
        .all()
        .filter((c) => c.instance === deps.instance)
        .map((c) => c.section_id),
    ]);
    const result: PassResult = { sections: [] };
    for (const sectionId of sectionIds) {
      const wanted = new Map<string, Wanted>();
      for (const [key, list] of members.get(sectionId) ?? []) {
        const described = cat.described.get(key)!;
        const ordered = [...list].sort(
          (a, b) => (a.order ?? Number.MAX_SAFE_INTEGER) - (b.order ?? Number.MAX_SAFE_INTEGER),
        );
        // A group whose scenes have an index: its collection keeps their order.
        const byIndex = key.startsWith("group:") && list.some((m) => m.order !== null);
        wanted.set(key, { ...described, members: [...new Set(ordered.map((m) => m.rk))], ordered: byIndex });
      }
      const held = await heldIn(sectionId);
      const actions = planCollections([...wanted.values()], held);
      // A kept collection whose poster is not Stash's image of now (a new studio logo, one never uploaded).
      for (const h of held) {
        const poster = h.key ? wanted.get(h.key)?.poster : undefined;
        if (deps.artwork && poster && h.key && deps.artwork.posterOf(h.ratingKey) !== sourceKey(poster))
          actions.push({ do: "poster", ratingKey: h.ratingKey, key: h.key });
      }
      const type = typeOf.get(sectionId) ?? 1;
      const touched = new Map<CollectionKey, Wanted>();
      for (const a of actions) if ("key" in a && wanted.has(a.key)) touched.set(a.key, wanted.get(a.key)!);
      const count = [...wanted.values()].filter((w) => w.members.length).length;
      result.sections.push({ sectionId, wanted: count, actions, type, touched });
      if (!options.dryRun) await apply(sectionId, actions, wanted, type);
    }
    return result;
  }

  /**
   * Carries out what a look (a dry pass) found, of the gap kinds asked: only the collections its
   * actions touch are read again (listed, their members), planned against what the look wanted,
   * and made so. Stash is not read again: a scene changed since is its push's, and the hourly
   * pass's. A whole second pass would read every member of every collection once more.
   */
  async function heal(look: PassResult, kinds?: ReadonlySet<GapKind>): Promise<void> {
    for (const section of look.sections) {
      const asked = section.actions.filter((a) => !kinds || kinds.has(gapKindOf(a)));
      if (!asked.length) continue;
      const keys = new Set(asked.flatMap((a) => ("key" in a ? [a.key] : [])));
      const ratingKeys = new Set(asked.flatMap((a) => ("ratingKey" in a ? [a.ratingKey] : [])));
      const held = await heldIn(
        section.sectionId,
        (c, key) => Boolean(key && keys.has(key)) || ratingKeys.has(c.ratingKey),
      );
      const wanted = new Map([...section.touched].filter(([key]) => keys.has(key)));
      const actions = planCollections([...wanted.values()], held).filter((a) => !kinds || kinds.has(gapKindOf(a)));
      // A poster the look found old: uploaded by apply with the others it touches.
      for (const a of asked) if (a.do === "poster") actions.push(a);
      await apply(section.sectionId, actions, wanted, section.type);
    }
  }

  /**
   * One scene's memberships after its push (or its deletion in Stash: `scene` null): each of its
   * Plex items joins the collections it belongs to and leaves those of ours it no longer does; a
   * collection it was the last member of is deleted. Answers a note for the push's history.
   */
  async function keepScene(sceneId: string, scene: SceneMembers | null): Promise<string> {
    const items = deps.itemsOf([sceneId]).get(sceneId) ?? [];
    if (!items.length) return "";
    let cat = catalog && now() - catalog.at < CATALOG_FRESH_MS ? catalog.value : await loadCatalog();
    // A studio or group new since the catalog was read: read it again.
    if (scene && unknownThings(scene, cat, new Set(deps.config.kinds))) cat = await loadCatalog();
    const keys = scene ? membershipsOf(scene, cat) : [];
    const done: string[] = [];
    const views = new Map((await deps.plex.items(items.map((i) => i.rating_key))).map((v) => [String(v.ratingKey), v]));
    for (const item of items) {
      // An item PMS no longer has (our index of Plex not caught up yet): forgotten, nothing to keep.
      // Only when PMS answered for the others, or it was the one asked: an answer with none (a 404
      // for the whole read) says nothing about which of several it lacks.
      if (!views.has(item.rating_key)) {
        if (views.size || items.length === 1) deps.forgetItem(item.rating_key);
        continue;
      }
      const kept = deps.state.inSection(item.section_id);
      const shown = new Set(tagsOf(views.get(item.rating_key)));
      const wantedKeys = new Set(keys.map((k) => k.key));
      for (const { key } of keys) {
        const described = cat.described.get(key)!;
        const ours = kept.find((c) => c.key === key);
        if (ours && shown.has(ours.title)) continue;
        const wanted = new Map([[key, { ...described, members: [item.rating_key] }]]);
        const actions: Action[] = ours
          ? [{ do: "add", ratingKey: ours.rating_key, key, members: [item.rating_key] }]
          : [{ do: "create", key, title: described.title, summary: described.summary, members: [item.rating_key] }];
        await apply(item.section_id, actions, wanted, item.type, true);
        // Its count as last made, one more (apply records a created one's).
        if (ours) deps.state.record({ ...ours, title: described.title, members: ours.members + 1 });
        done.push(`joined ${described.title}`);
      }
      for (const ours of kept) {
        if (wantedKeys.has(ours.key) || !shown.has(ours.title)) continue;
        await deps.plex.remove(ours.rating_key, item.rating_key);
        // Emptied? PMS is asked only when our count says it may be; a pass corrects a count gone stale.
        const left = ours.members > 1 ? ours.members - 1 : await deps.plex.size(ours.rating_key);
        if (left === 0) {
          await deps.plex.drop(ours.rating_key);
          deps.state.forget(ours.rating_key);
          done.push(`left ${ours.title} (emptied: deleted)`);
        } else {
          deps.state.record({ ...ours, members: left });
          done.push(`left ${ours.title}`);
        }
      }
    }
    return done.length ? `collections: ${done.join(", ")}` : "";
  }

  let lastStamps: string | undefined;
  /**
   * A studio, group, performer or tag edited in Stash (a rename, a new image: no scene changes):
   * one request for their newest edits; when they moved since the last look, a pass. Answers
   * whether it ran one. The first look only notes where Stash is (the start-up pass covers before).
   * Stash sorts its stamps as text: an edit in the hour a DST switch back repeats may not move the
   * newest one, and waits for the hourly pass.
   */
  async function watch(): Promise<boolean> {
    const stamps = await deps.stash.newestThingStamps();
    const changed = lastStamps !== undefined && stamps !== lastStamps;
    if (changed) await pass();
    lastStamps = stamps;
    return changed;
  }

  return { pass, heal, keepScene, watch };
}
export type CollectionKeeper = ReturnType<typeof createCollectionKeeper>;

/** The collection key a tag our provider served stood for (`g3`: group 3). */
function providerKey(id: string): CollectionKey | undefined {
  const m = /^g(\d+)$/.exec(id);
  return m ? collectionKeyOf("group", m[1]!) : undefined;
}

/** The titles of the collections a Plex item shows (its `Collection` tags). */
function tagsOf(view: Record<string, unknown> | undefined): string[] {
  const tags = Array.isArray(view?.Collection) ? (view.Collection as { tag?: unknown }[]) : [];
  return tags.flatMap((t) => (typeof t.tag === "string" ? [t.tag] : []));
}

/** Whether a scene names a studio or group (of a kind that is on) the catalog has not seen. */
function unknownThings(scene: SceneMembers, cat: Catalog, on: ReadonlySet<string>): boolean {
  const unknown = (kind: "studio" | "group", id: string) =>
    on.has(kind) && !cat.described.has(collectionKeyOf(kind, id));
  return Boolean(
    (scene.studio && unknown("studio", scene.studio.id)) || scene.groups.some((g) => unknown("group", g.group.id)),
  );
}
