/**
 * One provider per Stash instance: PMS registers each provider separately (its URL and its
 * identifier), so every instance gets its own root URL (publicUrl + /instances/<id>), its own
 * identifier (the GUID scheme of its items), Stash client, file index and path rules. Nothing
 * here is shared between instances: a scene id of one Stash never reaches the other's client.
 */
import type { Config } from "../config/schema.ts";
import type { StashInstance } from "../config/instances.ts";
import type { Logger } from "../log.ts";
import { createStashClient, type StashClient } from "../stash/client.ts";
import { createFileIndex, fileIndexFile, type FileIndex } from "../stash/file-index.ts";
import { compilePathRules, type PathMapper } from "../paths/mapper.ts";
import type { MetadataContext } from "./metadata.ts";
import { providerRoutes, type ProviderDeps } from "./routes.ts";

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

export interface InstanceProvider {
  instance: StashInstance;
  stash: StashClient;
  index: FileIndex;
  mapper: PathMapper;
  ctx: MetadataContext;
  /** The provider's routes, below the instance's path. */
  routes: ReturnType<typeof providerRoutes>;
  /** The scheduled refresh of its file index (one job per instance). */
  job: { id: string; name: string; everySeconds: number; run: () => Promise<void> };
}

export interface InstanceProviderOptions {
  log: Logger;
  /** Parts built elsewhere (the default instance's client, index and swappable mapper are shared with the push side). */
  stash?: StashClient;
  index?: FileIndex;
  mapper?: PathMapper;
  observe?: Parameters<typeof createStashClient>[0]["observe"];
  onServed?: ProviderDeps["onServed"];
}

/** The job id of an instance's index refresh: the default keeps today's `stash-index`. */
export const indexJobId = (instance: StashInstance) => (instance.isDefault ? "stash-index" : `stash-index-${instance.id}`);

export function createInstanceProvider(config: Pick<Config, "publicUrl" | "dataDir">, instance: StashInstance, options: InstanceProviderOptions): InstanceProvider {
  const log = options.log;
  const stash = options.stash ?? createStashClient({ ...instance.stash, observe: options.observe });
  // Each instance's index in its own file of the data folder (the default's keeps today's name).
  const index = options.index ?? createFileIndex(stash, Date.now, { file: fileIndexFile(config.dataDir, instance.isDefault ? undefined : instance.id) });
  const mapper = options.mapper ?? compilePathRules(instance.paths.rules).mapper;
  const ctx = instanceContext(config, instance);
  const routes = providerRoutes({
    stash, index, mapper, ctx, title: instance.provider.title, log, matchOnly: instance.provider.matchOnly, onServed: options.onServed,
  }, { id: instance.id, path: instance.path });
  const which = instance.isDefault ? "" : ` of Stash "${instance.id}"`;
  const run = () =>
    index.refresh().then(
      (n) => void (n && log.info(`stash file index${which} refreshed`, { instance: instance.id, scenes: index.size, changed: n })),
      (err: Error) => {
        log.warn(`stash file index${which} refresh failed; matches use live lookups`, { instance: instance.id, error: err.message });
        throw err;
      },
    );
  return {
    instance, stash, index, mapper, ctx, routes,
    job: { id: indexJobId(instance), name: `Refresh the index of Stash files${which}`, everySeconds: 60, run },
  };
}
