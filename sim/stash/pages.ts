/**
 * Stash's web pages as far as a plugin's UI meets them: a page at /scenes/{id} standing in for
 * the scene page (its details and tabs), with the installed plugins' JavaScript and CSS as Stash
 * serves them (/plugin/{id}/javascript, /plugin/{id}/css: each plugin's `ui` files, joined) and
 * Stash's Content-Security-Policy: connect-src is 'self', data:, ws: and wss: plus what each
 * plugin's `ui.csp.connect-src` adds (Stash's setPageSecurityHeaders), so a panel may only
 * call the addresses its plugin declared.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

interface UiConfig {
  javascript?: string[];
  css?: string[];
  csp?: { "connect-src"?: string[]; "script-src"?: string[]; "style-src"?: string[] };
}

/** The UI pages of the plugins installed in `pluginsDir` (each in its own folder, `<id>/<id>.yml`). */
export function stashPages(pluginsDir: string, pluginIds: string[]) {
  const uiOf = (id: string): UiConfig => {
    const file = join(pluginsDir, id, `${id}.yml`);
    return existsSync(file) ? ((parse(readFileSync(file, "utf8")) as { ui?: UiConfig }).ui ?? {}) : {};
  };
  const joined = (id: string, files: string[] | undefined) =>
    (files ?? []).map((f) => readFileSync(join(pluginsDir, id, f), "utf8")).join("\n");
  const csp = () => {
    const connect = [
      "data:",
      "'self'",
      "ws:",
      "wss:",
      ...pluginIds.flatMap((id) => uiOf(id).csp?.["connect-src"] ?? []),
    ];
    return `default-src data: 'self' 'unsafe-inline'; connect-src ${connect.join(" ")}; img-src data: *; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; media-src blob: 'self'; worker-src blob:; child-src 'none'; object-src 'none'; form-action 'self';`;
  };
  return (req: Request, url: URL): Response | undefined => {
    if (req.method !== "GET") return undefined;
    const asset = /^\/plugin\/([^/]+)\/(javascript|css)$/.exec(url.pathname);
    if (asset) {
      const ui = uiOf(asset[1]!);
      return asset[2] === "javascript"
        ? new Response(joined(asset[1]!, ui.javascript), { headers: { "content-type": "text/javascript" } })
        : new Response(joined(asset[1]!, ui.css), { headers: { "content-type": "text/css" } });
    }
    if (url.pathname === "/settings") {
      const plugins = pluginIds
        .map(
          (id) =>
            `<link rel="stylesheet" href="/plugin/${id}/css"><script src="/plugin/${id}/javascript" defer></script>`,
        )
        .join("");
      const cards = pluginIds
        .map((id) => `<div class="card plugin-settings"><h3>${id}</h3><p>Installed plugin</p></div>`)
        .join("");
      return new Response(
        `<!doctype html><html><head><meta charset="utf-8"><title>Settings | Stash</title>${plugins}</head><body><main><h2>Plugins</h2>${cards}</main></body></html>`,
        { headers: { "content-type": "text/html", "content-security-policy": csp() } },
      );
    }
    const scene = /^\/scenes\/(\d+)$/.exec(url.pathname);
    if (!scene) return undefined;
    const plugins = pluginIds
      .map(
        (id) =>
          `<link rel="stylesheet" href="/plugin/${id}/css"><script src="/plugin/${id}/javascript" defer></script>`,
      )
      .join("");
    const html = `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><base href="/"><title>Scene ${scene[1]} | Stash</title>
<style>body{background:#202b33;color:#f5f8fa;font-family:sans-serif;margin:0}main{display:flex;flex-wrap:wrap;gap:1rem;padding:1rem}.scene-tabs{flex:1 1 320px;min-width:0}.scene-player{flex:2 1 480px;background:#000;aspect-ratio:16/9}a{color:#48aff0}button{background:#394b59;color:#f5f8fa;border:0;border-radius:3px;padding:.4rem .8rem}</style>${plugins}</head>
<body><main><div class="scene-tabs"><h2>Scene ${scene[1]}</h2><p>Details · Queue · Markers · File Info</p></div><div class="scene-player"></div></main></body></html>`;
    return new Response(html, { headers: { "content-type": "text/html", "content-security-policy": csp() } });
  };
}
