/**
 * The one builder of `{"MediaContainer": …}` answers, with PMS's paging
 * (X-Plex-Container-Start / -Size, from the query string or headers; default size 20).
 */
import type { MediaContainer, PlexImage, PlexMetadata } from "../schema/plex.ts";

export interface Paging {
  start: number;
  size: number;
}

export const DEFAULT_PAGE_SIZE = 20;

export function readPaging(
  query: Record<string, string | undefined>,
  headers: Headers | Record<string, string | undefined>,
): Paging {
  const get = (name: string) =>
    query[name] ?? (headers instanceof Headers ? headers.get(name) : headers[name.toLowerCase()]) ?? undefined;
  const num = (text: string | undefined, fallback: number) => {
    const n = Number(text);
    return text !== undefined && text !== "" && Number.isInteger(n) && n >= 0 ? n : fallback;
  };
  return {
    start: num(get("X-Plex-Container-Start"), 0),
    size: num(get("X-Plex-Container-Size"), DEFAULT_PAGE_SIZE),
  };
}

/**
 * Where a page of a TV listing (`/children`, `/grandchildren`) begins, counted from 0, whichever
 * way PMS counts X-Plex-Container-Start: Plex's docs call the default start "1 (the first item)"
 * while every example answers `offset: 0`, and no capture shows what PMS sends. A PMS counting
 * from 0 asks 0, 20, 40…; one counting from 1 asks 1, 21, 41…. The rule: a start one past a
 * whole number of pages (start % size == 1) is taken as counted from 1 and served from
 * start - 1; any other start as counted from 0. Both kinds of PMS then get every item exactly
 * once, and any request is served from where it asked or one item before: a duplicate at worst,
 * never a skipped item. A size of 1 cannot tell the two apart (every start is a whole number of
 * pages) and is read from 0, as the examples are; PMS pages by 20.
 */
export function servedStart(start: number, size: number): number {
  return size > 1 && start % size === 1 ? start - 1 : start;
}

/** The paging of a TV listing: as readPaging, with the start read either way (servedStart). */
export function readListPaging(
  query: Record<string, string | undefined>,
  headers: Headers | Record<string, string | undefined>,
): Paging {
  const { start, size } = readPaging(query, headers);
  return { start: servedStart(start, size), size };
}

type Items = { Metadata: PlexMetadata[] } | { Image: PlexImage[] };

export function mediaContainer(identifier: string, items: Items, paging?: Paging): MediaContainer {
  const [field, all] =
    "Metadata" in items ? (["Metadata", items.Metadata] as const) : (["Image", items.Image] as const);
  const start = paging?.start ?? 0;
  const page = paging ? all.slice(start, start + paging.size) : all;
  return {
    MediaContainer: { offset: start, totalSize: all.length, size: page.length, identifier, [field]: page },
  };
}
