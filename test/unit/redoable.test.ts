import { expect, test } from "bun:test";
import { openStore, redoable } from "../../src/store/db.ts";
import { tempDir } from "../helpers.ts";

/** The connection's sync setting: 2 is FULL, what every queue write relies on. */
const synchronous = (store: ReturnType<typeof openStore>) =>
  (store.db.query("PRAGMA synchronous").get() as { synchronous: number }).synchronous;

test("a redoable transaction commits its rows and leaves the connection syncing every commit again", () => {
  const dir = tempDir();
  const store = openStore(dir);
  expect(synchronous(store)).toBe(2);
  redoable(store.db, () => store.meta.set("redone", "1"));
  expect(synchronous(store)).toBe(2);
  store.close();
  expect(openStore(dir).meta.get("redone")).toBe("1");
});

test("one that throws writes nothing and also leaves the connection syncing every commit", () => {
  const store = openStore(tempDir());
  expect(() =>
    redoable(store.db, () => {
      store.meta.set("half", "1");
      throw new Error("stopped part way");
    }),
  ).toThrow("stopped part way");
  expect(store.meta.get("half")).toBeUndefined();
  expect(synchronous(store)).toBe(2);
});
