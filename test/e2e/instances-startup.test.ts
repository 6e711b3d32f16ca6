/**
 * The real process refuses a list of Stash instances that cannot work: exit 2, one line on
 * stderr naming the problem, no stack trace, no API key (issue 19).
 */
import { describe, expect, test } from "bun:test";
import { spawnMain, tempDir } from "../helpers.ts";

async function serveWith(env: Record<string, string>) {
  // A port nothing should hold: the refusal comes before any binding.
  const p = spawnMain({ DATA_DIR: tempDir(), LISTEN_PORT: "48731", ...env });
  // A service that starts instead of refusing is stopped, and fails the test below.
  const stop = setTimeout(() => p.kill(), 8000);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(stop);
  return { out, lines: err.trimEnd().split("\n"), code };
}

describe("serve refuses a broken list of Stash instances", () => {
  test("two instances with the same id: exit 2, one line", async () => {
    const { lines, code, out } = await serveWith({ STASH_INSTANCES: JSON.stringify([
      { id: "main", url: "http://stash-a:9999", apiKey: "secret-key-a" }, { id: "main", url: "http://stash-b:9999", apiKey: "secret-key-b" },
    ]) });
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(lines).toEqual([`stash2plex cannot start: stash[1].id: "main" is also the id of stash[0] — give each Stash its own id`]);
  }, 30_000);

  test("one Stash listed twice (trailing slash, default port): exit 2, one line", async () => {
    const { lines, code } = await serveWith({ STASH_INSTANCES: JSON.stringify([
      { id: "a", url: "http://stash:80/", apiKey: "secret-key-a" }, { id: "b", url: "http://Stash" },
    ]) });
    expect(code).toBe(2);
    expect(lines).toEqual([`stash2plex cannot start: stash[1].url: http://stash is also the URL of "a" — list each Stash once`]);
    expect(lines.join("\n")).not.toContain("secret-key");
  }, 30_000);
});
