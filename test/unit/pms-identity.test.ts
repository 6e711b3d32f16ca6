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
  test("no identifier (curl, a browser) is never ours and costs no Plex call", async () => {
    const { ids, calls } = setup(["abc"]);
    expect(await ids.isOurs(undefined)).toBe(false);
    expect(await ids.isOurs("")).toBe(false);
    expect(calls()).toBe(0);
  });

  test("learnt once from /identity; concurrent first fetches share one call", async () => {
    const { ids, calls } = setup(["abc"]);
    expect(await Promise.all([ids.isOurs("abc"), ids.isOurs("abc"), ids.isOurs("other")])).toEqual([true, true, false]);
    expect(calls()).toBe(1);
    expect(await ids.isOurs("abc")).toBe(true);
    expect(calls()).toBe(1);
  });

  test("a foreign identifier asks PMS again at most once a minute (a reinstalled PMS is recognised)", async () => {
    const { ids, calls, advance } = setup(["abc", "new"]);
    expect(await ids.isOurs("abc")).toBe(true);
    for (let i = 0; i < 100; i++) expect(await ids.isOurs("new")).toBe(false);
    expect(calls()).toBe(1);
    advance(60_000);
    expect(await ids.isOurs("new")).toBe(true);
    expect(calls()).toBe(2);
  });

  test("PMS did not answer: not ours for now, asked again within seconds (a push waiting for PMS's fetch is not held a minute)", async () => {
    const { ids, calls, advance } = setup([new Error("down"), "abc"]);
    expect(await ids.isOurs("abc")).toBe(false);
    expect(await ids.isOurs("abc")).toBe(false);
    expect(calls()).toBe(1);
    advance(2_000);
    expect(await ids.isOurs("abc")).toBe(true);
    expect(calls()).toBe(2);
  });
});
