/**
 * Hostile input against the real process: malformed requests over a raw socket, bodies built
 * to exhaust memory or the stack, and upstreams that echo secrets. One request must never take
 * the service down, answer 500, stall it, or leak a secret.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { freePort } from "../../sim/sim-server.ts";
import { adminAuth, healthy, spawnMain, startWorld, tempDir, testEnv, WEBHOOK_TOKEN } from "../helpers.ts";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { rawRequest } from "../raw-http.ts";
import { MALFORMED_REQUESTS, nested } from "../hostile-requests.ts";
import { createFuzzer } from "../fuzz.ts";

let stash: StashSim;
let pms: PmsSim;
let proc: ReturnType<typeof spawnMain>;
let port: number;
let url: string;
const auth = { authorization: `Bearer ${WEBHOOK_TOKEN}`, "content-type": "application/json" };

beforeAll(async () => {
  stash = new StashSim({ scenes: 50 }).start();
  pms = new PmsSim().start();
  port = freePort();
  url = `http://127.0.0.1:${port}`;
  proc = spawnMain({ ...testEnv(stash, pms), LISTEN_HOST: "127.0.0.1", LISTEN_PORT: String(port) });
  expect(await healthy(port)).toBe(true);
});
afterAll(async () => {
  proc.kill("SIGKILL");
  await pms.stop();
  await stash.stop();
});

/** The process is still there and answers. */
async function alive() {
  expect(proc.exitCode).toBeNull();
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
}

describe("malformed requests (raw socket) cannot crash it or get a 500", () => {
  test("HTTP/1.0 without Host, an empty Host, Host with a space or an @: answered, and the process lives", async () => {
    for (const host of ["", "Host:\r\n", "Host;\r\n", "Host: a b\r\n", "Host: a@b\r\n"]) {
      const answer = await rawRequest(port, `GET /healthz HTTP/1.0\r\n${host}\r\n`);
      expect(answer.status === 0 || answer.status < 500).toBe(true);
      await Bun.sleep(20);
      await alive();
    }
  });

  test("an unknown path with a strange Host, and CONNECT: a short JSON error, never Bun's development page", async () => {
    for (const request of [
      "GET /nope HTTP/1.1\r\nHost: a@b\r\nConnection: close\r\n\r\n",
      "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ]) {
      const answer = await rawRequest(port, request);
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(answer.text.length).toBeLessThan(2000);
      expect(answer.text).not.toContain("<html");
      expect(answer.text).not.toContain("node_modules");
    }
    await alive();
  });

  test(`${MALFORMED_REQUESTS.length} malformed requests: none answered 500, none kills the process`, async () => {
    const statuses: number[] = [];
    for (const request of MALFORMED_REQUESTS) statuses.push((await rawRequest(port, request, 1500)).status);
    // Bun's HTTP parser itself answers a broken request line with 505 (no body) before any
    // route runs, and closes on an unknown method; everything else must be a 4xx/2xx of ours.
    expect(statuses.filter((s) => s >= 500 && s !== 505)).toEqual([]);
    await alive();
  }, 120_000);
});

describe("fuzzed requests", () => {
  test("2,000 fuzzed requests to every route: no 500, no crash, and every error is the one JSON shape", async () => {
    const next = createFuzzer(7);
    const bad: string[] = [];
    for (let batch = 0; batch < 125; batch++) {
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          const r = next();
          const res = await fetch(`${url}${r.path}`, { method: r.method, headers: r.headers, body: r.body }).catch(
            () => undefined,
          );
          if (!res) return void bad.push(`${r.method} ${r.path}: no answer`);
          const text = await res.text();
          if (res.status >= 500 && res.status !== 503) bad.push(`${r.method} ${r.path}: ${res.status}`);
          // Bodies over the server-wide cap (4 MiB) get Bun's own empty 413 before any route runs.
          const overCap = res.status === 413 && (r.body?.length ?? 0) > 4 * 1024 * 1024;
          if (
            res.status >= 400 &&
            r.method !== "HEAD" &&
            !overCap &&
            !/^\{"error":\{"status":\d{3},"code":"\w+","message":/.test(text)
          ) {
            bad.push(`${r.method} ${r.path}: ${res.status} not in the error shape: ${text.slice(0, 80)}`);
          }
        }),
      );
    }
    expect(bad).toEqual([]);
    await alive();
  }, 120_000);
});

describe("bodies built to exhaust memory or the stack", () => {
  test("30,000 nested arrays to the webhook without the token: 401 before the body is read", async () => {
    const res = await fetch(`${url}/hooks/stash`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: nested(30_000),
    });
    expect(res.status).toBe(401);
  });

  test("deep nesting with the token: 400 naming the limit; to requeue and to PMS's match route too", async () => {
    const cases: [string, string, Record<string, string>][] = [
      ["/hooks/stash", nested(30_000), auth],
      [
        "/api/dead-letters/requeue",
        `{"sceneIds":${nested(5000)}}`,
        { ...adminAuth, "content-type": "application/json" },
      ],
      ["/library/metadata/matches", `{"title":${nested(20_000)}}`, { "content-type": "application/json" }],
    ];
    for (const [path, body, headers] of cases) {
      const res = await fetch(`${url}${path}`, { method: "POST", headers, body });
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect(((await res.json()) as any).error.message).toContain("nested");
    }
    await alive();
  });

  test("a 10 MB match body: 413, and the service keeps answering", async () => {
    const body = JSON.stringify({ title: "x".repeat(10 * 1024 * 1024) });
    const res = await fetch(`${url}/library/metadata/matches`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(res.status).toBe(413);
    await alive();
  });

  test("validation errors do not echo the value sent", async () => {
    const res = await fetch(`${url}/hooks/stash`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ sceneIds: ["<script>alert(1)</script>"] }),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain("<script>");
  });
});

describe("small things", () => {
  test("/library/metadata/%ZZ is a 400 about the ratingKey, not a 404 about 'null'", async () => {
    const res = await fetch(`${url}/library/metadata/%ZZ`);
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain("null");
  });

  test("the token counts only as 'Authorization: Bearer …'", async () => {
    const body = JSON.stringify({ sceneIds: [1] });
    const bare = await fetch(`${url}/hooks/stash`, {
      method: "POST",
      headers: { authorization: WEBHOOK_TOKEN, "content-type": "application/json" },
      body,
    });
    const custom = await fetch(`${url}/hooks/stash`, {
      method: "POST",
      headers: { "x-stash2plex-token": WEBHOOK_TOKEN, "content-type": "application/json" },
      body,
    });
    expect([bare.status, custom.status]).toEqual([401, 401]);
  });

  test("/readyz is not an amplifier: 100 calls cost a few upstream requests, not 100 each", async () => {
    const stashBefore = stash.queries;
    const plexBefore = pms.calls.length;
    await Promise.all(Array.from({ length: 100 }, () => fetch(`${url}/readyz`).then((r) => r.arrayBuffer())));
    expect(stash.queries - stashBefore).toBeLessThanOrEqual(3);
    expect(pms.calls.length - plexBefore).toBeLessThanOrEqual(3);
  });
});

describe("database trouble is one clear line, never a stack trace", () => {
  test("a damaged database file, or a DATA_DIR that is a file: start-up names it and the fix, exit 1", async () => {
    const damaged = tempDir();
    writeFileSync(join(damaged, "stash2plex.sqlite"), "not a database ".repeat(200));
    const notAFolder = join(tempDir(), "file");
    writeFileSync(notAFolder, "x");
    for (const [dir, words] of [
      [damaged, "damaged"],
      [notAFolder, "DATA_DIR"],
    ] as const) {
      const p = spawnMain({
        ...testEnv(stash, pms),
        DATA_DIR: dir,
        LISTEN_HOST: "127.0.0.1",
        LISTEN_PORT: String(freePort()),
      });
      expect(await p.exited).toBe(1);
      const err = await new Response(p.stderr as ReadableStream).text();
      expect(err).toContain(words);
      expect(err).toContain(dir);
      expect(err.trim().split("\n")).toHaveLength(1);
      expect(err).not.toContain("    at ");
    }
  });

  test("the disk fills up: the webhook answers 507 saying so, nothing half-written", async () => {
    const w = await startWorld({});
    try {
      const pages = (w.app.store.db.query("PRAGMA page_count").get() as { page_count: number }).page_count;
      w.app.store.db.exec(`PRAGMA max_page_count = ${pages}`); // as full as a full disk
      const ids = [...w.stash.library.scenes.keys()];
      const res = await fetch(`${w.app.url}/hooks/stash`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ sceneIds: ids }),
      });
      expect(res.status).toBe(507);
      expect(((await res.json()) as any).error.message).toContain("full");
      expect(res.headers.get("retry-after")).not.toBeNull();
      expect(w.app.queue.pending()).toBe(0);
    } finally {
      await w.close();
    }
  });
});
