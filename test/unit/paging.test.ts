import { describe, expect, test } from "bun:test";
import { pages } from "../../src/paging.ts";
import { servedStart } from "../../src/provider/envelope.ts";

const listing = (n: number, withTotal: boolean) => async (index: number) => {
  const items = Array.from({ length: Math.max(0, Math.min(3, n - index * 3)) }, (_, k) => index * 3 + k);
  return withTotal ? { items, total: n } : { items };
};
const read = async (fetchPage: (i: number) => Promise<{ items: number[]; total?: number }>) => {
  const seen: number[][] = [];
  for await (const page of pages(3, fetchPage)) seen.push([page.index, ...page.items]);
  return seen;
};

test("pages stop at a short page, or at the stated total without asking for an empty page", async () => {
  expect(await read(listing(7, false))).toEqual([
    [0, 0, 1, 2],
    [1, 3, 4, 5],
    [2, 6],
  ]);
  // Without a total, a listing that ends on a full page takes one empty page to know it has ended.
  expect(await read(listing(6, false))).toEqual([[0, 0, 1, 2], [1, 3, 4, 5], [2]]);
  expect(await read(listing(6, true))).toEqual([
    [0, 0, 1, 2],
    [1, 3, 4, 5],
  ]);
  expect(await read(listing(0, true))).toEqual([[0]]);
});

describe("the start of a TV listing's page, counted from 0 or from 1 (provider/envelope.ts servedStart)", () => {
  /** The items a PMS gets paging a list of `n` from `base`, `size` at a time, as the provider serves them. */
  const read = (n: number, size: number, base: 0 | 1) => {
    const got: number[] = [];
    for (let seen = 0; seen < n; ) {
      const from = servedStart(base + seen, size);
      const page = Array.from({ length: Math.max(0, Math.min(size, n - from)) }, (_, k) => from + k);
      if (!page.length) break;
      got.push(...page);
      seen += page.length;
    }
    return got;
  };

  test("a PMS counting from 0 and one counting from 1 both get every item exactly once", () => {
    for (let size = 2; size <= 25; size++)
      for (let n = 0; n <= 100; n++) {
        const all = Array.from({ length: n }, (_, i) => i);
        expect(read(n, size, 0)).toEqual(all);
        expect(read(n, size, 1)).toEqual(all);
      }
    // Size 1 cannot tell the two apart: read from 0, as the docs' examples are.
    expect(read(5, 1, 0)).toEqual([0, 1, 2, 3, 4]);
  });

  test("any request is served from where it asked or one item before: never an item skipped", () => {
    for (let size = 0; size <= 25; size++)
      for (let start = 0; start <= 100; start++) expect(start - servedStart(start, size)).toBeOneOf([0, 1]);
    expect([servedStart(1, 20), servedStart(21, 20), servedStart(20, 20), servedStart(2, 3)]).toEqual([0, 20, 20, 2]);
  });
});
