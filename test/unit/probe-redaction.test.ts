/**
 * What makes the probe's report shareable (issue 25): addresses and configured hosts replaced,
 * version numbers shaped like addresses kept, and the provider request log masking credentials
 * when it records a request (never later), recording only the providers' paths.
 */
import { describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { hostRedactor, redactAddresses } from "../../src/redact.ts";
import { createRequestLog, isProviderPath, MASKED } from "../../src/provider/request-log.ts";

describe("redactAddresses", () => {
  test("IPv4 and IPv6 addresses go, with their ports and brackets, also inside a decoded URL", () => {
    expect(redactAddresses("a proxy path /via/192.168.1.5/x")).toBe("a proxy path /via/<lan-address>/x");
    expect(redactAddresses("Host: 192.168.1.5:32400")).toBe("Host: <lan-address>");
    expect(redactAddresses("http://10.0.0.2/library")).toBe("http://<lan-address>/library");
    expect(redactAddresses("photo?url=http://192.168.1.71:9999/images")).toBe("photo?url=http://<lan-address>/images");
    expect(redactAddresses("[fe80::1%eth0]:32400, ::1, 2001:db8::5 and ::ffff:10.1.2.3.")).toBe(
      "<lan-address>, <lan-address>, <lan-address> and <lan-address>.",
    );
    expect(redactAddresses("listening on 0.0.0.0:8787")).toBe("listening on <lan-address>");
  });

  test("versions, times and dates that look like addresses are kept", () => {
    for (const kept of [
      "PlexMediaServer/1.43.0.104-121068a07",
      "PlexMediaServer/1.43.0.10492",
      "at 12:34:56",
      "2026-12-07T12:34:56.789Z",
      "1.2.3.4.5",
      "aa:bb:cc:dd:ee:ff",
    ])
      expect(redactAddresses(kept)).toBe(kept);
  });
});

describe("hostRedactor", () => {
  const redact = hostRedactor([
    { url: "http://plex:32400", placeholder: "<plex-host>" },
    { url: "http://nas.home.lan:9999", placeholder: "<stash-host>" },
    { url: "http://nas.home.lan:8787", placeholder: "<public-host>" },
  ]);

  test("host:port tells two services on one machine apart; a dotted name goes wherever it stands", () => {
    expect(redact("http://nas.home.lan:9999/graphql and nas.home.lan:8787")).toBe(
      "http://<stash-host>/graphql and <public-host>",
    );
    expect(redact("cannot connect to nas.home.lan")).toBe("cannot connect to <stash-host>");
  });

  test("a one-word host goes only as a URL's host: the word itself stays (tv.plex.agents…)", () => {
    expect(redact("http://plex:32400/identity, plex:32400, http://plex/x")).toBe(
      "http://<plex-host>/identity, <plex-host>, http://<plex-host>/x",
    );
    expect(redact("tv.plex.agents.custom.stash2plex://movie/1 on plex")).toBe(
      "tv.plex.agents.custom.stash2plex://movie/1 on plex",
    );
  });
});

describe("the provider request log", () => {
  test("the providers' paths: root, /library, /images, below an instance and its TV path; nothing else", () => {
    for (const path of [
      "/",
      "/library/metadata/1",
      "/images/scene/2",
      "/tv",
      "/tv/library/metadata/st12",
      "/instances/vault",
      "/instances/vault/tv/library/metadata/matches",
    ])
      expect(isProviderPath(path)).toBe(true);
    for (const path of [
      "/api/status",
      "/ui",
      "/hooks/plex",
      "/healthz",
      "/metrics",
      "/tvx",
      "/instances/Vault/library",
    ])
      expect(isProviderPath(path)).toBe(false);
  });

  test("credentials are masked by name, configured secrets redacted; status recorded; the oldest dropped past the size", async () => {
    const log = createRequestLog({ redact: (t) => t.replaceAll("s3cret-value", "[redacted]"), size: 3 });
    const app = new Elysia()
      .use(log.plugin)
      .get("/library/metadata/:id", ({ params }) => ({ id: params.id }))
      .get("/api/status", () => ({}));
    // Elysia runs afterResponse hooks in a setImmediate once the answer is out: one more after it sees them done.
    const get = async (path: string, headers: Record<string, string> = {}) => {
      await app.handle(new Request(`http://provider.test${path}`, { headers }));
      await new Promise((resolve) => setImmediate(resolve));
    };
    await get("/?includePreferences=1&X-Plex-Token=abc&apiKey=def", {
      "user-agent": "PlexMediaServer/1.43.0.10492",
      "x-plex-token": "tok",
      cookie: "s=1",
      authorization: "Bearer x",
      "x-note": "has s3cret-value inside",
    });
    await get("/api/status");
    await get("/library/metadata/7");
    const { latest, requests } = log.since(0);
    expect(latest).toBe(2);
    const [root, item] = requests;
    expect(root!.query).toEqual([
      ["includePreferences", "1"],
      ["X-Plex-Token", MASKED],
      ["apiKey", MASKED],
    ]);
    const headers = Object.fromEntries(root!.headers);
    expect(headers).toMatchObject({
      "user-agent": "PlexMediaServer/1.43.0.10492",
      "x-plex-token": MASKED,
      cookie: MASKED,
      authorization: MASKED,
      "x-note": "has [redacted] inside",
    });
    expect(item).toMatchObject({ method: "GET", path: "/library/metadata/7", status: 200 });
    expect(log.since(1).requests.map((r) => r.id)).toEqual([2]);
    for (let i = 0; i < 5; i++) await get(`/library/metadata/${i}`);
    expect(log.since(0).requests.map((r) => r.id)).toEqual([5, 6, 7]);
  });
});
