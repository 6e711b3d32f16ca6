import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createLogger } from "../../src/log.ts";
import { redactedConfig } from "../../src/cli/redact.ts";
import { loadConfig } from "../../src/config/load.ts";

describe("logging", () => {
  test("JSON lines with secrets redacted by value and by field name", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", format: "json", secrets: ["plex-secret-token"], write: (l) => lines.push(l) });
    log.info("calling http://plex/?X-Plex-Token=plex-secret-token", { token: "abc", error: new Error("bad plex-secret-token") });
    log.debug("hidden");
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ level: "info", token: "[redacted]", error: "bad [redacted]" });
    expect(lines[0]).not.toContain("plex-secret-token");
  });

  test("log times are in the TZ time zone, with its offset (a process started with TZ set)", async () => {
    const script = `import { localTime } from "./src/log.ts"; console.log(localTime(new Date(Date.UTC(2026, 10, 24, 12, 0, 0))));`;
    const at = async (tz: string) => {
      const p = Bun.spawn([process.execPath, "-e", script], { env: { PATH: process.env.PATH ?? "", TZ: tz }, stdout: "pipe", cwd: join(import.meta.dir, "../..") });
      return (await new Response(p.stdout).text()).trim();
    };
    expect(await at("America/New_York")).toBe("2026-11-24T07:00:00.000-05:00");
    expect(await at("Asia/Kolkata")).toBe("2026-11-24T17:30:00.000+05:30");
    expect(await at("Etc/UTC")).toBe("2026-11-24T12:00:00.000Z");
  });

  test("readable lines on a terminal", () => {
    const lines: string[] = [];
    createLogger({ level: "debug", format: "pretty", write: (l) => lines.push(l) }).warn("Plex down", { waiting: 3 });
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN  Plex down waiting=3$/);
  });

  test("the banner's config shows whether secrets are set, never their values", () => {
    const c = loadConfig({ STASH_API_KEY: "stash-key-1", PLEX_URL: "http://plex:32400", PLEX_TOKEN: "plex-tok-2" }, undefined);
    const shown = JSON.stringify(redactedConfig(c));
    expect(shown).not.toContain("stash-key-1");
    expect(shown).not.toContain("plex-tok-2");
    expect(shown).toContain('"apiKey":"(set)"');
    expect(shown).toContain('"webhookToken":"(empty)"');
  });
});
