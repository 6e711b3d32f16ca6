/**
 * The composition root: builds every part once from the config and wires them. Nothing
 * else constructs clients or opens the database, so what talks to what is readable here.
 */
import { Elysia } from "elysia";
import type { Config } from "./config/schema.ts";
import { createLogger, type Logger } from "./log.ts";
import { compilePathRules } from "./paths/mapper.ts";
import { createStashClient } from "./stash/client.ts";
import { createFileIndex } from "./stash/file-index.ts";
import { httpBasics } from "./http.ts";
import { providerRoutes } from "./provider/routes.ts";
import type { MetadataContext } from "./provider/metadata.ts";
import { healthRoutes } from "./admin/health.ts";

export interface AppOptions {
  log?: Logger;
}

export function metadataContext(config: Config): MetadataContext {
  return {
    identifier: config.provider.identifier,
    publicUrl: config.publicUrl,
    contentRating: config.provider.contentRating,
    genreMode: config.provider.genreMode,
    excludeTags: config.provider.excludeTags,
    taglineFrom: config.provider.taglineFrom,
  };
}

export function createApp(config: Config, options: AppOptions = {}) {
  const log = options.log ?? createLogger({
    level: config.logLevel,
    format: config.logFormat,
    secrets: [config.stash.apiKey, config.plex.token, config.sync.webhookToken],
  });
  const { mapper } = compilePathRules(config.paths.rules);
  const stash = createStashClient(config.stash);
  const index = createFileIndex(stash);
  const ctx = metadataContext(config);

  const http = new Elysia()
    .use(httpBasics(log))
    .use(healthRoutes({ stash }))
    .use(providerRoutes({ stash, index, mapper, ctx, title: config.provider.title, log }));

  let server: ReturnType<typeof Bun.serve> | undefined;
  let indexTimer: ReturnType<typeof setInterval> | undefined;

  const refreshIndex = () =>
    index.refresh().then(
      (n) => n && log.info("stash file index refreshed", { scenes: index.size, changed: n }),
      (err: Error) => log.warn("stash file index refresh failed; matches use live lookups", { error: err.message }),
    );

  return {
    config, log, stash, index, mapper, http,
    get url() {
      return server ? `http://${server.hostname}:${server.port}` : undefined;
    },
    async start(port = config.listen.port, hostname = config.listen.host) {
      server = Bun.serve({ port, hostname, fetch: (req) => http.handle(req), idleTimeout: 120 });
      void refreshIndex();
      indexTimer = setInterval(refreshIndex, 60_000);
      return this;
    },
    async stop() {
      clearInterval(indexTimer);
      await server?.stop();
      server = undefined;
    },
  };
}
export type App = ReturnType<typeof createApp>;
