/**
 * One push: make Plex show the current state of one Stash scene. Fetches the scene fresh,
 * finds its Plex items, then writes the fields of items in edit-strategy sections directly
 * and asks PMS to re-pull ONE refresh-strategy item from us (binding it to our GUID first
 * when needed): a fetch of the scene can only be attributed while one item awaits it (see
 * queue.ts). Items already delivered at this version are skipped. Returns an outcome the
 * worker turns into done / awaiting a fetch / retry / dead letter; never throws.
 */
import type { Config, EditField } from "../config/schema.ts";
import type { PathMapper } from "../paths/mapper.ts";
import type { PlexClient, PlexSection } from "../plex/client.ts";
import { PlexError } from "../plex/client.ts";
import type { StashClient } from "../stash/client.ts";
import type { StashScene } from "../schema/stash.ts";
import { isStashError } from "../stash/errors.ts";
import { sceneToMetadata, type MetadataContext } from "../provider/metadata.ts";
import { DEFAULT_INSTANCE_ID, guidOf, sceneRef, tvIdentifierOf, type Ref } from "../domain/ref.ts";
import type { PlexMetadata } from "../schema/plex.ts";
import type { PlexIndex } from "./plex-index.ts";
import { currentValues, planEdits } from "./edit-fields.ts";
import type { EditState } from "./edit-state.ts";
import { stashIsEmpty } from "../domain/scene.ts";
import { instanceOfAgent, instancesOf } from "../config/instances.ts";
import type { TvPusher, TvUpkeep } from "./tv-push.ts";
import { type ArtworkKeeper, screenshotOf } from "./artwork.ts";

export type Outcome =
  | {
      ok: true;
      /** Items written directly now (edit strategy). */
      written: string[];
      /** The item refreshed now, whose fetch is awaited; null when nothing awaits a fetch. */
      awaiting: string | null;
      /** Which provider's fetch confirms it: the movie provider's (a movie item) or the TV provider's (an episode). */
      awaitingKind?: "scene" | "episode";
      /**
       * The awaited movie item is one of several of the scene's: PMS fetches them all from one URL,
       * so a fetch may be another's (a late one). Only reading the item back confirms it.
       */
      sharedFetch?: boolean;
      /** Refresh items still to push after the awaited one. */
      itemsLeft: number;
      stashUpdatedAt: string | null;
      note: string;
    }
  | {
      ok: false;
      kind: "transient" | "permanent";
      error: string;
      plexFailed: boolean;
      stashUpdatedAt?: string;
      /** The instance's Stash did not answer: its pushes pause behind its breaker. */
      stashFailed?: boolean;
    };

export interface SyncSection extends PlexSection {
  strategy: "refresh" | "edit";
  /** The Stash instance whose scenes the section holds (its PLEX_SECTIONS entry, else its agent's). */
  instance: string;
}

/**
 * Resolves configured sections (or every movie section), their strategies and instances. A
 * section belongs to the instance its entry names, else to the instance whose provider is its
 * agent; a section on any other agent is the default instance's.
 */
export function resolveSections(all: PlexSection[], config: Config): SyncSection[] {
  const instances = instancesOf(config);
  const wanted: { id: string; strategy: "auto" | "refresh" | "edit"; instance?: string }[] = config.plex.sections.length
    ? config.plex.sections
    : all.filter((s) => s.type === "movie").map((s) => ({ id: s.key, strategy: "auto" as const }));
  // TV sections (type "show") on an instance's TV provider are that instance's, always re-pulled
  // from it (refresh): the TV libraries (tv.libraries) say what they hold, not PLEX_SECTIONS.
  const tvOf = (agent: string) => instances.find((i) => tvIdentifierOf(i.provider.identifier) === agent);
  const tv = all.flatMap((s): SyncSection[] => {
    const owner = s.type === "show" ? tvOf(s.agent) : undefined;
    return owner ? [{ ...s, strategy: "refresh", instance: owner.id }] : [];
  });
  const movie = wanted.flatMap((w): SyncSection[] => {
    const section = all.find((s) => s.key === w.id);
    if (!section || tv.some((t) => t.key === section.key)) return [];
    const instance = w.instance ?? instanceOfAgent(instances, section.agent).id;
    // An agent built on the instance's provider carries its identifier; anything else gets direct edits.
    const identifier = instances.find((i) => i.id === instance)?.provider.identifier ?? config.provider.identifier;
    const ours =
      section.agent === identifier ||
      (instance === DEFAULT_INSTANCE_ID &&
        section.agent.startsWith(`${identifier}.`) &&
        !instances.some((i) => i.provider.identifier === section.agent));
    const strategy = w.strategy === "auto" ? (ours ? "refresh" : "edit") : w.strategy;
    return [{ ...section, strategy, instance }];
  });
  return [...movie, ...tv];
}

/** Whether a synced section is a TV library's (episodes of the TV provider), not a movie section. */
export const isTvSection = (section: Pick<PlexSection, "type">) => section.type === "show";

export interface PushDeps {
  config: Config;
  /** What the edit strategy last wrote to each item (keepUserEdits). */
  editState: EditState;
  stash: Pick<StashClient, "sceneById" | "image">;
  plex: PlexClient;
  index: PlexIndex;
  mapper: PathMapper;
  ctx: MetadataContext;
  /** The synced sections of this instance (its own and, for the default, those of no instance). */
  sections: () => Promise<SyncSection[]>;
  /** The Stash instance whose scenes it pushes. */
  instance?: string;
  /** The TV libraries of the instance (tv-push.ts): the scene's links and its episode items. */
  tv?: TvPusher;
  /** Puts the scene's screenshot into Plex as each item's poster and background (artwork.ts). */
  artwork?: ArtworkKeeper;
  /**
   * The scene's Plex collections (collections/keeper.ts): its items join and leave them after
   * its push, and after its deletion in Stash. Looked up at each push (built after the pusher).
   */
  collections?: () => SceneCollections | undefined;
}

/** What a push asks of the collection keeper: one scene's memberships (null: deleted in Stash). */
export interface SceneCollections {
  keepScene(sceneId: string, scene: StashScene | null): Promise<string>;
}

/** Whether a path lies in a folder: /media/Scenes holds /media/Scenes/a.mp4, not /media/ScenesOld/a.mp4. */
export function isInside(path: string, folder: string): boolean {
  const base = folder.replace(/[\\/]+$/, "");
  return (
    path.startsWith(base) && (path.length === base.length || path[base.length] === "/" || path[base.length] === "\\")
  );
}

const INDEX_REFRESH_MIN_MS = 5000;

export function createPusher(deps: PushDeps) {
  const { plex, index, editState } = deps;
  let lastIndexRefresh = 0;
  /** Folder → when Plex was last asked to scan it. A scan takes Plex a while; asking again at every retry only loads it. */
  const lastScan = new Map<string, number>();
  const scanWindowMs = deps.config.sync.retryCapSeconds * 1000;

  /** A miss may be an item Plex added since our last look; ask again, but not more than every few seconds. */
  async function refreshIndex(sections: SyncSection[]) {
    if (Date.now() - lastIndexRefresh < INDEX_REFRESH_MIN_MS) return;
    lastIndexRefresh = Date.now();
    await index.refresh(sections);
  }
  /** An episode not indexed yet is usually one Plex's scan of its folder added a moment ago: its TV sections are looked at again. */
  const refreshTvIndex = (sections: SyncSection[]) => index.refreshSoon(sections.filter(isTvSection));

  async function edit(section: SyncSection, ratingKey: string, meta: PlexMetadata) {
    const fields = deps.config.plex.editFields as EditField[];
    const previous = editState.written(ratingKey);
    let current: ReturnType<typeof currentValues> | undefined;
    if (deps.config.plex.keepUserEdits && Object.keys(previous).length) {
      const body = await plex.itemRaw(ratingKey);
      current = body ? currentValues(body) : undefined;
    }
    const plan = planEdits(meta, fields, current, previous);
    await plex.edit(section.key, ratingKey, plan.query);
    editState.remember(ratingKey, plan.written);
    return plan.keptUserEdits.length ? `kept user edits: ${plan.keptUserEdits.join(", ")}` : "fields written";
  }

  async function bindAndRefresh(item: { rating_key: string; guid: string }, guid: string, title: string) {
    if (item.guid !== guid) {
      await plex.match(item.rating_key, guid, title);
      index.setGuid(item.rating_key, guid);
    }
    await plex.refresh(item.rating_key);
    return item.guid === guid ? "refreshed" : "bound to our GUID and refreshed";
  }

  /** With provider.ratingAs = user the Stash rating is the token owner's star rating, set directly (no provider field holds it). */
  async function rateAsUser(ratingKey: string, rating100: number | null | undefined): Promise<boolean> {
    if (deps.ctx.ratingAs !== "user" || rating100 == null) return false;
    // Not sent again when Plex shows it already (within half a Plex step, as writeback/rules.ts
    // ratingsAgree): a rating write-back took from Plex comes back here as a Stash change, and
    // sending it would only make Plex tell write-back of it again.
    const known = editState.starRating(ratingKey);
    if (known?.value != null && Math.abs(known.value * 10 - rating100) < 5) return false;
    const value = Math.min(10, Math.max(0, rating100 / 10));
    await plex.rate(ratingKey, value);
    editState.rememberStarRating(ratingKey, { value, by: "push", at: Date.now() });
    return true;
  }

  /**
   * The scene's screenshot as the item's poster and background, uploaded into Plex (it cannot
   * fetch them from us on a LAN). An edit-strategy section gets them only when its edit fields
   * name them; a refresh-strategy item always.
   */
  async function keepArtwork(section: SyncSection, ratingKey: string, shot: ReturnType<typeof screenshotOf>) {
    if (!deps.artwork || !shot) return "";
    const fields = deps.config.plex.editFields as EditField[];
    const wanted = (field: EditField) => section.strategy === "refresh" || fields.includes(field);
    const r = await deps.artwork.keep([
      { ratingKey, posters: wanted("poster") ? shot : undefined, arts: wanted("background") ? shot : undefined },
    ]);
    return r.uploaded ? `; artwork uploaded (${r.uploaded})` : "";
  }

  /**
   * The scene's collection memberships. Trouble there is noted, not thrown: the metadata is
   * delivered, and the keeper's next pass (hourly, and every reconcile) makes collections exact.
   */
  async function keepCollections(sceneId: string, scene: StashScene | null): Promise<string[]> {
    const keeper = deps.collections?.();
    if (!keeper) return [];
    try {
      const note = await keeper.keepScene(sceneId, scene);
      return note ? [note] : [];
    } catch (err) {
      return [`collections not kept now (the next pass does it): ${(err as Error).message}`];
    }
  }

  /** Runs one item's push; a 404 (item deleted in Plex) is reported, not thrown. */
  async function unlessGone(ratingKey: string, work: () => Promise<string>): Promise<string | "gone"> {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof PlexError && err.status === 404)) throw err;
      index.forget(ratingKey);
      return "gone";
    }
  }

  return async function push(
    ref: Ref,
    done: ReadonlySet<string> = new Set(),
    doneAt?: string | null,
  ): Promise<Outcome> {
    let stashUpdatedAt: string | undefined;
    // A pusher is one instance's (its Stash client, rules and identifier): another instance's scene
    // with the same id is a different scene, never pushed from this Stash. The push side routes each
    // job to its instance's worker, so this is a wiring fault, kept as a dead letter, never a wrong push.
    if (deps.instance !== undefined && ref.instance !== deps.instance) {
      return {
        ok: false,
        kind: "permanent",
        error: `scene of Stash instance "${ref.instance}" reached the pusher of "${deps.instance}"`,
        plexFailed: false,
      };
    }
    try {
      const scene = await deps.stash.sceneById(ref.id);
      const sections = await deps.sections();
      if (!scene) {
        const left = deps.tv ? await deps.tv.gone(ref.id, sections) : [];
        const collections = await keepCollections(ref.id, null);
        return {
          ok: true,
          written: [],
          awaiting: null,
          itemsLeft: 0,
          stashUpdatedAt: null,
          note: ["scene no longer in Stash", ...left, ...collections].join("; "),
        };
      }
      stashUpdatedAt = scene.updated_at;
      // Edited since its first items were pushed, and nobody said so yet (a webhook lost, the poll not
      // come): those items hold the older version, so every item is pushed again, not only the rest.
      const stale = done.size > 0 && doneAt != null && doneAt !== scene.updated_at;
      const pushedAlready: ReadonlySet<string> = stale ? new Set() : done;
      // The TV libraries' links follow the scene whatever its metadata (a link is where its file is).
      const tv: TvUpkeep = deps.tv
        ? await deps.tv.upkeep(scene, sections, () => refreshTvIndex(sections))
        : { items: [], missing: 0, notes: [] };
      // Quality gate: a scene Stash knows nothing about would only blank what Plex shows.
      if (stashIsEmpty(scene)) {
        return {
          ok: true,
          written: [],
          awaiting: null,
          itemsLeft: 0,
          stashUpdatedAt: scene.updated_at,
          note: [
            "not pushed: the Stash scene has no metadata (no title, date, studio, performers, tags or details); Plex is left as it is",
            ...tv.notes,
          ].join("; "),
        };
      }
      const movieSections = sections.filter((s) => !isTvSection(s));
      const guid = guidOf(deps.ctx.identifier, sceneRef(ref.instance, scene.id));
      const paths = scene.files.map((f) => f.path);
      // Movie items (as before), then the scene's episode items; each bound to the GUID of its provider.
      const movieItems = () =>
        index
          .find(guid, paths, deps.mapper)
          .filter((i) => !sections.some((s) => s.key === i.section_id && isTvSection(s)))
          .map((i) => ({ ...i, want: guid }));
      let items = movieItems();
      if (items.length === 0 && movieSections.length) {
        await refreshIndex(sections);
        items = movieItems();
      }
      if (items.length === 0 && tv.items.length === 0) {
        const note = movieSections.length ? await askForScan(movieSections, paths) : "";
        const why = [`not in Plex yet${note}`, ...tv.notes].join("; ");
        return { ok: false, kind: "transient", error: why, plexFailed: false, stashUpdatedAt };
      }
      const notes: string[] = [...tv.notes];
      if (items.length === 0 && movieSections.length)
        notes.push(`not in a movie section yet${await askForScan(movieSections, paths)}`);
      const refreshedMovies = items.filter(
        (i) => sections.find((s) => s.key === i.section_id)?.strategy === "refresh",
      ).length;
      items = [...items, ...tv.items];
      const meta = sceneToMetadata(scene, deps.ctx);
      const gone: string[] = [];
      const written: string[] = [];
      let awaiting: string | null = null;
      let itemsLeft = 0;
      if (stale) notes.push("the scene changed after its first items were pushed: every item pushed again");
      const todo = items.filter((i) => !pushedAlready.has(i.rating_key));
      for (const item of todo) {
        const section = sections.find((s) => s.key === item.section_id);
        if (!section) {
          notes.push(`item ${item.rating_key} is in section ${item.section_id}, which is not synced`);
          continue;
        }
        if (section.strategy === "refresh" && awaiting) {
          itemsLeft++;
          continue;
        }
        // One item deleted in Plex must not keep the scene's other items from updating.
        const result = await unlessGone(item.rating_key, async () => {
          const did =
            section.strategy === "edit"
              ? await edit(section, item.rating_key, meta)
              : await bindAndRefresh(item, item.want, meta.title);
          const art = await keepArtwork(section, item.rating_key, screenshotOf(scene));
          return (await rateAsUser(item.rating_key, scene.rating100))
            ? `${did}${art}; star rating set`
            : `${did}${art}`;
        });
        if (result === "gone") gone.push(item.rating_key);
        else {
          notes.push(`item ${item.rating_key}: ${result}`);
          if (section.strategy === "edit") written.push(item.rating_key);
          else awaiting = item.rating_key;
        }
      }
      // Its collection memberships, at each round (the keeper adds or removes only what differs).
      notes.push(...(await keepCollections(scene.id, scene)));
      if (gone.length && gone.length === todo.length) {
        return {
          ok: false,
          kind: "permanent",
          error: `Plex item ${gone.join(", ")} answered 404: the Plex item is gone (deleted or re-added in Plex)`,
          plexFailed: false,
          stashUpdatedAt,
        };
      }
      // An episode Plex has not shown yet counts as an item left: after this fetch the job is
      // pushed again (and waits for it) instead of being delivered without it.
      if (awaiting) itemsLeft += tv.missing;
      if (itemsLeft) notes.push(`${itemsLeft} more item(s) after Plex fetches this one`);
      // Every item found is delivered, but an episode Plex has not shown yet (a scan under way, or
      // our index not caught up): the job is not done until it has been refreshed too.
      if (!awaiting && tv.missing > 0)
        return {
          ok: false,
          kind: "transient",
          error: `episode not in Plex yet: ${tv.notes.join("; ")}`,
          plexFailed: false,
          stashUpdatedAt,
        };
      const awaitingKind = awaiting && tv.items.some((i) => i.rating_key === awaiting) ? "episode" : "scene";
      return {
        ok: true,
        written,
        awaiting,
        awaitingKind,
        sharedFetch: awaitingKind === "scene" && refreshedMovies > 1,
        itemsLeft,
        stashUpdatedAt: scene.updated_at,
        note: notes.join("; "),
      };
    } catch (err) {
      return { ...classify(err), ...(stashUpdatedAt ? { stashUpdatedAt } : {}) };
    }
  };

  /** Asks Plex to scan the folder of a file it lacks: once per folder per retry window, not per attempt. */
  async function askForScan(sections: SyncSection[], stashPaths: string[]): Promise<string> {
    if (!deps.config.plex.scanMissing) return "";
    for (const path of stashPaths) {
      const plexPath = deps.mapper.toPlex(path)?.path;
      if (!plexPath) continue;
      const section = sections.find((s) => s.locations.some((l) => isInside(plexPath, l)));
      if (!section) continue;
      const folder = plexPath.replace(/[\\/][^\\/]*$/, "");
      const last = lastScan.get(folder);
      if (last !== undefined && Date.now() - last < scanWindowMs)
        return `; Plex was asked to scan ${folder} ${Math.round((Date.now() - last) / 1000)} s ago`;
      lastScan.set(folder, Date.now());
      await plex.scanPath(section.key, folder);
      return `; asked Plex to scan ${folder}`;
    }
    return "; no synced Plex section holds its folder (check the path rules)";
  }

  function classify(err: unknown): Extract<Outcome, { ok: false }> {
    if (err instanceof PlexError) {
      if (err.status === 404) {
        return {
          ok: false,
          kind: "permanent",
          error: `${err.message}: the Plex item is gone (deleted or re-added in Plex)`,
          plexFailed: false,
        };
      }
      // A rejected token affects every job: wait behind the breaker rather than bury them all.
      const down = err.kind === "transient" || err.status === 401 || err.status === 403;
      return { ok: false, kind: down ? "transient" : "permanent", error: err.message, plexFailed: down };
    }
    // Any Stash failure is transient until proven otherwise (a GraphQL error may be a restart or
    // a proxy): the job waits and, failing long enough, ends as a dead letter by age or attempts.
    if (isStashError(err))
      return {
        ok: false,
        kind: "transient",
        error: err.message,
        plexFailed: false,
        stashFailed: err.kind === "unavailable",
      };
    return { ok: false, kind: "transient", error: (err as Error).message ?? String(err), plexFailed: false };
  }
}
export type Pusher = ReturnType<typeof createPusher>;
