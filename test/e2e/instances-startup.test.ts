/**
 * The real process refuses a list of Stash instances that cannot work: exit 2, one line on
 * stderr naming the problem, no stack trace, no API key (issue 19).
 */
import { describe, expect, test } from "bun:test";
import { freePort } from "../../sim/sim-server.ts";
import { healthy, spawnMain, tempDir } from "../helpers.ts";

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
    const { lines, code, out } = await serveWith({
      STASH_INSTANCES: JSON.stringify([
        { url: "http://stash-a:9999", apiKey: "secret-key-a" },
        { id: "vault", url: "http://stash-b:9999", apiKey: "secret-key-b" },
        { id: "vault", url: "http://stash-c:9999" },
      ]),
    });
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(lines).toEqual([
      `stash2plex cannot start: stash[2].id: "vault" is also the id of stash[1] — give each Stash its own id`,
    ]);
  }, 30_000);

  test("one Stash listed twice (trailing slash, default port): exit 2, one line", async () => {
    const { lines, code } = await serveWith({
      STASH_INSTANCES: JSON.stringify([
        { url: "http://stash:80/", apiKey: "secret-key-a" },
        { id: "b", url: "http://Stash" },
      ]),
    });
    expect(code).toBe(2);
    expect(lines).toEqual([
      `stash2plex cannot start: stash[1].url: http://stash is also the URL of "default" — list each Stash once`,
    ]);
    expect(lines.join("\n")).not.toContain("secret-key");
  }, 30_000);
});

describe("serve lists the provider URL of every instance", () => {
  test("one line per Stash, each with the URL to add in Plex", async () => {
    const port = freePort();
    const p = spawnMain({
      DATA_DIR: tempDir(),
      LISTEN_PORT: String(port),
      PUBLIC_URL: "http://nas.lan:8787",
      STASH_TIMEOUT_MS: "500",
      STASH_INSTANCES: JSON.stringify([
        { name: "Main", url: "http://127.0.0.1:9", apiKey: "main-instance-api-key" },
        { id: "vault", name: "Vault", url: "http://127.0.0.1:10", apiKey: "vault-instance-api-key" },
      ]),
    });
    try {
      expect(await healthy(port)).toBe(true);
      await Bun.sleep(300); // the reachability lines follow the banner (a refused connection is immediate)
    } finally {
      p.kill("SIGTERM");
    }
    const out = await new Response(p.stdout).text();
    // The config logged at start-up shows each instance, never its API key.
    expect(out).toContain(`"apiKey":"(set)"`);
    expect(out).not.toContain("instance-api-key");
    const messages = out
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l).msg as string);
    // Each Stash is tried (neither answers here), each named.
    expect(messages).toContain(
      `Stash "vault" not reachable yet; its provider's matches answer empty and metadata 503 until it is`,
    );
    const said = out
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l).msg as string)
      .filter((m) => m.startsWith("add this URL"));
    expect(said).toEqual([
      `add this URL in Plex (Settings → Metadata Agents → Add Provider) for Stash "Main" (default): http://nas.lan:8787`,
      `add this URL in Plex (Settings → Metadata Agents → Add Provider) for Stash "Vault" (vault): http://nas.lan:8787/instances/vault`,
    ]);
  }, 30_000);
});
