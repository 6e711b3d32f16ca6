/**
 * One push: make Plex show the current state of one Stash scene. Fetches the scene fresh,
 * finds its Plex item, then either asks PMS to re-pull from us (refresh strategy, binding
 * the item to our GUID first when needed) or writes the fields directly (edit strategy).
 * Returns an outcome the worker turns into done / retry / dead letter; never throws.
 */
import type { Config, EditField } from "../config/schema.ts";
import type { PathMapper } from "../paths/mapper.ts";
import type { PlexClient, PlexSection } from "../plex/client.ts";
import { PlexError } from "../plex/client.ts";
import type { StashClient } from "../stash/client.ts";
import { isStashError } from "../stash/errors.ts";
import type { Store } from "../store/db.ts";
import { sceneGuid, sceneToMetadata, type MetadataContext } from "../provider/metadata.ts";
import type { PlexMetadata } from "../schema/plex.ts";
import type { PlexIndex } from "./plex-index.ts";
import { currentValues, planEdits } from "./edit-fields.ts";

export type Outcome =
  | { ok: true; ratingKey: string | null; stashUpdatedAt: string | null; note: string; awaitPull: boolean }
  | { ok: false; kind: "transient" | "permanent"; error: string; plexFailed: boolean };

export interface SyncSection extends PlexSection {
  strategy: "refresh" | "edit";
}

export interface PushDeps {
  config: Config;
  store: Store;
  stash: Pick<StashClient, "sceneById" | "image">;
  plex: PlexClient;
  index: PlexIndex;
  mapper: PathMapper;
  ctx: MetadataContext;
  sections: () => Promise<SyncSection[]>;
}

/** Resolves configured sections (or every movie section) and their strategies. */
export function resolveSections(all: PlexSection[], config: Config): SyncSection[] {
  const wanted = config.plex.sections.length
    ? config.plex.sections
    : all.filter((s) => s.type === "movie").map((s) => ({ id: s.key, strategy: "auto" as const }));
  return wanted.flatMap((w) => {
    const section = all.find((s) => s.key === w.id);
    if (!section) return [];
    // An agent built on our provider carries our identifier; anything else gets direct edits.
    const ours = section.agent === config.provider.identifier || section.agent.startsWith(`${config.provider.identifier}.`);
    const strategy = w.strategy === "auto" ? (ours ? "refresh" : "edit") : w.strategy;
    return [{ ...section, strategy }];
  });
}

/** Whether a path lies in a folder: /media/Scenes holds /media/Scenes/a.mp4, not /media/ScenesOld/a.mp4. */
export function isInside(path: string, folder: string): boolean {
  const base = folder.replace(/[\\/]+$/, "");
  return path.startsWith(base) && (path.length === base.length || path[base.length] === "/" || path[base.length] === "\\");
}

const INDEX_REFRESH_MIN_MS = 5000;

export function createPusher(deps: PushDeps) {
  const { plex, index, store } = deps;
  let lastIndexRefresh = 0;
  const lastWritten = store.db.query<{ field: string; value: string }, [string]>("SELECT field, value FROM edit_state WHERE rating_key = ?");
  const remember = store.db.query(
    "INSERT INTO edit_state (rating_key, field, value) VALUES (?, ?, ?) ON CONFLICT (rating_key, field) DO UPDATE SET value = excluded.value");

  /** A miss may be an item Plex added since our last look; ask again, but not more than every few seconds. */
  async function refreshIndex(sections: SyncSection[]) {
    if (Date.now() - lastIndexRefresh < INDEX_REFRESH_MIN_MS) return;
    lastIndexRefresh = Date.now();
    await index.refresh(sections);
  }

  async function edit(section: SyncSection, ratingKey: string, sceneId: string, meta: PlexMetadata) {
    const fields = deps.config.plex.editFields as EditField[];
    const previous = Object.fromEntries(lastWritten.all(ratingKey).map((r) => [r.field, r.value]));
    let current: ReturnType<typeof currentValues> | undefined;
    if (deps.config.plex.keepUserEdits && Object.keys(previous).length) {
      const body = await plex.itemRaw(ratingKey);
      current = body ? currentValues(body) : undefined;
    }
    const plan = planEdits(meta, fields, current, previous);
    await plex.edit(section.key, ratingKey, plan.query);
    store.db.transaction(() => {
      for (const [field, value] of Object.entries(plan.written)) remember.run(ratingKey, field, value!);
    })();
    const uploads = ([["poster", "posters"], ["background", "arts"]] as const).filter(([field]) => fields.includes(field));
    if (uploads.length && meta.thumb) {
      // Poster and background are the same screenshot: fetch it from Stash once.
      const image = await deps.stash.image(`/scene/${sceneId}/screenshot`);
      if (image.ok) {
        const bytes = new Uint8Array(await image.arrayBuffer());
        const type = image.headers.get("content-type") ?? "image/jpeg";
        for (const [, element] of uploads) await plex.upload(ratingKey, element, bytes, type);
      } else await image.body?.cancel();
    }
    return plan.keptUserEdits.length ? `kept user edits: ${plan.keptUserEdits.join(", ")}` : "fields written";
  }

  async function pushItem(section: SyncSection, item: { rating_key: string; guid: string }, guid: string, sceneId: string, meta: PlexMetadata) {
    if (section.strategy === "edit") return edit(section, item.rating_key, sceneId, meta);
    if (item.guid !== guid) {
      await plex.match(item.rating_key, guid, meta.title);
      index.setGuid(item.rating_key, guid);
    }
    await plex.refresh(item.rating_key);
    return item.guid === guid ? "refreshed" : "bound to our GUID and refreshed";
  }

  return async function push(sceneId: string): Promise<Outcome> {
    try {
      const scene = await deps.stash.sceneById(sceneId);
      if (!scene) return { ok: true, ratingKey: null, stashUpdatedAt: null, note: "scene no longer in Stash", awaitPull: false };
      const sections = await deps.sections();
      const guid = sceneGuid(deps.ctx.identifier, scene.id);
      const paths = scene.files.map((f) => f.path);
      let items = index.find(guid, paths, deps.mapper);
      if (items.length === 0) {
        await refreshIndex(sections);
        items = index.find(guid, paths, deps.mapper);
      }
      if (items.length === 0) {
        const note = await askForScan(sections, paths);
        return { ok: false, kind: "transient", error: `not in Plex yet${note}`, plexFailed: false };
      }
      const meta = sceneToMetadata(scene, deps.ctx);
      const notes: string[] = [];
      const gone: string[] = [];
      let refreshed = false;
      for (const item of items) {
        const section = sections.find((s) => s.key === item.section_id);
        if (!section) {
          notes.push(`item ${item.rating_key} is in section ${item.section_id}, which is not synced`);
          continue;
        }
        try {
          notes.push(`item ${item.rating_key}: ${await pushItem(section, item, guid, scene.id, meta)}`);
          refreshed ||= section.strategy === "refresh";
        } catch (err) {
          // One item deleted in Plex must not keep the scene's other items from updating.
          if (!(err instanceof PlexError && err.status === 404)) throw err;
          index.forget(item.rating_key);
          gone.push(item.rating_key);
        }
      }
      if (gone.length === items.length) {
        return { ok: false, kind: "permanent", error: `Plex item ${gone.join(", ")} answered 404: the Plex item is gone (deleted or re-added in Plex)`, plexFailed: false };
      }
      const note = notes.join("; ");
      return { ok: true, ratingKey: items.map((i) => i.rating_key).join(","), stashUpdatedAt: scene.updated_at, note, awaitPull: refreshed };
    } catch (err) {
      return classify(err);
    }
  };

  async function askForScan(sections: SyncSection[], stashPaths: string[]): Promise<string> {
    if (!deps.config.plex.scanMissing) return "";
    for (const path of stashPaths) {
      const plexPath = deps.mapper.toPlex(path)?.path;
      if (!plexPath) continue;
      const section = sections.find((s) => s.locations.some((l) => isInside(plexPath, l)));
      if (!section) continue;
      const folder = plexPath.replace(/[\\/][^\\/]*$/, "");
      await plex.scanPath(section.key, folder);
      return `; asked Plex to scan ${folder}`;
    }
    return "; no synced Plex section holds its folder (check the path rules)";
  }

  function classify(err: unknown): Outcome {
    if (err instanceof PlexError) {
      if (err.status === 404) {
        return { ok: false, kind: "permanent", error: `${err.message}: the Plex item is gone (deleted or re-added in Plex)`, plexFailed: false };
      }
      // A rejected token affects every job: wait behind the breaker rather than bury them all.
      const down = err.kind === "transient" || err.status === 401 || err.status === 403;
      return { ok: false, kind: down ? "transient" : "permanent", error: err.message, plexFailed: down };
    }
    if (isStashError(err)) return { ok: false, kind: err.kind === "query" ? "permanent" : "transient", error: err.message, plexFailed: false };
    return { ok: false, kind: "transient", error: (err as Error).message ?? String(err), plexFailed: false };
  }
}
export type Pusher = ReturnType<typeof createPusher>;
