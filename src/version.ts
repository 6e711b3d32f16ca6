/** The version, embedded at build time by `bun build --define`; package.json when run from source. */
import pkg from "../package.json" with { type: "json" };

declare const STASH2PLEX_VERSION: string | undefined;
export const VERSION: string = typeof STASH2PLEX_VERSION === "string" ? STASH2PLEX_VERSION : pkg.version;
