/**
 * stash2plex as a Stash plugin source: `GET /stash-plugin/index.yml` lists the plugin package of
 * exactly this service's version, `GET /stash-plugin/stash2plex.zip` is that package (the sha256
 * the index names). Public, no token: neither holds a secret. A user adds
 * `http://<stash2plex>:8787/stash-plugin/index.yml` as a source in Stash (Settings → Plugins →
 * Available Plugins → Add Source) and installs or updates in one click.
 */
import { Elysia } from "elysia";
import { pluginIndex, pluginPackage } from "./stash-plugin-package.ts";

/** The address the source was added with: how Stash (and its users' browsers) reach this service. */
const originOf = (request: Request) => {
  const url = new URL(request.url);
  const proto = request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  return `${proto === "https" ? "https" : url.protocol.slice(0, -1)}://${url.host}`;
};

export const stashPluginRoutes = () =>
  new Elysia({ name: "stash-plugin-source" })
    .get(
      "/stash-plugin/index.yml",
      ({ request }) =>
        new Response(pluginIndex(originOf(request)), {
          headers: { "content-type": "application/yaml; charset=utf-8", "cache-control": "no-cache" },
        }),
    )
    .get(
      "/stash-plugin/stash2plex.zip",
      ({ request }) =>
        new Response(pluginPackage(originOf(request)).zip, {
          headers: {
            "content-type": "application/zip",
            "content-disposition": 'attachment; filename="stash2plex.zip"',
            "cache-control": "no-cache",
          },
        }),
    );
