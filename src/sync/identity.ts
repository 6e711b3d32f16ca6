/**
 * A Plex file whose name tells nothing (a hard-linked or renamed copy: "Site - 2023-04-12 -
 * Title.mp4") found by what does not change with the name: its exact size and its duration
 * (within one second) among Stash's files; when several Stash files share both, by the oshash
 * of the Plex file itself, read (128 KiB) where stash2plex can read it. Never a guess: one
 * scene or none; several are listed as ambiguous with their candidates.
 */
import type { FileByFacts } from "../stash/file-index.ts";

export type IdentityHow = "size+duration" | "oshash";

export type Identity =
  | { kind: "found"; sceneId: string; how: IdentityHow }
  | { kind: "ambiguous"; candidates: { sceneId: string; path: string }[]; why: string }
  | { kind: "none" };

/** Within this many seconds of Plex's duration a Stash file's counts as the same length. */
const DURATION_SLACK_S = 1;

/** Pure: Stash's files of the same size whose duration is Plex's (ms) within a second. */
export function sameLength(durationMs: number, sameSize: readonly FileByFacts[]): FileByFacts[] {
  return sameSize.filter((f) => f.duration != null && Math.abs(f.duration - durationMs / 1000) <= DURATION_SLACK_S);
}

const scenesOf = (files: readonly FileByFacts[]) => [...new Set(files.map((f) => f.scene_id))];

export interface IdentityDeps {
  filesBySize(size: number): FileByFacts[];
  /** The oshash of the Plex file, read where stash2plex can (null: it cannot read it). */
  oshashOf(plexPath: string): string | null;
}

/** Which Stash scene a Plex file is, by size and duration, then oshash. */
export function identify(
  file: { path: string; size: number | null; durationMs: number | null },
  deps: IdentityDeps,
): Identity {
  if (file.size == null || file.durationMs == null) return { kind: "none" };
  const candidates = sameLength(file.durationMs, deps.filesBySize(file.size));
  const scenes = scenesOf(candidates);
  if (scenes.length === 0) return { kind: "none" };
  if (scenes.length === 1) return { kind: "found", sceneId: scenes[0]!, how: "size+duration" };
  const listed = candidates.map((f) => ({ sceneId: f.scene_id, path: f.path }));
  const hash = deps.oshashOf(file.path);
  if (hash === null)
    return {
      kind: "ambiguous",
      candidates: listed,
      why: "several Stash files have its size and duration; the file cannot be read here to compare fingerprints",
    };
  const same = scenesOf(candidates.filter((f) => f.oshash === hash));
  if (same.length === 1) return { kind: "found", sceneId: same[0]!, how: "oshash" };
  return {
    kind: "ambiguous",
    candidates: listed,
    why: same.length
      ? "several Stash files have its fingerprint"
      : "no Stash file of its size and duration has its fingerprint",
  };
}

/** What identity says of one file of an item: as identify(), or "placed" (a path rule places it). */
export type FileIdentity = Identity | { kind: "placed" };

/**
 * Pure: what an item of several files (parts) is. A file a path rule places leaves the item to
 * the path (null); one scene found by its files is the item's; files found to be different
 * scenes make it ambiguous (never a guess); else the first ambiguous file's candidates.
 */
export function identifyItem(files: readonly FileIdentity[]): Identity | null {
  if (files.some((f) => f.kind === "placed")) return null;
  const found = files.flatMap((f) => (f.kind === "found" ? [f] : []));
  const scenes = [...new Set(found.map((f) => f.sceneId))];
  if (scenes.length === 1) return found[0]!;
  if (scenes.length > 1)
    return {
      kind: "ambiguous",
      candidates: scenes.map((sceneId) => ({ sceneId, path: "" })),
      why: "its files are found to be different scenes",
    };
  return files.find((f): f is Extract<Identity, { kind: "ambiguous" }> => f.kind === "ambiguous") ?? { kind: "none" };
}

/** Fix Match: every scene a file may be by identity (the one found, else each candidate), marked with how. */
export function identityCandidates(
  file: { path: string; size: number | null; durationMs: number | null },
  deps: IdentityDeps,
): { sceneId: string; how: IdentityHow }[] {
  const found = identify(file, deps);
  if (found.kind === "found") return [{ sceneId: found.sceneId, how: found.how }];
  if (found.kind === "ambiguous")
    return [...new Set(found.candidates.map((c) => c.sceneId))].map((sceneId) => ({
      sceneId,
      how: "size+duration" as const,
    }));
  return [];
}
