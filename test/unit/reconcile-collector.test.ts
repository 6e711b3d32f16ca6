import { expect, test } from "bun:test";
import { createCollector } from "../../src/gaps/collector.ts";

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
