/**
 * `serve`: start-up banner, the service, and a graceful stop. SIGTERM stops accepting, lets
 * in-flight work finish within a bound, closes the database and exits within 5 s.
 */
import type { Config } from "./config/schema.ts";
import { createApp } from "./app.ts";
import { VERSION } from "./version.ts";
import { redactedConfig } from "./config/redact.ts";
import { join } from "node:path";
import { DATABASE_FILE, DatabaseStartError } from "./store/db.ts";
import { lockDataDir, type DataDirLock } from "./store/lock.ts";
import { databaseTrouble } from "./store/trouble.ts";
import { withoutCredentials } from "./redact.ts";
import { instancesOf, providerUrl } from "./config/instances.ts";

const STOP_DEADLINE_MS = 4500;

/** Why start-up cannot go on, in one line with the fix, for the errors a person can act on. */
function startProblem(err: unknown, config: Config): string | undefined {
  if (err instanceof DatabaseStartError) return err.message;
  if ((err as { code?: unknown })?.code === "EADDRINUSE") {
    return `port ${config.listen.port} on ${config.listen.host} is in use: stop what uses it or set LISTEN_PORT`;
  }
  return databaseTrouble(err, join(config.dataDir, DATABASE_FILE))?.message;
}

/** Ends start-up with one line on stderr: never a stack trace, never a half-started service. */
function cannotStart(err: unknown, config: Config): never {
  console.error(`stash2plex cannot start: ${startProblem(err, config) ?? (err as Error)?.message ?? String(err)}`);
  process.exit(1);
}

/** Whether the port can be bound now (Bun.serve never shares it: see serverOptions). */
function portInUse(config: Config): unknown {
  try {
    Bun.serve({
      port: config.listen.port,
      hostname: config.listen.host,
      reusePort: false,
      fetch: () => new Response(),
    }).stop(true);
    return undefined;
  } catch (err) {
    return (err as { code?: unknown })?.code === "EADDRINUSE" ? err : undefined;
  }
}

export async function serve(config: Config) {
  // Before anything touches the queue: a second service on the same folder or port would push
  // it too. The lock is held until the process ends.
  let app: ReturnType<typeof createApp>;
  let lock: DataDirLock;
  try {
    lock = lockDataDir(config.dataDir);
    const inUse = portInUse(config);
    if (inUse) throw inUse;
    app = createApp(config);
  } catch (err) {
    cannotStart(err, config);
  }
  const { log } = app;
  // The last line of defence: one bad request or upstream answer must never end the process.
  process.on("unhandledRejection", (err) =>
    log.error("unexpected error (the service goes on)", { error: String((err as Error)?.message ?? err) }),
  );
  process.on("uncaughtException", (err) =>
    log.error("unexpected error (the service goes on)", { error: String(err?.message ?? err) }),
  );
  try {
    await app.start();
  } catch (err) {
    cannotStart(err, config);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping`);
    const forced = setTimeout(() => process.exit(1), STOP_DEADLINE_MS + 400);
    await Promise.race([app.stop(), Bun.sleep(STOP_DEADLINE_MS)]);
    clearTimeout(forced);
    // Held (referenced) until here: a collected lock would be released while the service runs.
    lock.release();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));

  log.info(`stash2plex ${VERSION} listening on ${config.listen.host}:${config.listen.port}`, {
    config: redactedConfig(config),
  });
  const instances = instancesOf(config);
  for (const instance of instances) {
    // One provider per Stash: each URL is added in Plex on its own, and a library picks its agent.
    const which = instances.length > 1 ? ` for Stash "${instance.name}" (${instance.id})` : "";
    log.info(
      `add this URL in Plex (Settings → Metadata Agents → Add Provider)${which}: ${providerUrl(config.publicUrl, instance)}`,
    );
  }
  log.info(`dashboard: ${config.publicUrl}/ui`);
  // The one time the token is shown: past the redaction that hides it everywhere else.
  if (app.admin.generated) {
    log.showOnce(
      `admin token (shown once; kept in ${app.admin.file ?? "memory"}): ${app.admin.token} — sign in to the dashboard with it; API clients send 'Authorization: Bearer <token>'`,
    );
  } else log.info(app.admin.file ? `admin token: kept in ${app.admin.file}` : "admin token: from ADMIN_TOKEN");
  if (/^https?:\/\/(localhost|127\.|\[::1\])/.test(config.publicUrl)) {
    log.warn(
      "PUBLIC_URL points at localhost: Plex in its own container cannot reach that; set PUBLIC_URL to this host's LAN address",
    );
  }
  log.info(
    `path rules: ${app.mapper.rules.length || "none (Plex and Stash see the same paths)"}; all samples map both ways`,
  );
  app.stash.version().then(
    (v) => log.info("Stash reachable", { url: withoutCredentials(config.stash.url), version: v }),
    (err: Error) =>
      log.warn("Stash not reachable yet; matches answer empty and metadata 503 until it is", { error: err.message }),
  );
  for (const other of app.instanceProviders) {
    const {
      id,
      stash: { url },
    } = other.instance;
    other.stash.version().then(
      (v) => log.info(`Stash "${id}" reachable`, { instance: id, url: withoutCredentials(url), version: v }),
      (err: Error) =>
        log.warn(`Stash "${id}" not reachable yet; its provider's matches answer empty and metadata 503 until it is`, {
          instance: id,
          error: err.message,
        }),
    );
  }
  for (const line of await app.startupReport()) log.info(line);
}
