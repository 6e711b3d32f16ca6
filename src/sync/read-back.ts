/**
 * Read-back: whether a Plex item shows what we serve for its scene (pure). PMS may send a
 * provider no header to tell its fetches by (no public dump shows them), so a push is also
 * confirmed by reading the item back: its title, summary, date, studio, genres and performers
 * equal to what we serve (but those the user locked on the item: PMS keeps those), and artwork
 * present (without the performers, an edit of them alone read back as delivered while Plex
 * still showed the old cast: found by the chaos soak). An
 * episode has no studio of its own; its genres and performers are compared like a movie's (we
 * serve them: without them a tags edit whose refresh PMS never fetched read back as delivered,
 * the chaos soak again). A PMS that kept no genres on episodes would leave such a push to be
 * confirmed by its fetch.
 */
import type { PlexMetadata } from "../schema/plex.ts";
import { lockedNames } from "../plex/locks.ts";

const tags = (list: unknown) =>
  Array.isArray(list)
    ? list
        .map((t) => String((t as { tag?: unknown }).tag ?? ""))
        .sort()
        .join("\u001f")
    : "";
const text = (v: unknown) => (typeof v === "string" ? v.trim() : v == null ? "" : String(v));

/** The fields that differ between what we serve and what the Plex item shows (empty: it shows ours). */
export function readBackDiffers(served: PlexMetadata, item: Record<string, unknown>): string[] {
  const s = served as PlexMetadata & Record<string, unknown>;
  const episode = item.type === "episode";
  // [our name, PMS's lock name, what we serve, what the item shows]
  const checks: [string, string, unknown, unknown][] = [
    ["title", "title", text(s.title), text(item.title)],
    ["summary", "summary", text(s.summary), text(item.summary)],
    ["date", "originallyAvailableAt", text(s.originallyAvailableAt), text(item.originallyAvailableAt)],
    ...(episode
      ? []
      : ([["studio", "studio", text(s.studio), text(item.studio)]] as [string, string, unknown, unknown][])),
    ["genres", "genre", tags(s.Genre), tags(item.Genre)],
    ["performers", "actor", tags(s.Role), tags(item.Role)],
  ];
  // A locked field keeps the user's value through a refresh: it tells nothing of the fetch.
  const locked = lockedNames(item);
  const differing = checks.filter(([, lock, a, b]) => !locked.has(lock) && a !== b).map(([name]) => name);
  if (s.thumb && !item.thumb) differing.push("artwork");
  return differing;
}
