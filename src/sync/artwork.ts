/**
 * Artwork that arrives: PMS hands a provider's image URLs to Plex's cloud image service, which
 * cannot reach a LAN address (shared/plex/real-pms-evidence.md §2: the 1.43 log shows it
 * answering 400), so the posters and backgrounds we serve would stay blank on a home network.
 * The keeper puts them into PMS itself: the image's bytes, fetched from Stash, uploaded with
 * `POST /library/metadata/{id}/posters` (`/arts`), as python-plexapi's uploadPoster does.
 * Bytes rather than `?url=`: PMS may download a `?url=` through the same cloud service (not
 * known; bench/artwork.ts measures both), while bytes need nothing to reach us.
 *
 * What each item holds is remembered (artwork-state.ts), so nothing is uploaded twice: a new
 * image version (Stash's `t=`) is fetched, and uploaded only when its bytes differ. A poster the
 * user chose in Plex (its field locked, showing an image we did not put there) is theirs.
 */
import { IMAGE_KINDS, type ImageKind, isImageKind } from "../provider/images.ts";
import type { PlexClient } from "../plex/client.ts";
import type { StashClient } from "../stash/client.ts";
import type { ArtElement, ArtRecord, ArtworkState } from "./artwork-state.ts";

/** A Stash image: which thing's, and its version (Stash's `t=`, the thing's updated_at). */
export interface ImageSource {
  kind: ImageKind;
  id: string;
  version: string;
}

/** A Plex item and the images it should hold. */
export interface ArtworkTarget {
  ratingKey: string;
  posters?: ImageSource;
  arts?: ImageSource;
}

export const ELEMENTS: readonly ArtElement[] = ["posters", "arts"];
/** The field of a Plex item that shows each element, and the name its lock has. */
export const ART_FIELD: Record<ArtElement, "thumb" | "art"> = { posters: "thumb", arts: "art" };

export const sourceKey = (s: ImageSource) => `${s.kind}/${s.id}@${s.version}`;

/** The Stash image behind one of our image URLs (`…/images/scene/12?t=…`), if it is one. */
export function imageSourceOf(url: string | undefined): ImageSource | undefined {
  const m = url ? /\/images\/([a-z]+)\/(\d+)(?:\?t=(\d+))?$/.exec(url) : null;
  return m && isImageKind(m[1]!) ? { kind: m[1], id: m[2]!, version: m[3] ?? "" } : undefined;
}

/** A scene's screenshot, versioned by the `t=` of Stash's own link to it. */
export function screenshotOf(scene: { id: string; paths: { screenshot?: string | null } }): ImageSource | undefined {
  const link = scene.paths.screenshot;
  if (!link) return undefined;
  return { kind: "scene", id: scene.id, version: /[?&]t=(\d+)/.exec(link)?.[1] ?? "" };
}

/** The poster and background of a served item: its `thumb` and `art` URLs. */
export const targetOf = (ratingKey: string, served: { thumb?: string; art?: string }): ArtworkTarget => ({
  ratingKey,
  posters: imageSourceOf(served.thumb),
  arts: imageSourceOf(served.art),
});

export type Need = "ok" | "new" | "old" | "missing" | "kept";

/**
 * What an element of an item needs (pure). Without Plex's view of the item only our record
 * counts; with it, an image Plex lost is missing, and a locked field showing what we did not
 * put there is the user's choice (kept).
 */
export function needOf(
  want: ImageSource | undefined,
  record: ArtRecord | undefined,
  element: ArtElement,
  plexItem?: Record<string, unknown>,
): Need {
  if (!want) return "ok";
  if (plexItem) {
    const field = ART_FIELD[element];
    const shows = typeof plexItem[field] === "string" ? (plexItem[field] as string) : undefined;
    const fields = Array.isArray(plexItem.Field) ? (plexItem.Field as { name?: string; locked?: boolean }[]) : [];
    const locked = fields.some((f) => f.name === field && f.locked);
    if (locked && shows !== undefined && shows !== record?.shown) return "kept";
    if (shows === undefined) return "missing";
  }
  if (!record) return "new";
  if (record.source !== sourceKey(want)) return "old";
  // Stash's version (`t=`) is its updated_at to the second: an image replaced in the same second
  // as the one we took keeps the version. A record taken safely after that second is the newest;
  // one taken within it is looked at again (its bytes decide: the same bytes upload nothing).
  const second = Number(want.version) * 1000;
  return Number.isFinite(second) && second > 0 && record.at <= second + VERSION_SETTLED_MS ? "old" : "ok";
}

/** How long after the second an image version names its bytes are surely that version's (our clock and Stash's may differ). */
const VERSION_SETTLED_MS = 2000;

export interface ArtworkDeps {
  plex: Pick<PlexClient, "items" | "upload">;
  state: ArtworkState;
  stash: Pick<StashClient, "image">;
  now?: () => number;
}

export interface ArtworkResult {
  uploaded: number;
  /** New image versions whose bytes were the same: recorded, not uploaded. */
  unchanged: number;
  /** Elements left alone: the user's choice in Plex. */
  kept: number;
}

const BATCH = 50;
/**
 * Items whose work runs under one hold (see `oneAtATime`): a push waiting behind a Plex index
 * page waits for at most this many items' uploads.
 */
const HOLD = 25;
/** Images a run keeps in memory at once (see their use). */
const CACHED_IMAGES = 4;

export function createArtworkKeeper(deps: ArtworkDeps) {
  const now = deps.now ?? Date.now;
  /** Per item, the work on it under way (settles, never rejects). */
  const busy = new Map<string, Promise<void>>();

  /**
   * Runs `work` once no other work on any of these items is under way. An item's decision,
   * fetch, upload and record happen together: two looks at one item at once (the Plex index
   * job's first look and a push) could otherwise upload the older bytes last, or record a
   * version over an upload that came after it (the chaos soak's lost cover). Every item of a
   * call is taken in the same synchronous step, so two calls never wait on each other.
   */
  function oneAtATime<T>(ratingKeys: readonly string[], work: () => Promise<T>): Promise<T> {
    const run = Promise.all(ratingKeys.map((k) => busy.get(k))).then(work);
    const settled = run.then(
      () => {},
      () => {},
    );
    for (const k of ratingKeys) busy.set(k, settled);
    void settled.then(() => {
      for (const k of ratingKeys) if (busy.get(k) === settled) busy.delete(k);
    });
    return run;
  }

  async function readItems(keys: string[]): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    for (let i = 0; i < keys.length; i += BATCH)
      for (const item of await deps.plex.items(keys.slice(i, i + BATCH))) out.set(String(item.ratingKey), item);
    return out;
  }

  /** One Stash image's bytes, or undefined when Stash has none (a 404: nothing to upload). */
  async function bytesOf(source: ImageSource): Promise<{ bytes: Uint8Array; type: string } | undefined> {
    const res = await deps.stash.image(IMAGE_KINDS[source.kind](source.id));
    if (!res.ok) {
      await res.body?.cancel();
      if (res.status === 404) return undefined;
      throw new Error(`Stash answered ${res.status} for the ${source.kind} image ${source.id}`);
    }
    const type = res.headers.get("content-type") ?? "image/jpeg";
    // Stash's default picture (an SVG) is not the thing's own image: PMS gets none rather than it.
    if (!type.startsWith("image/") || type.includes("svg")) return undefined;
    return { bytes: new Uint8Array(await res.arrayBuffer()), type };
  }

  const needsOf = (t: ArtworkTarget, view?: Record<string, unknown>) => {
    const records = deps.state.of(t.ratingKey);
    return ELEMENTS.map((e) => ({ element: e, need: needOf(t[e], records[e], e, view), record: records[e] }));
  };

  /**
   * The work on a few items, under their hold: what each needs is decided again from what is
   * recorded now (a look that held them before may have done it), Plex's view read afresh,
   * then fetched, uploaded and recorded.
   */
  async function keepHeld(targets: readonly ArtworkTarget[], onlyUntouched: boolean, result: ArtworkResult) {
    const todo = onlyUntouched ? targets.filter((t) => Object.keys(deps.state.of(t.ratingKey)).length === 0) : targets;
    if (!todo.length) return;
    // Before an upload, Plex's own view: the user's lock is never overwritten.
    const views = await readItems(todo.map((t) => t.ratingKey));
    const cache = new Map<string, Promise<Awaited<ReturnType<typeof bytesOf>>>>();
    const done: { ratingKey: string; element: ArtElement; record: ArtRecord }[] = [];
    /** Records that need no upload (no image in Stash, the same bytes again): written with the uploads'. */
    const noted: typeof done = [];
    for (const target of todo) {
      if (!views.has(target.ratingKey)) continue;
      for (const { element, need, record } of needsOf(target, views.get(target.ratingKey))) {
        const want = target[element];
        if (need === "ok" || !want) continue;
        if (need === "kept") {
          result.kept++;
          continue;
        }
        const key = sourceKey(want);
        if (!cache.has(key)) {
          cache.set(key, bytesOf(want));
          // An item's poster and background, and a scene's items, come one after the other:
          // the last few images are all worth keeping (bytes of every image would grow unbounded).
          if (cache.size > CACHED_IMAGES) cache.delete(cache.keys().next().value!);
        }
        const image = await cache.get(key)!;
        if (!image) {
          // Stash has no such image: remembered as none, so it is not asked for again until its version moves.
          noted.push({
            ratingKey: target.ratingKey,
            element,
            record: { source: key, hash: "", shown: null, at: now() },
          });
          continue;
        }
        const hash = Bun.hash(image.bytes).toString(36);
        if (need === "old" && record?.hash === hash) {
          noted.push({ ratingKey: target.ratingKey, element, record: { ...record, source: key, at: now() } });
          result.unchanged++;
          continue;
        }
        await deps.plex.upload(target.ratingKey, element, image.bytes, image.type);
        result.uploaded++;
        done.push({ ratingKey: target.ratingKey, element, record: { source: key, hash, shown: null, at: now() } });
      }
    }
    // What Plex shows for each upload now: a lock on it later is PMS's or ours, not the user's.
    const after = done.length ? await readItems([...new Set(done.map((d) => d.ratingKey))]) : new Map();
    // One transaction for all: a write each would stall the event loop at a first scan's thousands.
    deps.state.rememberAll([
      ...noted,
      ...done.map((d) => {
        const shown = after.get(d.ratingKey)?.[ART_FIELD[d.element]];
        return { ...d, record: { ...d.record, shown: typeof shown === "string" ? shown : null } };
      }),
    ]);
  }

  /** Each target's images into Plex where it lacks them or holds an older one (see `keep`). */
  async function keepAll(
    targets: readonly ArtworkTarget[],
    options: { readPlex?: boolean; onlyUntouched?: boolean },
  ): Promise<ArtworkResult> {
    const result: ArtworkResult = { uploaded: 0, unchanged: 0, kept: 0 };
    const plexItems = options.readPlex ? await readItems(targets.map((t) => t.ratingKey)) : undefined;
    // A first sift without holding anything: most targets need nothing, and cost no request.
    const todo = targets.filter(
      (t) =>
        (!plexItems || plexItems.has(t.ratingKey)) &&
        needsOf(t, plexItems?.get(t.ratingKey)).some((n) => n.need !== "ok"),
    );
    for (let i = 0; i < todo.length; i += HOLD) {
      const part = todo.slice(i, i + HOLD);
      await oneAtATime(
        part.map((t) => t.ratingKey),
        () => keepHeld(part, options.onlyUntouched ?? false, result),
      );
    }
    return result;
  }

  return {
    /**
     * Puts each target's images into Plex where it lacks them or holds an older one. With
     * `readPlex` (a reconcile's heal) Plex's view of every target is read first, so images Plex
     * lost are found too; without it, an item whose record is current costs no request. Plex
     * failures are thrown (the caller retries).
     */
    keep: (targets: readonly ArtworkTarget[], options: { readPlex?: boolean } = {}) => keepAll(targets, options),
    /**
     * Items Plex shows bound to our scenes that hold nothing of ours yet (matched by a scan, never
     * pushed): their scene's screenshot, its version not known here (the next push checks it by its bytes).
     */
    firstSeen(items: readonly { ratingKey: string; sceneId: string }[]) {
      const records = deps.state.recordedMany(items.map((i) => i.ratingKey));
      const fresh = items.filter((i) => Object.keys(records.get(i.ratingKey) ?? {}).length === 0);
      const shot = (id: string): ImageSource => ({ kind: "scene", id, version: "" });
      // Still untouched when its turn comes: a push may have put the newest image there meanwhile.
      return keepAll(
        fresh.map((i) => ({ ratingKey: i.ratingKey, posters: shot(i.sceneId), arts: shot(i.sceneId) })),
        { onlyUntouched: true },
      );
    },
    /** What we put into an item (the reconcile compares it with the image Stash has now). */
    recorded: (ratingKey: string) => deps.state.of(ratingKey),
    /** `recorded` of many items in one query (a page of the reconcile). */
    recordedMany: (ratingKeys: readonly string[]) => deps.state.recordedMany(ratingKeys),
  };
}
export type ArtworkKeeper = ReturnType<typeof createArtworkKeeper>;
