/**
 * Malformed and adversarial HTTP requests, as raw bytes, shared by the hostile-input test
 * and bench/hostile.ts: broken request lines, headers and framing, odd methods, paths and
 * bodies. None may crash the service or be answered with a 500.
 */
const H = "Host: x\r\nConnection: close\r\n";
const get = (target: string, headers = "") => `GET ${target} HTTP/1.1\r\n${H}${headers}\r\n`;
const post = (path: string, type: string, body: string, extra = "") =>
  `POST ${path} HTTP/1.1\r\n${H}Content-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
const json = (path: string, body: string) => post(path, "application/json", body);

/** `depth` nested JSON arrays. */
export const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

export const MALFORMED_REQUESTS: string[] = [
  // The request line.
  "\r\n\r\n",
  "GET\r\n\r\n",
  "GET /\r\n\r\n",
  `GET / HTTP/9.9\r\n${H}\r\n`,
  `GET / HTTP/1.1 extra\r\n${H}\r\n`,
  `get / HTTP/1.1\r\n${H}\r\n`,
  `BREW / HTTP/1.1\r\n${H}\r\n`,
  `G\u0000T / HTTP/1.1\r\n${H}\r\n`,
  get("/\u0000"),
  get("http://elsewhere.example/healthz"),
  get("*"),
  `OPTIONS * HTTP/1.1\r\n${H}\r\n`,
  get("//healthz"),
  get("/../../../etc/passwd"),
  get("/library/metadata/%ZZ"),
  get("/library/metadata/%00"),
  get("/images/scene/%2e%2e%2f%2e%2e%2fconfig"),
  get(`/${"a".repeat(70_000)}`),
  get(`/library/collections/g1?${"a=1&".repeat(20_000)}`),
  // Headers.
  `GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\nConnection: close\r\n\r\n`,
  `GET / HTTP/1.1\r\nHost x\r\nConnection: close\r\n\r\n`,
  `GET / HTTP/1.1\r\n: no-name\r\n${H}\r\n`,
  `GET / HTTP/1.1\r\n${H} folded: header\r\n\r\n`,
  get("/", `X-Big: ${"a".repeat(100_000)}\r\n`),
  get("/", "X-A: b\r\n".repeat(500)),
  "GET /healthz HTTP/1.1\nHost: x\nConnection: close\n\n",
  "GET /healthz HTTP/1.1\rHost: x\r\r",
  get("/", "Accept: \u00ff\u00fe\r\n"),
  get("/library/metadata/1", "Accept: text/html\r\n"),
  get("/", "Accept: application/json;q=abc, */*;;\r\n"),
  get("/library/metadata/1/images", "X-Plex-Container-Start: -5\r\nX-Plex-Container-Size: 99999999999999999999\r\n"),
  get("/library/collections/g1?X-Plex-Container-Start=abc&X-Plex-Container-Size=-1"),
  get("/healthz", "Upgrade: websocket\r\nSec-WebSocket-Key: x\r\nSec-WebSocket-Version: 13\r\n"),
  // Framing and bodies.
  `POST /hooks/stash HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`,
  `POST /hooks/stash HTTP/1.1\r\n${H}Content-Length: abc\r\n\r\n`,
  `POST /hooks/stash HTTP/1.1\r\n${H}Content-Length: 99999999999999999999\r\n\r\n`,
  `POST /hooks/stash HTTP/1.1\r\n${H}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}`,
  `POST /hooks/stash HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n`,
  `POST /hooks/stash HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
  post("/library/metadata/matches", "application/json", '{"ti'),
  post("/library/metadata/matches", "application/xml", "<a></a>"),
  post("/library/metadata/matches", "application/x-www-form-urlencoded", "title=a&title=b&year=x"),
  post("/library/metadata/matches", "multipart/form-data; boundary=zz", "--zz\r\nbroken"),
  json(
    "/library/metadata/matches",
    '{"title": 1, "year": "x", "__proto__": {"polluted": 1}, "constructor": {"prototype": {}}}',
  ),
  json("/library/metadata/matches", '{"title": "\\ud800\\udfff\\ud800", "filename": "../../\\u0000.mp4", "manual": 7}'),
  json("/api/dead-letters/requeue", "null"),
];
