/**
 * The parts of one Stash instance's provider: PMS registers each provider separately (its URL
 * and its identifier), so every instance has its own Stash client, file index (its own file in
 * the data folder), path rules and metadata context (identifier; image URLs below its own
 * provider URL). Nothing is shared between instances: a scene id of one Stash never reaches
 * the other's client.
 */
import type { Config } from "../config/schema.ts";
import type { StashInstance } from "../config/instances.ts";
import { createStashClient, type StashClientOptions } from "../stash/client.ts";
import { createFileIndex, fileIndexFile } from "../stash/file-index.ts";
import { compilePathRules } from "../paths/mapper.ts";
import type { MetadataContext } from "./metadata.ts";

/** What the scene → Plex mapping needs of an instance; images are served below its own URL. */
export function instanceContext(config: Pick<Config, "publicUrl">, instance: StashInstance): MetadataContext {
  const p = instance.provider;
  return {
    identifier: p.identifier,
    publicUrl: `${config.publicUrl}${instance.path}`,
    contentRating: p.contentRating,
    genreMode: p.genreMode,
    excludeTags: p.excludeTags,
    taglineFrom: p.taglineFrom,
    ratingAs: p.ratingAs,
  };
}

/** An instance's own client, file index, path rules and context, with where its provider is mounted. */
export function instanceParts(
  config: Pick<Config, "publicUrl" | "dataDir">,
  instance: StashInstance,
  observe?: StashClientOptions["observe"],
) {
  const stash = createStashClient({ ...instance.stash, observe });
  return {
    stash,
    // Its own file in the data folder (the default instance's keeps today's name).
    index: createFileIndex(stash, Date.now, {
      file: fileIndexFile(config.dataDir, instance.isDefault ? undefined : instance.id),
    }),
    mapper: compilePathRules(instance.paths.rules).mapper,
    ctx: instanceContext(config, instance),
    title: instance.provider.title,
    matchOnly: instance.provider.matchOnly,
    mount: { id: instance.id, path: instance.path },
  };
}
