/**
 * Binds the Plex items whose file no path rule places to their Stash scene by identity.ts (size
 * and duration, then the oshash of the file where it can be read): at each Plex index refresh,
 * for every section on an instance's provider. A found item is matched to the scene's GUID
 * (PMS's match, as Fix Match does) and the scene pushed, so its metadata lands; an ambiguous one
 * is listed with its candidates and left unmatched (each pass's list replaces the last).
 */
import type { Logger } from "../log.ts";
import type { PathMapper } from "../paths/mapper.ts";
import type { PlexClient } from "../plex/client.ts";
import type { FileIndex } from "../stash/file-index.ts";
import { guidOf, sceneRef, type Ref } from "../domain/ref.ts";
import { identityCandidates, type IdentityHow } from "./identity.ts";
import { identityLookup } from "./identity-lookup.ts";
import type { IdentityState } from "./identity-state.ts";
import { oshashOfFile } from "./oshash.ts";
import type { PlexIndex } from "./plex-index.ts";
import { isTvSection, type SyncSection } from "./push.ts";

export interface IdentityPart {
  id: string;
  identifier: string;
  mapper: PathMapper;
  index: Pick<FileIndex, "sceneIdByPath" | "filesBySize">;
}

export function createIdentityBinder(deps: {
  plex: Pick<PlexClient, "match">;
  plexIndex: Pick<PlexIndex, "unboundFiles" | "setGuid">;
  state: IdentityState;
  /** Queues a push of the scene an item was bound to (its metadata lands with it). */
  push: (ref: Ref, why: string) => void;
  log: Logger;
  /** Reads a file's oshash where this host sees it (default: the disk). */
  oshashOf?: (path: string) => string | null;
}) {
  const readHash = deps.oshashOf ?? oshashOfFile;
  /** One instance's sections on its provider; returns what was bound and left ambiguous. */
  return async function bind(part: IdentityPart, sections: SyncSection[]) {
    const lookup = identityLookup(part, readHash);
    let bound = 0;
    const ambiguous = new Set<string>();
    const ours = `${part.identifier}://`;
    for (const section of sections) {
      if (isTvSection(section) || section.instance !== part.id || section.strategy !== "refresh") continue;
      for (const file of deps.plexIndex.unboundFiles(section.key, ours)) {
        const found = lookup({ path: file.path, size: file.size, durationMs: file.duration_ms });
        if (found.kind === "ambiguous") {
          deps.state.ambiguous(file.rating_key, file.path, found.candidates);
          ambiguous.add(file.rating_key);
        }
        if (found.kind !== "found") continue;
        const ref = sceneRef(part.id, found.sceneId);
        const guid = guidOf(part.identifier, ref);
        await deps.plex.match(file.rating_key, guid, file.title);
        deps.plexIndex.setGuid(file.rating_key, guid);
        deps.state.bound(file.rating_key, file.path, ref, found.how);
        deps.push(ref, `bound by ${found.how === "oshash" ? "its fingerprint (oshash)" : "its size and duration"}`);
        bound++;
      }
    }
    if (bound || ambiguous.size)
      deps.log.info("Plex items found by size, duration or fingerprint", {
        instance: part.id,
        bound,
        ambiguous: ambiguous.size,
      });
    return { bound, ambiguous: ambiguous.size, ambiguousKeys: ambiguous };
  };
}

/**
 * For Fix Match: the scenes a file PMS names may be by its size and duration (and fingerprint),
 * from the Plex index's record of that file. `filename` is absolute, or relative to a library
 * folder (the path rules' plexRoots place it).
 */
export function fixMatchByIdentity(
  plexIndex: Pick<PlexIndex, "fileFacts">,
  part: Pick<IdentityPart, "mapper" | "index">,
  oshashOf: (path: string) => string | null = oshashOfFile,
) {
  return (filename: string): { sceneId: string; how: IdentityHow }[] => {
    const paths = /^([A-Za-z]:)?[\\/]/.test(filename) ? [filename] : part.mapper.plexCandidates(filename);
    for (const path of paths) {
      const facts = plexIndex.fileFacts(path);
      if (facts?.size == null) continue;
      return identityCandidates(
        { path, size: facts.size, durationMs: facts.duration_ms },
        {
          filesBySize: (size) => part.index.filesBySize(size),
          oshashOf: (p) => {
            const local = part.mapper.toStash(p)?.path;
            return local ? oshashOf(local) : null;
          },
        },
      );
    }
    return [];
  };
}
