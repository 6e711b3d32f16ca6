/** Which provider fetches come from our PMS: learnt from /identity, asked again at most once a minute (soon after a failure). */
import { describe, expect, test } from "bun:test";
import { createPmsIdentity } from "../../src/sync/pms-identity.ts";

function setup(answers: (string | Error)[]) {
  let t = 0;
  let calls = 0;
  const ids = createPmsIdentity(
    async () => {
      const next = answers[Math.min(calls++, answers.length - 1)]!;
      if (next instanceof Error) throw next;
      return { machineIdentifier: next };
    },
    () => t,
  );
  return { ids, calls: () => calls, advance: (ms: number) => void (t += ms) };
}

describe("PMS identity", () => {
  test("no identifier: ours only with PMS's User-Agent (curl, a browser, a monitor are not); no Plex call either way", async () => {
    const { ids, calls } = setup(["abc"]);
    expect(await ids.isOurs({})).toBe(false);
    expect(await ids.isOurs({ userAgent: "curl/8.5.0" })).toBe(false);
    expect(await ids.isOurs({ userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0" })).toBe(false);
    expect(await ids.isOurs({ userAgent: "PlexMediaServer/1.43.3.10861-07dfddaeb" })).toBe(true);
    expect(ids.knownOurs({ userAgent: "PlexMediaServer/1.43.3.10861-07dfddaeb" })).toBe(true);
    expect(calls()).toBe(0);
  });

  test("an identifier decides, whatever the User-Agent: another PMS's is not ours", async () => {
    const { ids } = setup(["abc"]);
    expect(await ids.isOurs({ clientIdentifier: "other", userAgent: "PlexMediaServer/1.43.0" })).toBe(false);
    expect(await ids.isOurs({ clientIdentifier: "abc", userAgent: "PlexMediaServer/1.43.0" })).toBe(true);
  });

  test("learnt once from /identity; concurrent first fetches share one call", async () => {
    const { ids, calls } = setup(["abc"]);
    expect(
      await Promise.all([
        ids.isOurs({ clientIdentifier: "abc" }),
        ids.isOurs({ clientIdentifier: "abc" }),
        ids.isOurs({ clientIdentifier: "other" }),
      ]),
    ).toEqual([true, true, false]);
    expect(calls()).toBe(1);
    expect(await ids.isOurs({ clientIdentifier: "abc" })).toBe(true);
    expect(calls()).toBe(1);
  });

  test("a foreign identifier asks PMS again at most once a minute (a reinstalled PMS is recognised)", async () => {
    const { ids, calls, advance } = setup(["abc", "new"]);
    expect(await ids.isOurs({ clientIdentifier: "abc" })).toBe(true);
    for (let i = 0; i < 100; i++) expect(await ids.isOurs({ clientIdentifier: "new" })).toBe(false);
    expect(calls()).toBe(1);
    advance(60_000);
    expect(await ids.isOurs({ clientIdentifier: "new" })).toBe(true);
    expect(calls()).toBe(2);
  });

  test("PMS did not answer: not ours for now, asked again within seconds (a push waiting for PMS's fetch is not held a minute)", async () => {
    const { ids, calls, advance } = setup([new Error("down"), "abc"]);
    expect(await ids.isOurs({ clientIdentifier: "abc" })).toBe(false);
    expect(await ids.isOurs({ clientIdentifier: "abc" })).toBe(false);
    expect(calls()).toBe(1);
    advance(2_000);
    expect(await ids.isOurs({ clientIdentifier: "abc" })).toBe(true);
    expect(calls()).toBe(2);
  });
});
