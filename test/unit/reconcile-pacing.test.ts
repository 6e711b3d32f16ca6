import { expect, test } from "bun:test";
import { createCollector } from "../../src/collector.ts";
import { oneAhead } from "../../src/gaps/ahead.ts";

test("a reconcile collects garbage once the heap grew by the set amount since the last collection, not every few pages", () => {
  let heap = 100;
  const collector = createCollector(50, () => heap);
  const collected: boolean[] = [];
  for (const next of [120, 149, 151, 160, 200, 202]) {
    heap = next;
    collected.push(collector.page());
  }
  // 151 is 51 above 100 and becomes the floor: 200 is 49 above it, 202 is 51.
  expect(collected).toEqual([false, false, true, false, false, true]);
});

test("pages read one ahead: the next is asked for while this one is compared, in order; a stop part way leaves no failure behind", async () => {
  const asked: number[] = [];
  async function* source(fail?: number) {
    for (let i = 0; i < 4; i++) {
      asked.push(i);
      if (i === fail) throw new Error(`page ${i} failed`);
      yield i;
    }
  }
  const seen: string[] = [];
  for await (const page of oneAhead(source())) seen.push(`${page} (asked ${asked.length})`);
  expect(seen).toEqual(["0 (asked 2)", "1 (asked 3)", "2 (asked 4)", "3 (asked 4)"]);
  // Stopped after the first page while the second (failing) one was in flight: no unhandled rejection.
  asked.length = 0;
  for await (const page of oneAhead(source(1))) if (page === 0) break;
  await Bun.sleep(10);
  expect(asked).toEqual([0, 1]);
  // A failure on the way reaches the loop.
  await expect(
    (async () => {
      for await (const _ of oneAhead(source(2)));
    })(),
  ).rejects.toThrow("page 2 failed");
});
