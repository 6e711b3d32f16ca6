/** The PMS client: answers are checked against their schemas; failures are classified for retry. */
import { describe, expect, test } from "bun:test";
import { createPlexClient, PlexError } from "../../src/plex/client.ts";

function fakePms(answer: (req: Request) => Response | Promise<Response>) {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: answer });
  const client = createPlexClient({ url: `http://127.0.0.1:${server.port}`, token: "tok", timeoutMs: 500 });
  return { client, stop: () => server.stop(true) };
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e) => e as PlexError,
  );

describe("PMS client", () => {
  test("an answer in an unexpected shape is a clear error naming where", async () => {
    const pms = fakePms(() => Response.json({ MediaContainer: { Directory: [{ key: 1, type: "movie" }] } }));
    try {
      const err = await failure(pms.client.sections());
      expect(err).toBeInstanceOf(PlexError);
      expect(err!.message).toContain("unexpected answer");
      expect(err!.message).toContain("/MediaContainer/Directory/0/title");
    } finally {
      pms.stop();
    }
  });

  test("sends the token as a header, never in the URL; classifies 5xx/429 transient, 404 permanent", async () => {
    const seen: { url: string; token: string | null }[] = [];
    let status = 503;
    const pms = fakePms(
      (req) => (seen.push({ url: req.url, token: req.headers.get("x-plex-token") }), new Response("x", { status })),
    );
    try {
      expect((await failure(pms.client.refresh("5")))!.kind).toBe("transient");
      status = 429;
      expect((await failure(pms.client.refresh("5")))!.kind).toBe("transient");
      status = 404;
      const gone = (await failure(pms.client.refresh("5")))!;
      expect(gone.kind).toBe("permanent");
      expect(gone.status).toBe(404);
      expect(seen[0]!.token).toBe("tok");
      expect(seen.every((r) => !r.url.includes("tok"))).toBe(true);
      expect(gone.message).not.toContain("tok");
    } finally {
      pms.stop();
    }
  });

  test("no answer in time or no connection is transient", async () => {
    const slow = fakePms(async () => (await Bun.sleep(1500), Response.json({})));
    try {
      expect((await failure(slow.client.identity()))!.message).toContain("no answer within 500 ms");
    } finally {
      slow.stop();
    }
    const none = createPlexClient({ url: "http://127.0.0.1:9", token: "t", timeoutMs: 500 });
    expect((await failure(none.identity()))!.kind).toBe("transient");
  });
});
