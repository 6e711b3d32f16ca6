/**
 * The TV provider's items: a show, a season or episodes as Plex metadata, read from the TV
 * catalog (what exists, where, numbered how) and Stash (what each scene says). Episodes are
 * always read from Stash in one batch per answer (a page of 20 is one `findScenes(ids:)`
 * request, not 20), so a scan reading a show's grandchildren page by page stays cheap.
 */
import type { StashClient } from "../stash/client.ts";
import type { StashScene } from "../schema/stash.ts";
import type { PlexMetadata } from "../schema/plex.ts";
import type { Placement, ShowSummary, TvCatalog } from "../tv/types.ts";
import { HttpError } from "../http.ts";
import {
  episodeToMetadata,
  seasonToMetadata,
  showParts,
  showPoster,
  showToMetadata,
  type ShowInfo,
  type TvContext,
} from "./tv-metadata.ts";

export interface TvItemsDeps {
  stash: Pick<StashClient, "scenesByIds" | "groups" | "studioOfScene">;
  catalog: TvCatalog;
  tv: TvContext;
}

export function tvItems({ stash, catalog, tv }: TvItemsDeps) {
  const showOr404 = (showId: string): ShowSummary => {
    const show = catalog.show(showId);
    if (!show) throw new HttpError(404, "not_found", `no TV show ${showId}`);
    return show;
  };

  /** The show's first dated episode (else its first): its date and screenshot speak for the show. */
  const firstPlacement = (showId: string): Placement | undefined => {
    const seasons = catalog.seasons(showId);
    const first = seasons.find((s) => s.season > 0) ?? seasons[0];
    return first ? catalog.episodes(showId, first.season, { start: 0, size: 1 })[0] : undefined;
  };

  async function showInfo(show: ShowSummary): Promise<ShowInfo> {
    const parts = showParts(show.id)!;
    const first = firstPlacement(show.id);
    const [scenes, groups, studio] = await Promise.all([
      first ? stash.scenesByIds([first.sceneId]) : Promise.resolve([]),
      parts.scheme === "gr" ? stash.groups([parts.id]).then((page) => page.items) : Promise.resolve([]),
      // A studio show's description: its studio's, or (a network) the parent's of one of its scenes.
      parts.scheme !== "gr" && first ? stash.studioOfScene(first.sceneId) : Promise.resolve(null),
    ]);
    const own = [studio, studio?.parent_studio].find((s) => s?.id === parts.id) ?? undefined;
    return { firstScene: scenes[0], group: groups[0], studio: own ?? undefined };
  }

  const seasonsOf = (show: ShowSummary, info: ShowInfo) => {
    const poster = showPoster(show.id, info, tv.ctx);
    return catalog.seasons(show.id).map((season) => seasonToMetadata(show, season, poster, tv));
  };

  /** Episodes of these placements, in their order; one Stash request (placements of scenes Stash lost are left out). */
  async function episodes(placements: Placement[]): Promise<PlexMetadata[]> {
    if (placements.length === 0) return [];
    const scenes = new Map<string, StashScene>(
      (await stash.scenesByIds([...new Set(placements.map((p) => p.sceneId))])).map((s) => [s.id, s]),
    );
    const shows = new Map<string, Pick<ShowSummary, "id" | "title">>();
    const showOf = (id: string) => {
      let show = shows.get(id);
      if (!show) shows.set(id, (show = catalog.show(id) ?? { id, title: id }));
      return show;
    };
    return placements.flatMap((p) => {
      const scene = scenes.get(p.sceneId);
      return scene ? [episodeToMetadata(scene, p, showOf(p.showId), tv)] : [];
    });
  }

  const withChildren = (item: PlexMetadata, children: PlexMetadata[]): PlexMetadata => ({
    ...item,
    Children: { size: children.length, Metadata: children },
  });

  /**
   * One page of a show's episodes (season by season, as `catalog.episodes(showId)` orders them),
   * reading only the seasons the page spans: a scan pages through a big show, and reading every
   * episode of it for each page of 20 made the scan quadratic. Null: no such show.
   */
  function episodesPage(showId: string, start: number, size: number) {
    const seasons = catalog.seasons(showId);
    if (seasons.length === 0) return null;
    const end = start + size;
    const page: Placement[] = [];
    let offset = 0;
    for (const season of seasons) {
      const next = offset + season.episodes;
      if (next > start && offset < end)
        page.push(
          ...catalog.episodes(showId, season.season, {
            start: Math.max(0, start - offset),
            size: end - Math.max(start, offset),
          }),
        );
      offset = next;
    }
    return { page, total: offset };
  }

  return {
    showOr404,
    episodes,
    episodesPage,

    /** A show; with `children` its seasons inside (Plex's includeChildren). */
    async show(showId: string, children = false): Promise<PlexMetadata> {
      const show = showOr404(showId);
      const info = await showInfo(show);
      const item = showToMetadata(show, info, tv);
      return children ? withChildren(item, seasonsOf(show, info)) : item;
    },

    /** A show's seasons (its children). */
    async seasons(showId: string): Promise<PlexMetadata[]> {
      const show = showOr404(showId);
      return seasonsOf(show, await showInfo(show));
    },

    /** A season; with `children` every episode of it inside. */
    async season(showId: string, season: number, children = false): Promise<PlexMetadata> {
      const show = showOr404(showId);
      const found = catalog.seasons(showId).find((s) => s.season === season);
      if (!found) throw new HttpError(404, "not_found", `TV show ${showId} has no season ${season}`);
      const info = await showInfo(show);
      const item = seasonToMetadata(show, found, showPoster(show.id, info, tv.ctx), tv);
      return children ? withChildren(item, await episodes(catalog.episodes(showId, season))) : item;
    },

    /** One episode: 404 when the catalog does not place it, or Stash no longer has its scene. */
    async episode(scheme: Placement["scheme"], sceneId: string): Promise<PlexMetadata> {
      const placement = catalog.placementOf(scheme, sceneId);
      if (!placement) throw new HttpError(404, "not_found", `no TV episode for scene ${sceneId} in ${scheme} shows`);
      const [item] = await episodes([placement]);
      if (!item) throw new HttpError(404, "not_found", `no Stash scene with id ${sceneId}`);
      return item;
    },
  };
}
export type TvItems = ReturnType<typeof tvItems>;
