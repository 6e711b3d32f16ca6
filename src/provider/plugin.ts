/**
 * The provider side: what PMS calls (discovery, match, metadata, images, collections) for ONE
 * Stash instance, and the job that keeps that instance's file index fresh. Everything it uses
 * is the instance's own (client, file index, path rules, identifier), so it is built once per
 * instance; its routes sit below the instance's path.
 */
import type { Logger } from "../log.ts";
import type { PathMapper } from "../paths/mapper.ts";
import type { FileIndex } from "../stash/file-index.ts";
import type { StashClient } from "../stash/client.ts";
import type { Job } from "../jobs.ts";
import type { MatchGate } from "./gates.ts";
import type { MetadataContext } from "./metadata.ts";
import { providerRoutes, type ProviderDeps, type ProviderMount } from "./routes.ts";
import { instanceParts } from "./instance.ts";
import type { Config } from "../config/schema.ts";
import type { StashInstance } from "../config/instances.ts";
import type { StashClientOptions } from "../stash/client.ts";
import type { TvCatalog } from "../tv/types.ts";
import { tvIdentifierOf, tvPathOf } from "../domain/ref.ts";
import { tvProviderRoutes, type TvProviderDeps } from "./tv-routes.ts";

export interface ProviderSideDeps {
  /** The instance's Stash client, file index and path rules. */
  stash: StashClient;
  index: FileIndex;
  mapper: PathMapper;
  /** The instance's identifier (the GUID scheme of its items) and metadata settings. */
  ctx: MetadataContext;
  /** The provider's name in Plex's agent list. */
  title: string;
  matchOnly: MatchGate[];
  log: Logger;
  /** Where the instance's provider is served (the default instance: at the root). */
  mount?: ProviderMount;
  /** PMS fetched a scene's metadata (the push side counts it as the proof a push landed). */
  onServed?: ProviderDeps["onServed"];
  /** Fix Match by a file's size and duration or fingerprint (the Plex index knows them). */
  byIdentity?: ProviderDeps["byIdentity"];
}

/** The job refreshing an instance's file index: the default's keeps today's id `stash-index`. */
export const indexJobId = (mount?: ProviderMount) => (!mount?.path ? "stash-index" : `stash-index-${mount.id}`);

export function providerSide(deps: ProviderSideDeps) {
  const { index, log } = deps;
  // Another instance's lines and job name it; the default's read as they always have.
  const which = deps.mount?.path ? ` of Stash "${deps.mount.id}"` : "";
  const fields = deps.mount?.path ? { instance: deps.mount.id } : {};
  const refreshIndex = () =>
    index.refresh().then(
      (n) => void (n && log.info(`stash file index${which} refreshed`, { ...fields, scenes: index.size, changed: n })),
      (err: Error) => {
        log.warn(`stash file index${which} refresh failed; matches use live lookups`, {
          ...fields,
          error: err.message,
        });
        throw err;
      },
    );
  const jobs: Job[] = [
    {
      id: indexJobId(deps.mount),
      name: `Refresh the index of Stash files${which}`,
      everySeconds: 60,
      run: refreshIndex,
    },
  ];
  const plugin = providerRoutes(
    {
      stash: deps.stash,
      index,
      mapper: deps.mapper,
      ctx: deps.ctx,
      title: deps.title,
      log,
      matchOnly: deps.matchOnly,
      onServed: deps.onServed,
      byIdentity: deps.byIdentity,
    },
    deps.mount,
  );
  return { plugin, jobs };
}
export type ProviderSide = ReturnType<typeof providerSide>;

export interface InstanceProviderOptions {
  log: Logger;
  observe?: StashClientOptions["observe"];
  onServed?: ProviderSideDeps["onServed"];
}

/** One instance's whole provider side (parts, routes, index job) on its own, e.g. for a bench. */
export function createInstanceProvider(
  config: Pick<Config, "publicUrl" | "dataDir">,
  instance: StashInstance,
  options: InstanceProviderOptions,
) {
  const parts = instanceParts(config, instance, options.observe);
  const side = providerSide({ ...parts, log: options.log, onServed: options.onServed });
  return { instance, ...parts, routes: side.plugin, job: side.jobs[0]! };
}

export interface TvProviderSideDeps {
  /** The instance's Stash client and file index (Fix Match searches titles in it). */
  stash: TvProviderDeps["stash"];
  index: TvProviderDeps["index"];
  /** The instance's movie metadata context: the TV identifier derives from its identifier. */
  ctx: MetadataContext;
  /** The instance's provider title; the TV provider is listed as "<title> TV". */
  title: string;
  /** The instance's TV catalog (src/tv): every placement of its TV libraries. */
  catalog: TvCatalog;
  log: Logger;
  /** Where the instance's movie provider is served; the TV one is below it (tvPathOf). */
  mount?: ProviderMount;
  /** PMS got a show's, season's or episode's metadata (the push side confirms TV pushes by it). */
  onServed?: TvProviderDeps["onServed"];
}

/**
 * An instance's TV provider: Plex wants one provider per parent type, so TV-style libraries
 * get a second provider beside the movie one, with its own identifier (`<movie identifier>.tv`)
 * and URL (`<instance path>/tv`). The movie provider, its URL and GUIDs are untouched.
 */
export function tvProviderSide(deps: TvProviderSideDeps) {
  const mount = deps.mount ?? { id: "default", path: "" };
  const plugin = tvProviderRoutes(
    {
      stash: deps.stash,
      index: deps.index,
      catalog: deps.catalog,
      tv: { ctx: deps.ctx, tvIdentifier: tvIdentifierOf(deps.ctx.identifier), instance: mount.id },
      title: `${deps.title} TV`,
      log: deps.log,
      onServed: deps.onServed,
    },
    { ...mount, tvPath: tvPathOf(mount.path) },
  );
  return { plugin, identifier: tvIdentifierOf(deps.ctx.identifier), path: tvPathOf(mount.path) };
}
export type TvProviderSide = ReturnType<typeof tvProviderSide>;
