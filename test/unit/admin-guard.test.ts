/** The pure parts of the admin surface: which requests count as cross-site, and the sign-in throttle's window. */
import { describe, expect, test } from "bun:test";
import { crossSiteRefusal, type RequestFacts } from "../../src/admin/guard.ts";
import { createThrottle } from "../../src/admin/throttle.ts";

const base: RequestFacts = {
  method: "POST",
  path: "/ui/actions/requeue",
  host: "nas.lan:8787",
  origin: "http://nas.lan:8787",
  secFetchSite: "same-origin",
  forwardedProto: null,
  bearer: false,
  cookie: true,
};
const refused = (patch: Partial<RequestFacts>, publicOrigin?: string) =>
  crossSiteRefusal({ ...base, ...patch }, publicOrigin) !== undefined;

describe("crossSiteRefusal", () => {
  test("our own page's form passes; another port, site or a null origin does not", () => {
    expect(refused({})).toBe(false);
    expect(refused({ origin: "http://NAS.lan:8787" })).toBe(false); // origins compare without case
    expect(refused({ origin: "http://nas.lan:8080", secFetchSite: "same-site" })).toBe(true);
    expect(refused({ origin: "http://nas.lan:8080", secFetchSite: null })).toBe(true);
    expect(refused({ origin: "null", secFetchSite: null })).toBe(true);
    expect(refused({ origin: null, secFetchSite: "cross-site" })).toBe(true);
  });

  test("only state-changing requests to /ui and /api are checked", () => {
    for (const method of ["GET", "HEAD", "OPTIONS"])
      expect(refused({ method, origin: "http://evil.example" })).toBe(false);
    for (const method of ["POST", "PUT", "PATCH", "DELETE", "post"])
      expect(refused({ method, origin: "http://evil.example" })).toBe(true);
    for (const path of ["/library/metadata/matches", "/hooks/stash", "/", "/readyz", "/uix"])
      expect(refused({ path, origin: "http://evil.example" })).toBe(false);
    expect(refused({ path: "/api/sync", origin: "http://evil.example" })).toBe(true);
  });

  test("the admin token as a bearer token passes whatever the origin; a cookie without any Origin does not", () => {
    expect(refused({ bearer: true, origin: "http://evil.example", secFetchSite: "cross-site" })).toBe(false);
    expect(refused({ origin: null, secFetchSite: null, cookie: true })).toBe(true);
    expect(refused({ origin: null, secFetchSite: null, cookie: false })).toBe(false); // curl signing in: nothing to forge
  });

  test("behind a reverse proxy: PUBLIC_URL's origin, or https to the same Host when the proxy says so", () => {
    const proxied = { host: "127.0.0.1:8787", origin: "https://s2p.example.org" };
    expect(refused(proxied)).toBe(true);
    expect(refused(proxied, "https://s2p.example.org")).toBe(false);
    expect(refused({ origin: "https://nas.lan:8787" })).toBe(true);
    expect(refused({ origin: "https://nas.lan:8787", forwardedProto: "https" })).toBe(false);
  });
});

describe("sign-in throttle", () => {
  test("5 failures within the window lock the client; failures spread wider than the window do not", () => {
    let now = 0;
    const t = createThrottle({ now: () => now, windowMs: 60_000, lockMs: 300_000 });
    for (let i = 0; i < 4; i++) t.failed("a");
    expect(t.retryAfter("a")).toBe(0);
    now += 61_000; // the first four fall out of the window
    t.failed("a");
    expect(t.retryAfter("a")).toBe(0);
    for (let i = 0; i < 4; i++) t.failed("a");
    expect(t.retryAfter("a")).toBe(300);
    expect(t.retryAfter("b")).toBe(0); // per client
    now += 299_500;
    expect(t.retryAfter("a")).toBe(1);
    now += 500;
    expect(t.retryAfter("a")).toBe(0);
  });

  test("a success clears the client's count", () => {
    const t = createThrottle({ now: () => 0 });
    for (let i = 0; i < 4; i++) t.failed("a");
    t.succeeded("a");
    for (let i = 0; i < 4; i++) t.failed("a");
    expect(t.retryAfter("a")).toBe(0);
  });
});
