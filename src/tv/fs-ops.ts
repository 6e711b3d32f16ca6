/**
 * The filesystem calls the episode folder makes, behind one small interface: the real ones,
 * or a counting wrapper (the benchmark counts calls; a test can fail one).
 */
import { symlink as symlinkAsync } from "node:fs/promises";
import {
  type Dirent,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmdirSync,
  type Stats,
  statSync,
  symlinkSync,
  unlinkSync,
} from "node:fs";

export interface FsOps {
  readdir(path: string): Dirent[];
  /** undefined when nothing is there. */
  lstat(path: string): Stats | undefined;
  /** Follows symlinks (the episode folder itself may be one); undefined when nothing is there. */
  stat(path: string): Stats | undefined;
  readlink(path: string): string;
  mkdir(path: string): void;
  symlink(target: string, path: string): void;
  /** The same, off the event loop's thread: many at once wait on a busy disk together, not one after another. */
  symlinkAsync(target: string, path: string): Promise<void>;
  unlink(path: string): void;
  /** false when the folder is not empty (or gone). */
  rmdir(path: string): boolean;
}

const code = (err: unknown) => (err as { code?: string }).code;

export const realFs: FsOps = {
  readdir: (path) => readdirSync(path, { withFileTypes: true }),
  lstat(path) {
    try {
      return lstatSync(path);
    } catch (err) {
      if (code(err) === "ENOENT" || code(err) === "ENOTDIR") return undefined;
      throw err;
    }
  },
  stat: (path) => statSync(path, { throwIfNoEntry: false }),
  readlink: (path) => readlinkSync(path),
  mkdir: (path) => mkdirSync(path),
  symlink: (target, path) => symlinkSync(target, path),
  symlinkAsync: (target, path) => symlinkAsync(target, path),
  unlink: (path) => unlinkSync(path),
  rmdir(path) {
    try {
      rmdirSync(path);
      return true;
    } catch (err) {
      if (code(err) === "ENOTEMPTY" || code(err) === "EEXIST" || code(err) === "ENOENT") return false;
      throw err;
    }
  },
};

/** `fs` with a count of each call made through it. */
export function countingFs(fs: FsOps = realFs): FsOps & { counts: Record<keyof FsOps, number>; total(): number } {
  const counts = {
    readdir: 0,
    lstat: 0,
    stat: 0,
    readlink: 0,
    mkdir: 0,
    symlink: 0,
    symlinkAsync: 0,
    unlink: 0,
    rmdir: 0,
  };
  const wrapped = Object.fromEntries(
    (Object.keys(counts) as (keyof FsOps)[]).map((name) => [
      name,
      (...args: unknown[]) => {
        counts[name]++;
        return (fs[name] as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  ) as unknown as FsOps;
  return { ...wrapped, counts, total: () => Object.values(counts).reduce((a, b) => a + b, 0) };
}
