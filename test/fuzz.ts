/**
 * A seeded generator of hostile HTTP requests for the service's routes: odd methods, mutated
 * paths and ids, junk headers and tokens, and JSON (or not-JSON) bodies of awkward shapes.
 * Shared by the hostile-input test (a few thousand) and bench/hostile.ts (20,000).
 */
import { rng } from "../sim/rng.ts";

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
const PATHS = [
  "/",
  "/healthz",
  "/readyz",
  "/api/status",
  "/api/scenes/{id}",
  "/api/dead-letters/requeue",
  "/api/jobs/{word}/run",
  "/hooks/stash",
  "/library/metadata/matches",
  "/library/metadata/{id}",
  "/library/metadata/{id}/images",
  "/library/collections/{gid}",
  "/images/{word}/{id}",
  "/nope/{word}",
];
const IDS = [
  "1",
  "0",
  "-1",
  "999999999999999999999",
  "1e9",
  "abc",
  "%00",
  "%ZZ",
  "..%2f..%2f",
  "💥",
  "g1",
  "1;drop",
  "1%0d%0aX: y",
  " ",
  "null",
];
const WORDS = ["scene", "performer", "group", "studio", "poll", "sweep", "x", "%2e%2e", "__proto__", "constructor"];
const STRINGS = [
  "",
  "a",
  "ü",
  "💥",
  "\u0000",
  "\ud800",
  "<script>",
  "' OR 1=1 --",
  "x".repeat(5000),
  "../../etc/passwd",
  "Bearer",
  "%s%n",
];

export function createFuzzer(seed = 1) {
  const r = rng(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(r() * list.length)]!;

  /** A JSON value of awkward shape, nested up to `depth`. */
  function value(depth: number): unknown {
    const k = r();
    if (depth <= 0 || k < 0.3) return pick([0, -1, 1.5, 1e308, -0, 12, true, false, null, pick(STRINGS)]);
    if (k < 0.55) {
      // Now and then a long array, of leaves only (long arrays of arrays would multiply out).
      const long = r() < 0.05;
      return Array.from({ length: Math.floor(r() * (long ? 3000 : 6)) }, () => value(long ? 0 : depth - 1));
    }
    const keys = [
      "sceneIds",
      "hookContext",
      "type",
      "id",
      "title",
      "year",
      "filename",
      "guid",
      "manual",
      "__proto__",
      pick(STRINGS).slice(0, 20),
    ];
    return Object.fromEntries(Array.from({ length: 1 + Math.floor(r() * 5) }, () => [pick(keys), value(depth - 1)]));
  }

  function body(): string | undefined {
    const k = r();
    if (k < 0.15) return undefined;
    if (k < 0.25) return pick(["{", "[1,", '{"a":}', "nul", "\u0000\u0001", "<xml/>", "a=1&b=2", '"just a string"']);
    if (k < 0.3) return "[".repeat(50 + Math.floor(r() * 500)) + "]".repeat(10);
    return JSON.stringify(value(1 + Math.floor(r() * 12)));
  }

  return function next(): FuzzRequest {
    const path =
      pick(PATHS)
        .replace("{id}", pick(IDS))
        .replace("{gid}", `g${pick(IDS)}`)
        .replace("{word}", pick(WORDS)) +
      (r() < 0.2 ? `?${pick(["X-Plex-Container-Start=-1", "X-Plex-Container-Size=1e99", "a=%ZZ", "q=💥"])}` : "");
    const headers: Record<string, string> = {};
    if (r() < 0.6)
      headers["content-type"] = pick([
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=utf-7",
        "",
      ]);
    if (r() < 0.4)
      headers.authorization = pick([
        "Bearer x",
        "Bearer ",
        "Basic Zm9vOmJhcg==",
        `Bearer ${"a".repeat(300)}`,
        "bearer test",
      ]);
    if (r() < 0.2) headers["x-plex-container-size"] = pick(["-5", "abc", "999999999999"]);
    if (r() < 0.2) headers.accept = pick(["text/html", "application/xml", "*/*", "application/json;q=abc"]);
    const method = pick(METHODS);
    return { method, path, headers, body: method === "GET" || method === "HEAD" ? undefined : body() };
  };
}
