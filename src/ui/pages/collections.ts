/**
 * The collections page: per Plex library, the collections stash2plex keeps (issue 28) with their
 * member counts as last made, by kind. A long list is cut (the page stays small at any size) and
 * says how many it left out.
 */
import type { KeptCollection } from "../../collections/state.ts";
import { kindOfKey } from "../../collections/kinds.ts";
import { html, type Html } from "../html.ts";
import { plural } from "../plural.ts";

/** Rows a library shows at most: thousands of performer collections must not make a page of megabytes. */
export const COLLECTIONS_SHOWN = 300;

export function collectionsPage(kept: readonly KeptCollection[], enabled: boolean): Html {
  if (!enabled)
    return html`<p>Collections are off (collections.kinds is empty). Turn kinds on (COLLECTIONS_KINDS=studio,network,group) to have stash2plex keep them.</p>`;
  if (!kept.length)
    return html`<p>No collection kept yet: the first pass runs two minutes after start-up (Jobs → Keep Plex collections exact), and each pushed scene joins its own.</p>`;
  const sections = new Map<string, KeptCollection[]>();
  for (const c of kept) sections.set(c.section_id, [...(sections.get(c.section_id) ?? []), c]);
  return html`${[...sections].map(([section, list]) => {
    const byKind = new Map<string, number>();
    for (const c of list) {
      const kind = kindOfKey(c.key);
      byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    }
    const shown = list.slice(0, COLLECTIONS_SHOWN);
    return html`<section data-section="${section}"><h2>Library section ${section}: ${plural(list.length, "collection")}</h2>
    <p>${[...byKind].map(([k, n]) => `${plural(n, k)}`).join(", ")}</p>
    <table class="stack"><thead><tr><th>collection</th><th>kind</th><th>members</th><th>Plex rating key</th></tr></thead><tbody>
    ${shown.map(
      (c) =>
        html`<tr><td data-label="collection">${c.title}</td><td data-label="kind">${kindOfKey(c.key)}</td><td data-label="members">${c.members}</td><td data-label="Plex rating key">${c.rating_key}</td></tr>`,
    )}</tbody></table>
    ${list.length > shown.length ? html`<p class="muted">${list.length - shown.length} more not shown.</p>` : ""}</section>`;
  })}`;
}
