/** What is generated from the config schema stays in step with it, and the templates are well-formed. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { parse as parseYaml } from "yaml";
import { generatedFiles } from "../../scripts/generate.ts";
import { settings } from "../../src/config/settings.ts";

const ROOT = join(import.meta.dir, "../..");
const read = (file: string) => readFileSync(join(ROOT, file), "utf8");
const offered = settings.filter((s) => !["DATA_DIR", "LISTEN_HOST", "LISTEN_PORT"].includes(s.env));

describe("generated from the config schema", () => {
  for (const [file, content] of Object.entries(generatedFiles())) {
    test(`${file} is up to date (npm run generate)`, () => {
      expect(read(file)).toBe(content);
    });
  }

  test("the README's reference lists every setting", () => {
    const readme = read("README.md");
    for (const s of settings) expect(readme).toContain(`| \`${s.env}\` | \`${s.key}\` |`);
  });

  test("the Unraid template is well-formed XML and offers every setting, secrets masked", () => {
    const xml = read("deploy/unraid/stash2plex.xml");
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(xml);
    const configs = doc.Container.Config as { Target: string; Mask: string; Type: string }[];
    const targets = new Set(configs.map((c) => c.Target));
    for (const s of offered) expect(targets.has(s.env)).toBe(true);
    for (const s of offered.filter((x) => x.secret)) expect(configs.find((c) => c.Target === s.env)!.Mask).toBe("true");
    expect(configs.find((c) => c.Target === "/config")?.Type).toBe("Path");
    expect(doc.Container.WebUI).toContain("[PORT:8787]");
    expect(doc.Container.Support).toMatch(/^https:\/\//);
    expect(doc.Container.Icon).toMatch(/\.png$/);
  });

  test("the TrueNAS app is a valid compose file offering every setting", () => {
    const app = parseYaml(read("deploy/truenas/stash2plex.yaml"));
    const service = app.services.stash2plex;
    for (const s of offered) expect(Object.keys(service.environment)).toContain(s.env);
    expect(service.volumes[0]).toEndWith(":/config");
    expect(service.healthcheck.test).toEqual(["CMD", "/app/stash2plex", "healthcheck"]);
    expect(service.extra_hosts).toContain("host.docker.internal:host-gateway");
  });

  test("compose.yaml: env, /config volume, port, host-gateway, healthcheck, restart policy", () => {
    const compose = parseYaml(read("compose.yaml"));
    const s = compose.services.stash2plex;
    expect(s.ports).toContain("8787:8787");
    expect(s.volumes.some((v: string) => v.endsWith(":/config"))).toBe(true);
    expect(s.extra_hosts).toContain("host.docker.internal:host-gateway");
    expect(s.healthcheck.test).toEqual(["CMD", "/app/stash2plex", "healthcheck"]);
    expect(s.restart).toBe("unless-stopped");
    for (const env of ["STASH_URL", "PUBLIC_URL", "PLEX_URL", "PLEX_TOKEN", "SYNC_WEBHOOK_TOKEN"])
      expect(Object.keys(s.environment)).toContain(env);
  });

  test("the Stash plugin's manifest names the script, the hooks and the tasks", () => {
    const manifest = parseYaml(read("deploy/stash-plugin/stash2plex.yml"));
    expect(manifest.interface).toBe("raw");
    expect(manifest.exec).toEqual(["python3", "{pluginDir}/stash2plex.py"]);
    expect(manifest.hooks[0].triggeredBy).toContain("Scene.Update.Post");
    expect(Object.keys(manifest.settings).sort()).toEqual(["adminToken", "instance", "readToken", "token", "url"]);
    expect(manifest.ui.javascript).toEqual(["stash2plex.js"]);
    expect(manifest.tasks.map((t: { defaultArgs: { mode: string } }) => t.defaultArgs.mode)).toEqual([
      "sync_all",
      "sync_recent",
      "reconcile",
      "reconcile_report",
      "retry",
      "discard",
      "status",
      "health",
    ]);
  });
});
