/**
 * Which scenes a manual sync pushes: all of them, those changed within a span (`7d`, `12h`,
 * `30m`), or a list of ids. Read from Stash's slim scene pages; the pushes go through the queue.
 */
import type { StashClient } from "../stash/client.ts";
import { pages } from "../paging.ts";

export type SyncScope = { all: true } | { sinceMs: number } | { sceneIds: string[] };

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
const PAGE = 1000;

/** `7d` → milliseconds, or a sentence saying what is wrong. */
export function parseSpan(text: string): number | string {
  const m = /^(\d+(?:\.\d+)?)\s*([mhd])$/.exec(text.trim());
  return m ? Number(m[1]) * UNITS[m[2]!]! : `"${text}" is not a span like 30m, 12h or 7d`;
}

/** The scope from a request or command line; a sentence when it makes no sense. */
export function syncScope(input: { all?: unknown; since?: unknown; sceneIds?: unknown }): SyncScope | string {
  const given = [input.all === true, input.since !== undefined, input.sceneIds !== undefined].filter(Boolean).length;
  if (given !== 1) return "say exactly one of: all, since (e.g. 7d) or sceneIds";
  if (input.all === true) return { all: true };
  if (input.since !== undefined) {
    const span =
      typeof input.since === "string" ? parseSpan(input.since) : `"${String(input.since)}" is not a span like 7d`;
    return typeof span === "string" ? span : { sinceMs: span };
  }
  const ids = input.sceneIds;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === "string" && /^\d{1,18}$/.test(id))) {
    return "sceneIds must be a list of scene ids (numbers)";
  }
  return { sceneIds: [...new Set(ids as string[])] };
}

export async function scenesToSync(
  stash: Pick<StashClient, "sceneFilesPage">,
  scope: SyncScope,
  now = Date.now(),
): Promise<string[]> {
  if ("sceneIds" in scope) return scope.sceneIds;
  const since = "sinceMs" in scope ? now - scope.sinceMs : -Infinity;
  const ids: string[] = [];
  for await (const { items } of pages(PAGE, (i) => stash.sceneFilesPage(i + 1, PAGE))) {
    // Stash writes updated_at with its offset: Date.parse gives the instant.
    for (const s of items) if (Date.parse(s.updated_at) >= since) ids.push(s.id);
  }
  return ids;
}

export const describeScope = (scope: SyncScope) =>
  "all" in scope
    ? "all scenes"
    : "sinceMs" in scope
      ? `scenes changed in the last ${Math.round(scope.sinceMs / 60_000)} min`
      : `${scope.sceneIds.length} chosen scene(s)`;
