/**
 * Stash's oshash of a file (its pkg/hash/oshash, the OpenSubtitles hash): the file's size plus
 * the 64-bit little-endian word sums of its first and last 64 KiB, modulo 2^64, as 16 hex
 * digits. 128 KiB read per file, whatever its size.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

const CHUNK = 64 * 1024;
const MASK = (1n << 64n) - 1n;

/** Pure: the hash of a file of `size` bytes whose first and last chunks are these. */
export function oshashOf(size: number, head: Uint8Array, tail: Uint8Array): string | null {
  if (size === 0 || head.length % 8 !== 0 || tail.length % 8 !== 0) return null;
  let sum = BigInt(size);
  for (const chunk of [head, tail]) {
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let i = 0; i < chunk.length; i += 8) sum += view.getBigUint64(i, true);
  }
  return (sum & MASK).toString(16).padStart(16, "0");
}

/** The oshash of a file on disk, or null when it cannot be read (not mounted here, no permission). */
export function oshashOfFile(path: string): string | null {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const size = fstatSync(fd).size;
    const length = Math.min(CHUNK, size);
    const head = new Uint8Array(length);
    const tail = new Uint8Array(length);
    readSync(fd, head, 0, length, 0);
    readSync(fd, tail, 0, length, size - length);
    return oshashOf(size, head, tail);
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
