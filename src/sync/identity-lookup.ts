/**
 * identity.ts with its I/O: which scene a Plex file is when no path rule places it, looked up
 * in one instance's index of Stash's files (SQLite: no Stash request), its oshash read where
 * this host sees the file (the path rules map Plex's path to it). Shared by the Plex index
 * refresh's binder, the reconcile and Fix Match, so all three find the same scene.
 */
import type { PathMapper } from "../paths/mapper.ts";
import type { FileIndex } from "../stash/file-index.ts";
import { identify, type FileIdentity } from "./identity.ts";
import { oshashOfFile } from "./oshash.ts";

export interface IdentitySource {
  mapper: PathMapper;
  index: Pick<FileIndex, "sceneIdByPath" | "filesBySize">;
}

export interface PlexFileFacts {
  path: string;
  size: number | null;
  durationMs: number | null;
}

export function identityLookup(
  part: IdentitySource,
  readHash: (path: string) => string | null = oshashOfFile,
): (file: PlexFileFacts) => FileIdentity {
  return (file) => {
    const local = part.mapper.toStash(file.path)?.path;
    // A file the path rules place is the path's to bind (the reconcile's unmatched heal).
    if (local && part.index.sceneIdByPath(local)) return { kind: "placed" };
    return identify(file, {
      filesBySize: (size) => part.index.filesBySize(size),
      oshashOf: () => (local ? readHash(local) : null),
    });
  };
}
