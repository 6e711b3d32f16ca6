/**
 * The show → season → episode tree of the PMS simulator's TV sections: which items are whose
 * children (indexed, so a scan of thousands of episodes stays linear), which episode holds each
 * number of a season, and a TV item as PMS answers it (its place in the tree, its own keys).
 */
import type { SimItem } from "./server.ts";

export type TvType = "show" | "season" | "episode";

export class TvTree {
  /** Each item's children (rating keys). */
  private kids = new Map<string, Set<string>>();
  /** The episode holding each number (or air date) of a season: `season\0index` → ratingKey. */
  private slots = new Map<string, string>();

  constructor(private readonly items: Map<string, SimItem>) {}

  /** Files a new TV item under its parent (called for every item made with a parent). */
  adopt(item: SimItem) {
    if (!item.parentRatingKey) return;
    let set = this.kids.get(item.parentRatingKey);
    if (!set) this.kids.set(item.parentRatingKey, (set = new Set()));
    set.add(item.ratingKey);
    if (item.type === "episode")
      this.slots.set(slotKey(item.parentRatingKey, item.index, item.fields.originallyAvailableAt), item.ratingKey);
  }

  /** Takes an item out of the library and the tree. */
  remove(item: SimItem) {
    this.items.delete(item.ratingKey);
    this.kids.delete(item.ratingKey);
    if (!item.parentRatingKey) return;
    this.kids.get(item.parentRatingKey)?.delete(item.ratingKey);
    const slot = slotKey(item.parentRatingKey, item.index, item.fields.originallyAvailableAt);
    if (this.slots.get(slot) === item.ratingKey) this.slots.delete(slot);
  }

  /** A section's shows, seasons or episodes. */
  itemsOf(sectionId: string, type: TvType): SimItem[] {
    return [...this.items.values()].filter((i) => i.sectionId === sectionId && i.type === type);
  }

  /** A show's seasons or a season's episodes, in index order. */
  childrenOf(item: SimItem): SimItem[] {
    const out: SimItem[] = [];
    for (const rk of this.kids.get(item.ratingKey) ?? []) {
      const kid = this.items.get(rk);
      if (kid?.parentRatingKey === item.ratingKey) out.push(kid);
    }
    return out.sort((a, b) => (a.index ?? 1e9) - (b.index ?? 1e9) || Number(a.ratingKey) - Number(b.ratingKey));
  }

  /** A show's episodes, season by season. */
  grandchildrenOf(show: SimItem): SimItem[] {
    return this.childrenOf(show).flatMap((s) => this.childrenOf(s));
  }

  /** The fields PMS adds to a show, season or episode it answers: its place in the tree. */
  present(i: SimItem, base: Record<string, any>): Record<string, any> {
    const out: Record<string, any> = { ...base, type: i.type };
    const keyOf = (rk: string) => `/library/metadata/${rk}`;
    for (const k of Object.keys(out))
      if (/^(parent|grandparent)/.test(k) || k === "index" || k === "leafCount" || k === "childCount") delete out[k];
    if (i.type === "show" || i.type === "season") {
      delete out.Media;
      out.key = `${keyOf(i.ratingKey)}/children`;
    }
    if (i.type === "show") {
      out.childCount = this.childrenOf(i).length;
      out.leafCount = this.grandchildrenOf(i).length;
      return out;
    }
    const parent = this.items.get(i.parentRatingKey ?? "");
    if (i.index !== undefined) out.index = i.index;
    if (parent) {
      Object.assign(out, {
        parentRatingKey: parent.ratingKey,
        parentKey: keyOf(parent.ratingKey),
        parentGuid: parent.guid,
        parentTitle: parent.title,
      });
    }
    if (i.type === "season") {
      out.leafCount = this.childrenOf(i).length;
      return out;
    }
    const show = this.items.get(parent?.parentRatingKey ?? "");
    if (parent?.index !== undefined) out.parentIndex = parent.index;
    if (show) {
      Object.assign(out, {
        grandparentRatingKey: show.ratingKey,
        grandparentKey: keyOf(show.ratingKey),
        grandparentGuid: show.guid,
        grandparentTitle: show.title,
      });
    }
    // Each file is a version of the episode: one Media each.
    out.Media = i.files.map((file, k) => ({
      id: Number(i.ratingKey) * 10 + k,
      Part: [{ id: Number(i.ratingKey) * 10 + k, file }],
    }));
    return out;
  }

  /** The episode of a season at a number (or, without one, an air date). */
  episodeAt(season: SimItem, index: number | undefined, date: string | undefined): SimItem | undefined {
    const found = this.items.get(this.slots.get(slotKey(season.ratingKey, index, date)) ?? "");
    return found?.parentRatingKey === season.ratingKey ? found : undefined;
  }
}

/** Where an episode sits in its season: its number, or its air date when it has none. */
const slotKey = (season: string, index: number | undefined, date: unknown) =>
  `${season}\0${index !== undefined ? index : `d${date}`}`;
