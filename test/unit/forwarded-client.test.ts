import { describe, expect, test } from "bun:test";
import { forwardedClient } from "../../src/http.ts";
import { addressMatcher, parseRange } from "../../src/net.ts";

describe("the client a request comes from", () => {
  const proxies = addressMatcher(["172.17.0.1", "10.0.0.2"]);
  const none = addressMatcher([]);
  test("no trusted proxy, or a peer that is not one: the peer, whatever X-Forwarded-For says", () => {
    expect(forwardedClient("192.0.2.4", "203.0.113.5", none)).toBe("192.0.2.4");
    expect(forwardedClient("192.0.2.4", "203.0.113.5", proxies)).toBe("192.0.2.4");
  });
  test("from a trusted proxy: the rightmost entry that is not a trusted proxy", () => {
    expect(forwardedClient("172.17.0.1", "203.0.113.5", proxies)).toBe("203.0.113.5");
    // Two proxies in a row, and an entry the client made up on the left.
    expect(forwardedClient("172.17.0.1", "1.2.3.4, 203.0.113.5, 10.0.0.2", proxies)).toBe("203.0.113.5");
  });
  test("IPv4 over an IPv6 socket is the same address; a header of proxies only names the first", () => {
    expect(forwardedClient("::ffff:172.17.0.1", "::ffff:203.0.113.5", proxies)).toBe("203.0.113.5");
    expect(forwardedClient("172.17.0.1", "10.0.0.2", proxies)).toBe("10.0.0.2");
    expect(forwardedClient("172.17.0.1", " , ", proxies)).toBe("172.17.0.1");
  });
  test("a proxy named by its network (a Docker network's proxy changes address)", () => {
    const network = addressMatcher(["172.17.0.0/16", "fd00::/8"]);
    expect(forwardedClient("172.17.5.9", "203.0.113.5", network)).toBe("203.0.113.5");
    expect(forwardedClient("fd12::3", "2001:db8::7", network)).toBe("2001:db8::7");
    expect(forwardedClient("172.18.0.1", "203.0.113.5", network)).toBe("172.18.0.1");
  });
});

describe("addresses and ranges", () => {
  test("an address, IPv4 or IPv6, or one in CIDR form; anything else is not one", () => {
    expect(parseRange("172.17.0.1")).toEqual({ address: "172.17.0.1", prefix: 32, family: "ipv4" });
    expect(parseRange("172.17.0.0/16")).toEqual({ address: "172.17.0.0", prefix: 16, family: "ipv4" });
    expect(parseRange("fd00::/8")).toEqual({ address: "fd00::", prefix: 8, family: "ipv6" });
    for (const bad of ["proxy.lan", "172.17.0.0/33", "172.17.0.0/", "10.0.0.1/8/2", "fd00::/129", "", "1.2.3"])
      expect([bad, parseRange(bad)]).toEqual([bad, undefined]);
  });
});
