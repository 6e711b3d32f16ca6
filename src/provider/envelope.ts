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
