import { expect, test } from "bun:test";
import { pages } from "../../src/paging.ts";

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
