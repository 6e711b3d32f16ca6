import { heapCollector } from "./collector.ts";

/**
 * Reading a whole listing in pages (Stash's scene pages, a Plex section's items): one loop
 * for every caller. Stops at a short page, or once the stated total has been read. Each page
 * lets the process's collector look (collector.ts): a listing's pages are most of its garbage.
 */
export interface Page<T> {
  items: T[];
  /** How many the whole listing holds, when the source says (Plex does). */
  total?: number;
}

/** Every page of `size`, asked for by number from 0; yields each with that number. */
export async function* pages<P extends Page<unknown>>(
  size: number,
  fetchPage: (index: number) => Promise<P>,
): AsyncGenerator<P & { index: number }> {
  for (let index = 0; ; index++) {
    const page = await fetchPage(index);
    heapCollector.page();
    yield { ...page, index };
    if (page.items.length < size || (page.total !== undefined && (index + 1) * size >= page.total)) return;
  }
}
