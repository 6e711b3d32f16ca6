#!/usr/bin/env bun
/**
 * The command line: serve (default) | demo | check | map <path> | reconcile | sync | backup | restore <file> |
 * healthcheck | probe,
 * --help, --version.
 */
import { ConfigError, loadConfig } from "./config/load.ts";
import type { Config } from "./config/schema.ts";
import { VERSION } from "./version.ts";
import { formatCheckLine, runChecks } from "./cli/check.ts";
import { describeMapping } from "./cli/map.ts";
import { compilePathRules } from "./paths/mapper.ts";
import { serve } from "./serve.ts";

const HELP = `stash2plex ${VERSION} — keeps Plex's metadata equal to Stash's

usage: stash2plex [command]

commands:
  serve          run the service (default): Plex metadata provider, push pipeline, admin API
  demo           run the service against bundled Stash and Plex simulators: a scan and a push
  check          validate the config, reach Stash and Plex, run the path rule samples
  map <path>     show which path rule maps a path, both directions
  reconcile      find what Plex and Stash disagree on [--heal] [--kinds stale,empty,…] [--json]
  sync           queue pushes: --all | --since 7d | --scene ID…
  backup         back the database up now (into backups/ of the data folder, checked whole)
  restore <file> put a backup back in place of the database (stop the service first)
  healthcheck    exit 0 when the running service answers healthy (for container HEALTHCHECK)
  probe          write a report of what Plex does with the provider, for a bug report: one item
                 refreshed, nothing else changed; no token or address in it
                 [--item <ratingKey>] [--out <file>] [--wait <seconds>]

Settings come from env vars and an optional YAML file (CONFIG_FILE, or config.yaml in
DATA_DIR); see the README's configuration reference.
`;

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // One problem is one line (what a container log shows first); several are listed below a header.
    if (err.problems.length === 1) console.error(`stash2plex cannot start: ${err.problems[0]}`);
    else {
      console.error(`stash2plex cannot start: the configuration has ${err.problems.length} problems:`);
      for (const p of err.problems) console.error(`  - ${p}`);
    }
    process.exit(2);
  }
}

async function main(argv: string[]): Promise<number> {
  const [command = "serve", ...rest] = argv;
  switch (command) {
    case "--help":
    case "-h":
    case "help":
      console.log(HELP);
      return 0;
    case "--version":
    case "-v":
      console.log(VERSION);
      return 0;
    case "serve":
      await serve(configOrExit());
      return -1; // keeps running until a signal
    case "demo": {
      const { runDemo } = await import("./demo.ts");
      return runDemo(rest);
    }
    case "check": {
      const lines = await runChecks(configOrExit());
      for (const l of lines) console.log(formatCheckLine(l));
      return lines.every((l) => l.ok) ? 0 : 1;
    }
    case "map": {
      if (!rest[0]) {
        console.error("usage: stash2plex map <path>");
        return 2;
      }
      const { mapper } = compilePathRules(configOrExit().paths.rules);
      for (const path of rest) console.log(describeMapping(mapper, path).join("\n"));
      // Exit 1 when a path maps in neither direction: scripts can tell a rule that misses.
      return rest.every((path) => mapper.toStash(path) || mapper.toPlex(path)) ? 0 : 1;
    }
    case "reconcile":
    case "sync": {
      const { reconcileCommand, syncCommand } = await import("./cli/reconcile.ts");
      return (command === "sync" ? syncCommand : reconcileCommand)(configOrExit(), rest);
    }
    case "backup":
    case "restore": {
      const { backupCommand, restoreCommand } = await import("./cli/backup.ts");
      return command === "backup" ? backupCommand(configOrExit()) : restoreCommand(configOrExit(), rest);
    }
    case "healthcheck":
      return healthcheck();
    case "probe": {
      const { probeCommand } = await import("./cli/probe.ts");
      return probeCommand(configOrExit(), rest);
    }
    default:
      console.error(`unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

/**
 * Probes the running service where `serve` listens: the same config (env and config.yaml), so
 * a port set only in config.yaml or a LISTEN_HOST other than loopback is probed correctly.
 */
async function healthcheck(): Promise<number> {
  let host = "127.0.0.1";
  let port = Number(process.env.LISTEN_PORT ?? 8787);
  try {
    ({ host, port } = loadConfig().listen);
  } catch {
    // A broken config: serve would not be running either; probe the default.
  }
  const probe = host === "0.0.0.0" || host === "::" || host === "" ? "127.0.0.1" : host;
  try {
    const res = await fetch(`http://${probe.includes(":") ? `[${probe}]` : probe}:${port}/healthz`, {
      signal: AbortSignal.timeout(3000),
    });
    return res.ok ? 0 : 1;
  } catch {
    return 1;
  }
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exit(code);
