/**
 * What PMS calls on a TV provider: discovery (types 2, 3, 4), match, a show's, season's or
 * episode's metadata (with `includeChildren`), `/children` and `/grandchildren` paged by
 * X-Plex-Container-Start/-Size (counted from 0 or from 1: envelope.ts servedStart), `/images`,
 * and `/extras` (always empty). Same status rules as the movie provider:
 * match never fails (an empty container), metadata answers 503 when Stash is down, 404 for
 * what the catalog does not place or Stash no longer has, 400 for a key of no TV form.
 */
import { Elysia } from "elysia";
import { MatchRequest, type MediaContainer, type PlexImage, type PlexMetadata } from "../schema/plex.ts";
import { HttpError } from "../http.ts";
import { guardedJson } from "../json-body.ts";
import type { Logger } from "../log.ts";
import type { StashClient } from "../stash/client.ts";
import type { FileIndex } from "../stash/file-index.ts";
import { isStashError } from "../stash/errors.ts";
import type { TvCatalog } from "../tv/types.ts";
import { PLEX_TYPE_NUMBER, parseRefKey, type Ref } from "../domain/ref.ts";
import { VERSION } from "../version.ts";
import { mediaContainer, readListPaging, readPaging, type Paging } from "./envelope.ts";
import { parseTvKey, type TvContext, type TvKey } from "./tv-metadata.ts";
import { tvItems } from "./tv-items.ts";
import { matchTv } from "./tv-match.ts";
import type { ProviderMount } from "./routes.ts";
import { callerOf, type Caller } from "../plex/caller.ts";

export interface TvProviderDeps {
  stash: Pick<StashClient, "scenesByIds" | "groups" | "studioOfScene" | "scenesWithTitleWords">;
  index: Pick<FileIndex, "ready" | "scene" | "scenesWithTitleWords">;
  catalog: TvCatalog;
  tv: TvContext;
  /** The provider's name in Plex's agent list. */
  title: string;
  log: Logger;
  /**
   * Told of every show, season and episode whose metadata PMS fetched by its own key (not one
   * inside a listing), with who asked (see routes.ts): the push side confirms a push of a TV
   * item by it.
   */
  onServed?: (ref: Ref, caller: Caller) => void;
}

const RATING_KEY = /^[A-Za-z0-9_-]+$/;

function tvKeyOr400(key: unknown): TvKey {
  // A key that is not valid percent-encoding (`%ZZ`) reaches us as null.
  const parsed = typeof key === "string" && RATING_KEY.test(key) ? parseTvKey(key) : null;
  if (!parsed)
    throw new HttpError(
      400,
      "bad_rating_key",
      "a TV ratingKey is a show (st12, sn12, gr3), a season (st12-2023) or an episode (st-42)",
    );
  return parsed;
}

/** A page of items already cut to the page, with the size of the whole list. */
function pageContainer(identifier: string, items: PlexMetadata[], paging: Paging, totalSize: number): MediaContainer {
  const container = mediaContainer(identifier, { Metadata: items });
  return { MediaContainer: { ...container.MediaContainer, offset: paging.start, totalSize } };
}

const page = <T>(all: T[], paging: Paging) => all.slice(paging.start, paging.start + paging.size);
const truthy = (v: unknown) => v === "1" || v === "true";

/** One instance's TV provider, below `<instance path>/tv` (domain/ref.ts tvPathOf). */
export const tvProviderRoutes = (deps: TvProviderDeps, mount: ProviderMount & { tvPath: string }) => {
  const { catalog, tv } = deps;
  const identifier = tv.tvIdentifier;
  const items = tvItems({ stash: deps.stash, catalog, tv });
  // The item each metadata answer served, for the afterResponse hook (only a sent answer proves
  // PMS has it). Only an item asked for by its own key: an episode inside a listing (a season's
  // /children, a show's /grandchildren or includeChildren) may be read by a scan placing other
  // files, and whether PMS then updates the episodes it already has is not known (the chaos
  // soak's lost edit: a refresh PMS never fetched, taken as fetched by such a listing).
  const served = new WeakMap<Request, PlexMetadata>();
  const serve = (request: Request, item: PlexMetadata) => {
    if (deps.onServed) served.set(request, item);
    return item;
  };
  const afterResponse = ({ request, set }: { request: Request; set: { status?: number | string } }) => {
    const item = served.get(request);
    if (!item || (set.status ?? 200) !== 200) return;
    const ref = parseRefKey(`${mount.id}:${item.type}:${item.ratingKey}`);
    if (ref) deps.onServed?.(ref, callerOf(request.headers));
  };

  return new Elysia({ name: `tv-provider:${mount.id}`, prefix: mount.tvPath })
    .get("/", () => ({
      MediaProvider: {
        identifier,
        title: deps.title,
        version: VERSION,
        Types: [PLEX_TYPE_NUMBER.show, PLEX_TYPE_NUMBER.season, PLEX_TYPE_NUMBER.episode].map((type) => ({
          type,
          Scheme: [{ scheme: identifier }],
        })),
        Feature: [
          { type: "metadata", key: "/library/metadata" },
          { type: "match", key: "/library/metadata/matches" },
        ],
      },
    }))
    .post(
      "/library/metadata/matches",
      async ({ body }) => {
        try {
          const found = await matchTv(body, { catalog, stash: deps.stash, index: deps.index, tv, items });
          return mediaContainer(identifier, { Metadata: found });
        } catch (err) {
          // PMS leaves the item unmatched on any non-200; an empty answer lets the scan go on.
          if (!isStashError(err)) throw err;
          deps.log.warn("TV match answered empty: Stash could not be asked", { error: err.message });
          return mediaContainer(identifier, { Metadata: [] });
        }
      },
      { body: MatchRequest, parse: guardedJson({ maxBytes: 64 * 1024, maxDepth: 8 }) },
    )
    .get(
      "/library/metadata/:ratingKey",
      async ({ params, query, request }) => {
        const key = tvKeyOr400(params.ratingKey);
        const children = truthy(query.includeChildren);
        const item =
          key.kind === "show"
            ? await items.show(key.showId, children)
            : key.kind === "season"
              ? await items.season(key.showId, key.season, children)
              : await items.episode(key.scheme, key.sceneId);
        return mediaContainer(identifier, { Metadata: [serve(request, item)] });
      },
      { afterResponse },
    )
    .get("/library/metadata/:ratingKey/children", async ({ params, query, headers }) => {
      const key = tvKeyOr400(params.ratingKey);
      const paging = readListPaging(query, headers);
      if (key.kind === "show") {
        const seasons = await items.seasons(key.showId);
        return pageContainer(identifier, page(seasons, paging), paging, seasons.length);
      }
      if (key.kind === "season") {
        items.showOr404(key.showId);
        const total = catalog.seasons(key.showId).find((s) => s.season === key.season)?.episodes ?? 0;
        if (total === 0) throw new HttpError(404, "not_found", `TV show ${key.showId} has no season ${key.season}`);
        // Only the page's rows are read: a season of a big studio is thousands of episodes.
        const episodes = await items.episodes(catalog.episodes(key.showId, key.season, paging));
        return pageContainer(identifier, episodes, paging, total);
      }
      throw new HttpError(404, "not_found", "an episode has no children");
    })
    .get("/library/metadata/:ratingKey/grandchildren", async ({ params, query, headers }) => {
      const key = tvKeyOr400(params.ratingKey);
      if (key.kind !== "show") throw new HttpError(404, "not_found", "only a show has grandchildren (its episodes)");
      const paging = readListPaging(query, headers);
      const found = items.episodesPage(key.showId, paging.start, paging.size);
      if (!found) throw new HttpError(404, "not_found", `no TV show ${key.showId}`);
      const episodes = await items.episodes(found.page);
      return pageContainer(identifier, episodes, paging, found.total);
    })
    .get("/library/metadata/:ratingKey/images", async ({ params, query, headers }) => {
      const key = tvKeyOr400(params.ratingKey);
      let images: PlexImage[];
      if (key.kind === "episode") images = (await items.episode(key.scheme, key.sceneId)).Image ?? [];
      else if (key.kind === "show") images = (await items.show(key.showId)).Image ?? [];
      else {
        // A season has no artwork of its own: its show's poster stands for it.
        const season = await items.season(key.showId, key.season);
        images = season.parentThumb ? [{ type: "coverPoster", url: season.parentThumb, alt: season.title }] : [];
      }
      return mediaContainer(identifier, { Image: images }, readPaging(query, headers));
    })
    .get("/library/metadata/:ratingKey/extras", ({ params }) => {
      // PMS asks on every refresh and logs a failed query for anything but a container. We have
      // no trailers or featurettes: an empty one for any key of TV form, without a lookup.
      tvKeyOr400(params.ratingKey);
      return mediaContainer(identifier, { Metadata: [] });
    });
};
