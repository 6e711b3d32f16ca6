/**
 * A benchmark's lever, not a Stash behaviour: pairs of scenes whose files have one size and
 * durations 0.4 s apart (what Stash shows for two encodes of one length, or two cuts of one
 * source), each with the oshash of bytes a benchmark can write to disk. The oshash is Stash's
 * pkg/hash/oshash (size plus the 64-bit word sums of the first and last 64 KiB; evidence in
 * real-pms-evidence.md §6), so a file with `twinHead`/`twinTail` at its ends and the stated size
 * (sparse between) hashes to what the simulator says. Used by `sim/stash/main.ts --twins N`.
 */
import { closeSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { oshashOf } from "../../src/sync/oshash.ts";
import type { SimLibrary } from "./library.ts";
import { rng } from "../rng.ts";

const CHUNK = 64 * 1024;

/** 64 KiB of seeded noise per scene and end: the first (0) or last (1) chunk of a twin's file. */
function chunk(sceneId: string, end: 0 | 1): Uint8Array {
  const random = rng(Number(Bun.hash(`${sceneId}/${end}`) % 2n ** 32n));
  return Uint8Array.from({ length: CHUNK }, () => Math.floor(random() * 256));
}

/** The oshash of a twin's file: what `writeTwinFile` writes hashes to it. */
export const twinOshash = (sceneId: string, size: number) => oshashOf(size, chunk(sceneId, 0), chunk(sceneId, 1))!;

/** A sparse file of `size` bytes whose first and last 64 KiB are this scene's (its oshash is twinOshash). */
export function writeTwinFile(path: string, sceneId: string, size: number) {
  const fd = openSync(path, "w");
  try {
    ftruncateSync(fd, size);
    writeSync(fd, chunk(sceneId, 0), 0, CHUNK, 0);
    writeSync(fd, chunk(sceneId, 1), 0, CHUNK, size - CHUNK);
  } finally {
    closeSync(fd);
  }
}

/** The first `pairs` pairs of single-file scenes (in id order) made twins: b's file takes a's size. */
export function makeTwins(library: SimLibrary, pairs: number): string[][] {
  const single = [...library.scenes.values()]
    .filter((s) => s.files.length === 1)
    .sort((x, y) => Number(x.id) - Number(y.id));
  const made: string[][] = [];
  for (let k = 0; k + 1 < single.length && made.length < pairs; k += 2) {
    const [a, b] = [single[k]!, single[k + 1]!];
    const [fa, fb] = [a.files[0]!, b.files[0]!];
    fb.size = fa.size;
    fb.duration = fa.duration + 0.4;
    fa.oshash = twinOshash(a.id, fa.size);
    fb.oshash = twinOshash(b.id, fb.size);
    made.push([a.id, b.id]);
  }
  library.version++;
  return made;
}
