import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createLogger } from "../../src/log.ts";
import { redactedConfig } from "../../src/config/redact.ts";
import { loadConfig } from "../../src/config/load.ts";
import { sceneOfRequest } from "../../src/request-scene.ts";
import { createApp } from "../../src/app.ts";
import { tempDir } from "../helpers.ts";

describe("logging", () => {
  test("JSON lines with secrets redacted by value and by field name", () => {
    const lines: string[] = [];
    const log = createLogger({
      level: "info",
      format: "json",
      secrets: ["plex-secret-token"],
      write: (l) => lines.push(l),
    });
    log.info("calling http://plex/?X-Plex-Token=plex-secret-token", {
      token: "abc",
      error: new Error("bad plex-secret-token"),
    });
    log.debug("hidden");
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ level: "info", token: "[redacted]", error: "bad [redacted]" });
    expect(lines[0]).not.toContain("plex-secret-token");
  });

  test("log times are in the TZ time zone, with its offset (a process started with TZ set)", async () => {
    const script = `import { localTime } from "./src/log.ts"; console.log(localTime(new Date(Date.UTC(2026, 10, 24, 12, 0, 0))));`;
    const at = async (tz: string) => {
      const p = Bun.spawn([process.execPath, "-e", script], {
        env: { PATH: process.env.PATH ?? "", TZ: tz },
        stdout: "pipe",
        cwd: join(import.meta.dir, "../.."),
      });
      return (await new Response(p.stdout).text()).trim();
    };
    expect(await at("America/New_York")).toBe("2026-11-24T07:00:00.000-05:00");
    expect(await at("Asia/Kolkata")).toBe("2026-11-24T17:30:00.000+05:30");
    expect(await at("Etc/UTC")).toBe("2026-11-24T12:00:00.000Z");
  });

  test("readable lines on a terminal", () => {
    const lines: string[] = [];
    createLogger({ level: "debug", format: "pretty", write: (l) => lines.push(l) }).warn("Plex down", { waiting: 3 });
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}Plex down waiting=3$/);
  });

  test("the banner's config shows whether secrets are set, never their values", () => {
    const c = loadConfig(
      { STASH_API_KEY: "stash-key-1", PLEX_URL: "http://plex:32400", PLEX_TOKEN: "plex-tok-2" },
      undefined,
    );
    const shown = JSON.stringify(redactedConfig(c));
    expect(shown).not.toContain("stash-key-1");
    expect(shown).not.toContain("plex-tok-2");
    expect(shown).toContain('"apiKey":"(set)"');
    expect(shown).toContain('"webhookToken":"(empty)"');
  });

  test("the one secret shown once: one JSON object in a JSON log, not redacted; a block of its own on a terminal", () => {
    const lines: string[] = [];
    const json = createLogger({
      level: "error",
      format: "json",
      secrets: ["tok-123456789"],
      write: (l) => lines.push(l),
    });
    json.showOnce("admin token (shown once): tok-123456789");
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "info", msg: "admin token (shown once): tok-123456789" });
    createLogger({ level: "error", format: "pretty", write: (l) => lines.push(l) }).showOnce("admin token: tok");
    expect(lines[1]).toBe("\n  admin token: tok\n");
  });
});

describe("which scene a request is about (its log line's `scene`)", () => {
  test("from the path of the routes that name one scene, from a webhook or sync body, never from anything else", () => {
    expect(sceneOfRequest("/library/metadata/:ratingKey", { ratingKey: "12" }, undefined)).toEqual({ scene: "12" });
    expect(sceneOfRequest("/library/metadata/:ratingKey/images", { ratingKey: "12" }, undefined)).toEqual({
      scene: "12",
    });
    expect(sceneOfRequest("/api/scenes/:id", { id: "4" }, undefined)).toEqual({ scene: "4" });
    expect(sceneOfRequest("/ui/scenes/:id", { id: "4" }, undefined)).toEqual({ scene: "4" });
    expect(sceneOfRequest("/images/:kind/:id", { kind: "scene", id: "9" }, undefined)).toEqual({ scene: "9" });
    expect(sceneOfRequest("/images/:kind/:id", { kind: "performer", id: "9" }, undefined)).toEqual({});
    expect(sceneOfRequest("/hooks/stash", {}, { sceneIds: [3] })).toEqual({ scene: "3" });
    expect(sceneOfRequest("/api/sync", {}, { sceneIds: ["3", "4"] })).toEqual({ sceneIds: ["3", "4"] });
    expect(sceneOfRequest("/hooks/stash", {}, { sceneIds: Array.from({ length: 50 }, (_, i) => i + 1) })).toEqual({
      sceneIds: Array.from({ length: 20 }, (_, i) => String(i + 1)),
    });
    expect(sceneOfRequest("/hooks/stash", {}, { hookContext: { type: "Scene.Update.Post", id: 12 } })).toEqual({
      scene: "12",
    });
    expect(sceneOfRequest("/hooks/stash", {}, { hookContext: { type: "Performer.Update.Post", id: 12 } })).toEqual({});
    expect(sceneOfRequest("/ui/actions/requeue", {}, { sceneId: ["8"] })).toEqual({ scene: "8" });
    expect(
      sceneOfRequest("/ui/actions/dead-letters/:verb", { verb: "retry" }, { sceneId: ["8", "9"], which: ["some"] }),
    ).toEqual({ sceneIds: ["8", "9"] });
    // Not a scene id: not logged as one.
    expect(sceneOfRequest("/library/metadata/:ratingKey", { ratingKey: "../../etc" }, undefined)).toEqual({});
    expect(sceneOfRequest("/library/collections/:ratingKey", { ratingKey: "12" }, undefined)).toEqual({});
    expect(sceneOfRequest(undefined, undefined, "text body")).toEqual({});
  });

  test("every route of the service with a scene in its path is known (a new one is not left out)", () => {
    const app = createApp(
      loadConfig(
        { STASH_URL: "http://127.0.0.1:9", DATA_DIR: tempDir(), ADMIN_TOKEN: "a-long-enough-admin-token" },
        undefined,
      ),
    );
    try {
      const routes = (app.http.routes as { path: string }[])
        .map((r) => r.path)
        // A route naming a scene has its id in the path (`/api/scene-status` alone names none).
        .filter((p) => /scene|metadata\/:/.test(p) && p.includes(":"));
      expect(routes.length).toBeGreaterThanOrEqual(4);
      for (const path of routes) {
        const params = Object.fromEntries(
          [...path.matchAll(/:(\w+)/g)].map((m) => [m[1]!, m[1] === "kind" ? "scene" : "5"]),
        );
        expect([path, sceneOfRequest(path, params, undefined)]).toEqual([path, { scene: "5" }]);
      }
    } finally {
      void app.stop();
    }
  });
});
