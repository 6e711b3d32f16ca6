import { describe, expect, test } from "bun:test";
import { forwardedClient } from "../../src/http.ts";

describe("the client a request comes from", () => {
  const proxies = ["172.17.0.1", "10.0.0.2"];
  test("no trusted proxy, or a peer that is not one: the peer, whatever X-Forwarded-For says", () => {
    expect(forwardedClient("192.0.2.4", "203.0.113.5", [])).toBe("192.0.2.4");
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
});
