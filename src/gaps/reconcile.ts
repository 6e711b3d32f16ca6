/**
 * A reconcile run (the I/O around the pure detector): pages every item of the synced Plex
 * sections, streams every Stash scene past the detector, heals what it is asked to through
 * the existing machinery (the push queue, Plex's match and scan, Stash's scan), and keeps the
 * report. One run at a time; live progress for the API, the CLI and the dashboard.
 * A listing row shows only the first few tags and no locks: an item whose row differs, or
 * whose tag lists are as long as a row shows, is read whole (batched reads of many items)
 * before its scene is compared. The listed items wait in a scratch SQLite file in the data
 * folder (item-spill.ts), not on the heap: the run's memory stays flat whatever the library's size.
 */
import type { Config, EditField } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import type { PathMapper } from "../paths/mapper.ts";
import type { PlexClient, PlexItem } from "../plex/client.ts";
import { sceneToMetadata, type MetadataContext } from "../provider/metadata.ts";
import type { Database } from "bun:sqlite";
import { DEFAULT_INSTANCE_ID, guidOf, refFromGuid, sceneRef, tvIdentifierOf, type Ref } from "../domain/ref.ts";
import { identifyItem } from "../sync/identity.ts";
import { identityLookup, type IdentitySource } from "../sync/identity-lookup.ts";
import { createIdentityState } from "../sync/identity-state.ts";
import { episodeIdOfFile } from "./tv-detect.ts";
import type { StashClient } from "../stash/client.ts";
import type { Store } from "../store/db.ts";
import type { PlexIndex } from "../sync/plex-index.ts";
import { isTvSection, type SyncSection } from "../sync/push.ts";
import type { TvLibraryPort } from "../sync/tv-push.ts";
import { gatherTv, type TvFound } from "./tv-reconcile.ts";
import type { Queue } from "../sync/queue.ts";
import { currentValues } from "../sync/edit-fields.ts";
import type { EditState } from "../sync/edit-state.ts";
import {
  COMPARED_FIELDS,
  LISTED_TAG_LIMIT,
  differingFields,
  expectedFields,
  fieldText,
  listingMayHide,
  lockedFields,
  shownFields,
  type ComparedField,
  type Shown,
} from "./compare.ts";
import { stashIsEmpty } from "../domain/scene.ts";
import { createDetector, pathKeys, type PlexItemView, type SectionView } from "./detect.ts";
import { createItemSpill, openScratch, type ItemSpill, type SpillCodec } from "./item-spill.ts";
import { heapCollector } from "../collector.ts";
import { oneAhead } from "./ahead.ts";
import {
  COLLECTION_GAP_KINDS,
  GAP_KINDS,
  isCollectionGap,
  type FieldValues,
  type Gap,
  type GapKind,
  type KeptItem,
  type SkippedSection,
} from "../domain/gaps.ts";
import type { StashScene } from "../schema/stash.ts";
import { KEPT_PER_KIND, createReports, unhealableOf, type RunSummary } from "./reports.ts";
import { pages } from "../paging.ts";
import { artworkGap } from "./artwork-detect.ts";
import type { ArtworkKeeper } from "../sync/artwork.ts";
import type { CollectionKeeper, PassResult } from "../collections/keeper.ts";
import { describeAction, gapKindOf } from "../collections/plan.ts";

export interface ReconcileDeps {
  config: Config;
  store: Store;
  /** What the edit strategy last wrote to each item: fields changed in Plex since are the user's. */
  editState: Pick<EditState, "written">;
  stash: Pick<StashClient, "scenesPage" | "metadataScan">;
  plex: Pick<PlexClient, "sectionListing" | "items" | "match" | "scanPath" | "refresh">;
  sections: () => Promise<SyncSection[]>;
  mapper: PathMapper;
  ctx: MetadataContext;
  /**
   * Every further Stash instance: its scenes are compared with the items of its own sections, and
   * its gaps healed through its own client and identifier (the GUID scheme). `stash`, `mapper` and
   * `ctx` above are the default instance's.
   */
  others?: ReconcileInstance[];
  /** The default instance's TV libraries. */
  tv?: readonly TvLibraryPort[];
  /** The default instance's artwork keeper. */
  artwork?: ArtworkKeeper;
  /** The default instance's collections (off: none). */
  collections?: CollectionPass;
  /** The default instance's index of Stash's files: an item no path places is found by its size in it. */
  index?: IdentitySource["index"];
  queue: Queue;
  plexIndex: Pick<PlexIndex, "setGuid">;
  log: Logger;
  /** Called after pushes were queued (wakes the worker). */
  onQueued: () => void;
}

/** What a reconcile needs of one Stash instance. */
export interface ReconcileInstance {
  id: string;
  stash: Pick<StashClient, "scenesPage" | "metadataScan">;
  mapper: PathMapper;
  ctx: MetadataContext;
  /** Its TV libraries: their episodes and shows are compared too (tv-detect.ts). */
  tv?: readonly TvLibraryPort[];
  /** The artwork it put into Plex, and the keeper that heals what is missing or old. */
  artwork?: ArtworkKeeper;
  /** Its collections: a look finds what differs (the gap kind `collection`), a pass heals it. */
  collections?: CollectionPass;
  /** Its index of Stash's files: an item no path places is found by its size and duration (sync/identity.ts). */
  index?: IdentitySource["index"];
}

/** What a reconcile needs of an instance's collection keeper. */
export type CollectionPass = Pick<CollectionKeeper, "pass" | "heal">;

export interface ReconcileOptions {
  /** Kinds to heal (empty: report only). */
  heal: readonly GapKind[];
  /** Kinds to report (default: all). */
  kinds?: readonly GapKind[];
  /** Who asked: "cli", "api", "schedule", "start-up". */
  trigger: string;
}

export interface Progress {
  phase: "plex" | "stash" | "heal";
  done: number;
  total: number;
  startedAt: number;
  trigger: string;
}

export interface ReconcileResult {
  run: RunSummary;
  gaps: Gap[];
}

interface Found {
  gaps: Gap[];
  scenes: number;
  items: number;
  kept: readonly KeptItem[];
  skipped: SkippedSection[];
}

export class ReconcileBusyError extends Error {}

// Pages small enough that one answer is a few MB (memory stays flat on big libraries), large
// enough that a reconcile costs a handful of requests per 1,000 scenes.
const PLEX_PAGE = 500;
const STASH_PAGE = 250;
/** Items read whole per request: a few KB of URL, two requests per 1,000 items at most. */
const ITEM_BATCH = 500;

/** Edit-strategy names of the fields a reconcile compares. */
const EDIT_TO_COMPARED: Partial<Record<EditField, ComparedField>> = {
  title: "title",
  summary: "summary",
  date: "date",
  studio: "studio",
  contentRating: "contentRating",
  genres: "genres",
  actors: "performers",
  rating: "rating",
};
/** A listed movie item, with the artwork Plex shows for it (the artwork gap). */
type ListedItem = PlexItemView & { thumb?: unknown; art?: unknown };
/** A listed item as JSON (its locked and skipped fields, sets, as lists). */
const movieCodec: SpillCodec<ListedItem> = {
  encode: (i) =>
    JSON.stringify({ ...i, locked: i.locked ? [...i.locked] : undefined, skip: i.skip ? [...i.skip] : undefined }),
  decode: (json) => {
    const i = JSON.parse(json);
    if (i.locked) i.locked = new Set(i.locked);
    if (i.skip) i.skip = new Set(i.skip);
    return i;
  },
};

const LISTED: Partial<Record<EditField, number>> = {
  genres: LISTED_TAG_LIMIT.genres,
  actors: LISTED_TAG_LIMIT.performers,
  collections: LISTED_TAG_LIMIT.collections,
};

export function createReconciler(deps: ReconcileDeps) {
  const reports = createReports(deps.store);
  const parts: ReconcileInstance[] = [
    {
      id: DEFAULT_INSTANCE_ID,
      stash: deps.stash,
      mapper: deps.mapper,
      ctx: deps.ctx,
      tv: deps.tv,
      artwork: deps.artwork,
      collections: deps.collections,
      index: deps.index,
    },
    ...(deps.others ?? []),
  ];
  const partOf = (instance: string | undefined) =>
    parts.find((p) => p.id === (instance ?? DEFAULT_INSTANCE_ID)) ?? parts[0]!;
  let progress: Progress | null = null;
  const identity = createIdentityState(deps.store);

  /**
   * Edit strategy with keepUserEdits: fields someone changed in Plex after we wrote them are
   * theirs, not drift. (A listing shows only the first tags: the written list is cut the same way.)
   */
  function userEdited(ratingKey: string, fields: Record<string, unknown>, listing = true): Set<ComparedField> {
    const written = Object.entries(deps.editState.written(ratingKey));
    if (!written.length || !deps.config.plex.keepUserEdits) return new Set();
    const current = currentValues(fields);
    const out = new Set<ComparedField>();
    for (const [field, value] of written) {
      const limit = listing ? LISTED[field as EditField] : undefined;
      const was = limit ? value.split("\u001f").slice(0, limit).join("\u001f") : value;
      const compared = EDIT_TO_COMPARED[field as EditField];
      if (compared && (current[field as EditField] ?? "") !== was) out.add(compared);
    }
    return out;
  }

  /**
   * An item no path rule places, by its files' size and duration (then fingerprint) in the
   * instance's index of Stash's files: the scene it is, or its candidates. An ambiguous item a
   * person bound to one of its candidates (Fix Match) is that one's.
   */
  function identityOfItems(part: ReconcileInstance) {
    if (!part.index) return () => ({});
    const lookup = identityLookup({ mapper: part.mapper, index: part.index });
    const ours = [{ id: part.id, identifier: part.ctx.identifier }];
    return (item: PlexItem): Pick<PlexItemView, "foundBy" | "ambiguous"> => {
      const found = identifyItem(
        item.files.map((path, i) =>
          lookup({ path, size: item.parts?.[i]?.size ?? null, durationMs: item.parts?.[i]?.durationMs ?? null }),
        ),
      );
      if (found?.kind === "found") return { foundBy: { sceneId: found.sceneId, how: found.how } };
      if (found?.kind !== "ambiguous") return {};
      const chosen = refFromGuid(item.guid, ours)?.id;
      if (chosen && found.candidates.some((c) => c.sceneId === chosen))
        return { foundBy: { sceneId: chosen, how: "size+duration" } };
      return { ambiguous: { candidates: found.candidates, why: found.why } };
    };
  }

  /** Every item of the sections, as listed, into the scratch file. */
  async function gatherPlex(
    part: ReconcileInstance,
    sections: SyncSection[],
    progress: Progress,
    items: ItemSpill<ListedItem>,
  ): Promise<void> {
    const placed = identityOfItems(part);
    for (const section of sections) {
      for await (const page of oneAhead(
        pages(PLEX_PAGE, (i) => deps.plex.sectionListing(section.key, i * PLEX_PAGE, PLEX_PAGE)),
      )) {
        if (page.index === 0) progress.total += page.total ?? 0;
        const rows = page.items.map((item) => {
          const locked = lockedFields(item.fields);
          const view: ListedItem = {
            ratingKey: item.ratingKey,
            sectionId: section.key,
            guid: item.guid,
            files: item.files,
            shown: shownFields(item.fields, part.ctx.ratingAs ?? "critic"),
            ...(section.strategy === "edit" ? { skip: userEdited(item.ratingKey, item.fields) } : {}),
            ...(locked.size ? { locked } : {}),
            thumb: item.fields.thumb,
            art: item.fields.art,
            // Only where PMS asks our provider: an item found by identity is bound to our GUID (as the index refresh does).
            ...(section.strategy === "refresh" ? placed(item) : {}),
          };
          return { item: view, keys: pathKeys(view) };
        });
        items.addAll(rows);
        progress.done += page.items.length;
        heapCollector.page();
      }
    }
  }

  const sectionViews = (sections: SyncSection[]): SectionView[] => {
    const edited = new Set(deps.config.plex.editFields.flatMap((f) => EDIT_TO_COMPARED[f] ?? []));
    // With the default sections (PLEX_SECTIONS empty), another agent's section counts only if Stash knows a file in it.
    const byDefault = deps.config.plex.sections.length === 0;
    return sections.map((s) => ({
      key: s.key,
      title: s.title,
      locations: s.locations,
      ours: s.strategy === "refresh",
      agent: s.agent,
      compared: s.strategy === "edit" ? edited : new Set(COMPARED_FIELDS),
      optional: byDefault && s.strategy !== "refresh",
    }));
  };

  /** One instance's scenes against the items of its own sections. */
  async function detect(part: ReconcileInstance, all: SyncSection[], progress: Progress): Promise<Found> {
    progress.phase = "plex";
    // TV sections hold episodes at our links, compared by the TV detector; the rest as movies.
    const sections = all.filter((s) => !isTvSection(s));
    const scratch = openScratch(deps.config.dataDir);
    try {
      return await detectWith(part, sections, all, progress, scratch.db);
    } finally {
      scratch.close();
    }
  }

  async function detectWith(
    part: ReconcileInstance,
    sections: SyncSection[],
    all: SyncSection[],
    progress: Progress,
    scratch: Database,
  ): Promise<Found> {
    const items = createItemSpill(scratch, "movies", movieCodec);
    await gatherPlex(part, sections, progress, items);
    const artworkGaps: Gap[] = [];
    const tv: TvFound | null = part.tv?.length
      ? await gatherTv(deps.plex, part, all.filter(isTvSection), progress, scratch)
      : null;
    const ratingAs = part.ctx.ratingAs ?? "critic";
    const strategy = new Map(sections.map((s) => [s.key, s.strategy]));
    // What the provider answers for a scene, computed once per scene (it is asked before and while comparing).
    const expected = new WeakMap<StashScene, Shown>();
    const expectedOf = (scene: StashScene) => {
      let e = expected.get(scene);
      if (!e) expected.set(scene, (e = expectedFields(sceneToMetadata(scene, part.ctx), ratingAs, scene.rating100)));
      return e;
    };
    const detector = createDetector(items, {
      identifier: part.ctx.identifier,
      mapper: part.mapper,
      sections: sectionViews(sections),
      expected: expectedOf,
    });
    /** Kept items with their two values, by item and scene. */
    const keptValues = new Map<string, KeptItem>();

    /** Scenes waiting for their items to be read whole, and those items. */
    let waiting: StashScene[] = [];
    let toRead = new Map<string, ListedItem>();
    async function compareWaiting() {
      const keys = [...toRead.keys()];
      const raw = new Map<string, Record<string, unknown>>();
      for (let i = 0; i < keys.length; i += ITEM_BATCH) {
        for (const body of await deps.plex.items(keys.slice(i, i + ITEM_BATCH))) raw.set(String(body.ratingKey), body);
      }
      for (const [key, body] of raw) {
        const item = toRead.get(key);
        if (!item) continue;
        item.shown = shownFields(body, ratingAs);
        item.full = true;
        const locked = lockedFields(body);
        if (locked.size) item.locked = locked;
        if (strategy.get(item.sectionId) === "edit") item.skip = userEdited(key, body, false);
      }
      for (const scene of waiting) {
        const keptBefore = detector.kept().length;
        const found = detector.scene(scene);
        const stash = () => ({
          ...sceneToMetadata(scene, part.ctx),
          userRating: scene.rating100 == null ? undefined : scene.rating100 / 10,
        });
        for (const gap of found)
          if (gap.kind === "stale" && raw.has(gap.ratingKey!))
            gap.values = sideBySide(stash(), raw.get(gap.ratingKey!)!, gap.fields!);
        for (const k of detector.kept().slice(keptBefore)) {
          if (raw.has(k.ratingKey))
            keptValues.set(`${k.ratingKey}/${k.sceneId}`, {
              ...k,
              values: sideBySide(stash(), raw.get(k.ratingKey)!, k.fields),
            });
        }
      }
      waiting = [];
      toRead = new Map();
    }
    const sideBySide = (
      stash: Record<string, unknown>,
      plex: Record<string, unknown>,
      fields: string[],
    ): Record<string, FieldValues> =>
      Object.fromEntries(
        fields.map((f) => [
          f,
          {
            stash: fieldText(stash, f as ComparedField, ratingAs),
            plex: fieldText(plex, f as ComparedField, ratingAs),
          },
        ]),
      );

    /**
     * A page's artwork gaps: each scene's items of ours (movies and episodes), their records read
     * in one query for the page (a query per item was a tenth of the detection's time).
     */
    const artworkOfPage = (artwork: ArtworkKeeper, scenes: readonly StashScene[]): Gap[] => {
      const held = scenes.flatMap((scene) => {
        const ours = guidOf(part.ctx.identifier, sceneRef(part.id, scene.id));
        const movies = detector.holders(scene).filter((i) => i.guid === ours);
        return [...movies, ...(tv?.episodesOf(scene.id) ?? [])].map((item) => ({ scene, item }));
      });
      const records = artwork.recordedMany(held.map(({ item }) => item.ratingKey));
      return held.flatMap(({ scene, item }) => {
        const gap = artworkGap(scene, item, item, records.get(item.ratingKey) ?? {});
        return gap ? [{ ...gap, instance: part.id }] : [];
      });
    };

    Object.assign(progress, { phase: "stash", done: 0, total: 0 });
    let scenes = 0;
    for await (const page of oneAhead(pages(STASH_PAGE, (i) => part.stash.scenesPage(i + 1, STASH_PAGE)))) {
      progress.total = page.count;
      // The page's items, episodes and placements in a few queries (a few per scene were ~40 s at 200,000).
      detector.prefetch(page.items);
      tv?.startOfPage(page.items);
      if (part.artwork) artworkGaps.push(...artworkOfPage(part.artwork, page.items));
      for (const scene of page.items) {
        if (tv) await tv.scene(scene, expectedOf);
        // Read whole what a listing row cannot settle: a difference (a lock may explain it) or tags a row may cut.
        const unsure = stashIsEmpty(scene)
          ? []
          : detector
              .holders(scene)
              .filter(
                (item) =>
                  !item.full &&
                  (listingMayHide(item.shown) || differingFields(expectedOf(scene), item.shown, true).length > 0),
              );
        if (!unsure.length) detector.scene(scene);
        else {
          waiting.push(scene);
          for (const item of unsure) toRead.set(item.ratingKey, item);
        }
      }
      if (toRead.size >= ITEM_BATCH) await compareWaiting();
      // The items looked up for this page are let go (kept on disk), but those waiting to be read whole.
      items.release(toRead.values());
      tv?.endOfPage();
      scenes += page.items.length;
      progress.done = scenes;
      heapCollector.page();
    }
    await compareWaiting();
    const gaps = [...detector.finish(), ...artworkGaps];
    // Kept items found without a whole read (locks shown in a listing) keep no values.
    const kept = detector.kept().map((k) => keptValues.get(`${k.ratingKey}/${k.sceneId}`) ?? k);
    if (tv) {
      const found = await tv.finish(expectedOf);
      gaps.push(...found.gaps);
      kept.push(...found.kept);
    }
    return { gaps, scenes, items: items.size + (tv?.items ?? 0), kept, skipped: detector.skipped() };
  }

  /**
   * Items whose name tells nothing and whose size and duration several scenes' files have: what
   * the path tester and `check` list as left unmatched (this run's list replaces the last).
   */
  function listAmbiguous(gaps: readonly Gap[]) {
    const ambiguous = gaps.filter((g) => g.candidates && g.ratingKey);
    for (const g of ambiguous) identity.ambiguous(g.ratingKey!, g.plexPaths[0] ?? "", g.candidates!);
    identity.keepAmbiguous(new Set(ambiguous.map((g) => g.ratingKey!)));
  }

  /** Artwork missing or old: each instance's keeper reads the items whole (the user's locks) and uploads. */
  async function healArtwork(gaps: Gap[], count: (g: Gap) => void) {
    for (const part of parts) {
      const mine = gaps.filter((g) => (g.instance ?? DEFAULT_INSTANCE_ID) === part.id && g.ratingKey && g.sceneId);
      if (!mine.length || !part.artwork) continue;
      const targets = mine.map((g) => ({ ratingKey: g.ratingKey!, posters: g.image, arts: g.image }));
      await part.artwork.keep(targets, { readPlex: true });
      mine.forEach(count);
    }
  }

  /** What an instance's collections lack or hold too much of: a pass that only looks. */
  async function collectionGaps(part: ReconcileInstance, looks: Map<string, PassResult>): Promise<Gap[]> {
    const look = await part.collections!.pass({ dryRun: true });
    looks.set(part.id, look);
    return look.sections.flatMap(({ sectionId, actions }) =>
      actions.map((a) => ({
        kind: gapKindOf(a),
        instance: part.id,
        sectionId,
        ...("ratingKey" in a ? { ratingKey: a.ratingKey } : {}),
        plexPaths: [],
        stashPaths: [],
        reason: describeAction(a),
      })),
    );
  }

  /** Heals the gaps of the asked kinds; returns how many were acted on per kind. */
  async function heal(
    gaps: Gap[],
    kinds: ReadonlySet<GapKind>,
    progress: Progress,
    looks: ReadonlyMap<string, PassResult>,
  ): Promise<Record<string, number>> {
    const healed: Record<string, number> = {};
    const todo = gaps.filter((g) => kinds.has(g.kind));
    Object.assign(progress, { phase: "heal", done: 0, total: todo.length });
    const count = (g: Gap) => ((healed[g.kind] = (healed[g.kind] ?? 0) + 1), progress.done++);
    // Pushes and notes are written together at the end, in one transaction (one commit, not one per gap).
    const pushes: { changes: { ref: Ref }[]; reason: string }[] = [];
    const notes: { ref: Ref; event: string; detail: string }[] = [];
    const refOfGap = (g: Gap) => sceneRef(g.instance ?? DEFAULT_INSTANCE_ID, g.sceneId!);
    /** The episode GUID an item at one of our links must carry (its file names the episode), if it is one. */
    const tvGuidOf = (g: Gap) => {
      const part = partOf(g.instance);
      const id = part.tv?.length ? episodeIdOfFile(g.plexPaths[0] ?? "") : null;
      return id ? guidOf(tvIdentifierOf(part.ctx.identifier), { instance: part.id, kind: "episode", id }) : null;
    };
    const push = (g: Gap, why: string) => pushes.push({ changes: [{ ref: refOfGap(g) }], reason: `reconcile: ${why}` });
    const folders = new Map<string, { sectionId: string; folder: string; gaps: Gap[] }>();
    /** Folders to ask each instance's Stash to scan. */
    const stashFolders = new Map<string, Set<string>>();
    let queued = 0;
    try {
      for (const g of todo) {
        if (g.kind === "stale" && !g.sceneId && g.ratingKey) {
          // A TV show whose title is not its studio's or group's: PMS re-pulls it from the TV provider.
          await deps.plex.refresh(g.ratingKey);
        } else if (g.kind === "unmatched" && g.sceneId && g.ratingKey && tvGuidOf(g)) {
          // An episode at our link bound to nothing of ours: bind it to its episode (PMS re-pulls), then push.
          const guid = tvGuidOf(g)!;
          await deps.plex.match(g.ratingKey, guid, `Stash scene ${g.sceneId}`);
          deps.plexIndex.setGuid(g.ratingKey, guid);
          push(g, `unmatched: episode item ${g.ratingKey} bound to scene ${g.sceneId}`);
        } else if (g.kind === "stale" || g.kind === "empty") {
          push(
            g,
            g.kind === "stale"
              ? `stale (${g.fields!.join(", ")}) in plex item ${g.ratingKey}`
              : `plex item ${g.ratingKey} empty`,
          );
        } else if (
          (g.kind === "unmatched" || g.kind === "wrong-scene" || g.kind === "orphaned") &&
          g.sceneId &&
          g.ratingKey
        ) {
          // Bind the item to the scene that owns its file (PMS re-pulls on a match), then push it through the queue.
          // The GUID is that scene's instance's: its scheme sends PMS to that instance's provider.
          const guid = guidOf(partOf(g.instance).ctx.identifier, refOfGap(g));
          await deps.plex.match(g.ratingKey, guid, `Stash scene ${g.sceneId}`);
          deps.plexIndex.setGuid(g.ratingKey, guid);
          // The path tester and the scene's page say how an item no path places was found.
          if (g.foundBy) identity.bound(g.ratingKey, g.plexPaths[0] ?? "", refOfGap(g), g.foundBy);
          const by = !g.foundBy ? "" : g.foundBy === "oshash" ? " by its fingerprint" : " by its size and duration";
          push(g, `${g.kind}: plex item ${g.ratingKey} bound to scene ${g.sceneId}${by}`);
        } else if (g.kind === "missing-in-plex" && g.sectionId) {
          for (const path of g.plexPaths) {
            const folder = path.replace(/[\\/][^\\/]*$/, "");
            const entry = folders.get(`${g.sectionId}\u0000${folder}`) ?? { sectionId: g.sectionId, folder, gaps: [] };
            entry.gaps.push(g);
            folders.set(`${g.sectionId}\u0000${folder}`, entry);
          }
          continue; // counted when its folders are scanned
        } else if (g.kind === "unknown-to-stash" && g.stashPaths.length) {
          const folders = stashFolders.get(partOf(g.instance).id) ?? new Set<string>();
          for (const p of g.stashPaths) folders.add(p.replace(/[\\/][^\\/]*$/, ""));
          stashFolders.set(partOf(g.instance).id, folders);
        } else continue;
        count(g);
      }
      // One scan per folder, however many of its files are missing.
      const asked = new Set<Gap>();
      for (const { sectionId, folder, gaps: inFolder } of folders.values()) {
        await deps.plex.scanPath(sectionId, folder);
        for (const g of inFolder) {
          notes.push({ ref: refOfGap(g), event: "reconcile", detail: `missing in Plex: asked Plex to scan ${folder}` });
          if (!asked.has(g)) count(g);
          asked.add(g);
        }
      }
    } finally {
      // What was bound or scanned is written even when Plex failed part way.
      queued = deps.queue.enqueueEach(pushes, notes);
    }
    for (const [instance, folders] of stashFolders) await partOf(instance).stash.metadataScan([...folders]);
    await healArtwork(
      todo.filter((g) => g.kind === "artwork"),
      count,
    );
    // Collections: what each instance's look found, of the kinds asked (the collections it touches read again).
    for (const part of parts) {
      const mine = todo.filter((g) => isCollectionGap(g.kind) && g.instance === part.id);
      const look = looks.get(part.id);
      if (!mine.length || !part.collections || !look) continue;
      await part.collections.heal(look, new Set(mine.map((g) => g.kind)));
      mine.forEach(count);
    }
    if (queued) deps.onQueued();
    return healed;
  }

  return {
    reports,
    get progress(): Progress | null {
      return progress;
    },
    get running() {
      return progress !== null;
    },
    /** One run: detect, heal what is asked, keep the report. Throws ReconcileBusyError when one runs already. */
    async run(options: ReconcileOptions): Promise<ReconcileResult> {
      if (progress) throw new ReconcileBusyError(`a reconcile is running already (started by ${progress.trigger})`);
      const startedAt = Date.now();
      const shown: Progress = { phase: "plex", done: 0, total: 0, startedAt, trigger: options.trigger };
      progress = shown;
      const kinds = new Set(options.kinds?.length ? options.kinds : GAP_KINDS);
      try {
        const sections = await deps.sections();
        // Each instance's scenes against its own sections' items (resolveSections: a section of no
        // instance is the default's, as before); a gap's scene names its instance.
        const found: Found = { gaps: [], scenes: 0, items: 0, kept: [], skipped: [] };
        const looks = new Map<string, PassResult>();
        for (const part of parts) {
          const one = await detect(
            part,
            sections.filter((s) => (s.instance ?? DEFAULT_INSTANCE_ID) === part.id),
            shown,
          );
          found.gaps.push(...one.gaps.map((g) => (g.sceneId ? { ...g, instance: part.id } : g)));
          found.scenes += one.scenes;
          found.items += one.items;
          found.kept = [...found.kept, ...one.kept.map((k) => ({ ...k, instance: part.id }))];
          found.skipped.push(...one.skipped);
          if (part.collections && COLLECTION_GAP_KINDS.some((k) => kinds.has(k)))
            found.gaps.push(...(await collectionGaps(part, looks)));
        }
        listAmbiguous(found.gaps);
        const gaps = found.gaps.filter((g) => kinds.has(g.kind));
        const healed = options.heal.length ? await heal(gaps, new Set(options.heal), shown, looks) : {};
        const counts: Partial<Record<GapKind, number>> = {};
        for (const g of gaps) counts[g.kind] = (counts[g.kind] ?? 0) + 1;
        const run = {
          startedAt,
          finishedAt: Date.now(),
          status: "done" as const,
          trigger: options.trigger,
          error: null,
          scenes: found.scenes,
          items: found.items,
          counts,
          healed,
          kept: found.kept.length,
          keptItems: found.kept.slice(0, KEPT_PER_KIND),
          unhealable: unhealableOf(gaps),
          skipped: found.skipped,
        };
        const id = reports.save(run, gaps);
        deps.log.info("reconcile finished", {
          gaps: gaps.length,
          counts,
          healed,
          seconds: Math.round((run.finishedAt - startedAt) / 100) / 10,
        });
        return { run: { id, ...run }, gaps };
      } catch (err) {
        const error = `reconcile stopped: ${(err as Error).message}`;
        const run = {
          startedAt,
          finishedAt: Date.now(),
          status: "failed" as const,
          trigger: options.trigger,
          error,
          scenes: 0,
          items: 0,
          counts: {},
          healed: {},
        };
        reports.save(run, []);
        deps.log.warn(error);
        throw new Error(error);
      } finally {
        progress = null;
      }
    },
  };
}
export type Reconciler = ReturnType<typeof createReconciler>;
