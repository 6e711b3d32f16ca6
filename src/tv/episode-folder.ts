/**
 * The episode folder: a tree of relative symlinks Plex's TV scanner reads
 * (`Show {s2p-st12}/Season 2023/Show - S2023E04120 - Title {s2p-st-42}.mp4` → the scene's file),
 * made equal to the catalog. What is ours is known by its name: a show folder carries a show
 * token, its season folders are `Season N`/`Specials`, a link is a symlink carrying an episode
 * token. Nothing else is ever created over, renamed or removed; a show or season folder that is
 * a symlink is never entered (it could lead out of the episode folder), and nothing is written
 * outside the folder.
 *
 * Full sync (start-up) reads the folder once and fixes every difference; one-scene sync touches
 * only that scene's links and says which season folders changed (Plex scans just those).
 */
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import { type FsOps, realFs } from "./fs-ops.ts";
import { seasonFolderName, tokenOf } from "./names.ts";
import { pace } from "../pace.ts";

/** A link the folder should hold: its path inside the folder (`/`-separated) and its target as Stash names it. */
export interface WantedLink {
  link: string;
  path: string;
}

/**
 * Why a wanted link was not made. Each asks something different of a person, so the dashboard
 * groups by it: the first three never clear by themselves (a note with what to do); `io` is the
 * filesystem refusing now (permissions, a full disk), which the next sync tries again.
 */
export type NoLinkCause =
  /** The scene's file is named by a Windows path (`D:\…`, `\\nas\…`): no link here can point at it. */
  | "windows-path"
  /** The scene's file is not named by a full path on this system. */
  | "not-a-path"
  /** Something not stash2plex's is where the link, or its show or season folder, goes: left alone. */
  | "in-the-way"
  | "io";

/** A wanted link that was not made: why, and the one detail a person needs (the path, what is in the way, the error code). */
export interface NoLink {
  link: string;
  cause: NoLinkCause;
  detail: string;
}

export interface FolderReport {
  created: number;
  /** Links whose target changed (the scene's file moved), made again in place. */
  retargeted: number;
  removed: number;
  unchanged: number;
  /** Season folders (inside the episode folder, `/`-separated) where a link came or went. */
  touched: string[];
  /** Things in the way that are not ours, left alone, with why (the first MAX_PROBLEMS; problemCount has them all). */
  problems: string[];
  problemCount: number;
  /** Every wanted link not made, with why: all of them (the dashboard counts them), unlike `problems`. */
  unlinked: NoLink[];
  /** Things not ours that are in no wanted link's way (a symlinked show or season folder), left alone. */
  strays: number;
}

/** A library of Windows paths on a POSIX host would list every scene: the report keeps the first ones. */
const MAX_PROBLEMS = 50;
/** Says a problem; `missed`: the wanted link it left unmade, else it is a stray. */
const note = (report: FolderReport, problem: string, missed?: NoLink) => {
  if (report.problemCount++ < MAX_PROBLEMS) report.problems.push(problem);
  if (missed) report.unlinked.push(missed);
  else report.strays++;
};

/** The episode folder itself is unusable (missing parent, a file in its place): one line with the fix. */
export class EpisodeFolderError extends Error {}

const SEASON_DIR = /^(Season \d{1,5}|Specials)$/;
/** New links a full sync makes at once (newLinks). */
const LINKS_AT_ONCE = 32;
const code = (err: unknown) => (err as { code?: string }).code;
const emptyReport = (): FolderReport => ({
  created: 0,
  retargeted: 0,
  removed: 0,
  unchanged: 0,
  touched: [],
  problems: [],
  problemCount: 0,
  unlinked: [],
  strays: 0,
});

/**
 * Why a scene's file cannot be a link's target on this system (undefined: it can). A POSIX
 * host has no drive letters or backslash separators, so a Windows Stash's paths lead nowhere.
 */
export function unreachablePath(path: string): "windows-path" | "not-a-path" | undefined {
  if (isAbsolute(path) && !(sep === "/" && path.includes("\\"))) return undefined;
  return /^([A-Za-z]:[\\/]|\\\\)/.test(path) ? "windows-path" : "not-a-path";
}

/** The symlink's content: the scene's file relative to the link's own folder. */
export function linkTarget(folder: string, link: string, path: string): string | undefined {
  if (unreachablePath(path)) return undefined;
  return relative(dirname(join(folder, link)), path);
}

/** Whether a name is ours at its depth (0: show folder, 1: season folder, 2: link). */
const ours = (name: string, depth: number) =>
  depth === 0
    ? tokenOf(name)?.kind === "show"
    : depth === 1
      ? SEASON_DIR.test(name)
      : tokenOf(name)?.kind === "episode";

export function episodeFolder(folder: string, fs: FsOps = realFs) {
  const abs = (rel: string) => join(folder, ...rel.split("/"));
  const seasonOf = (link: string) => link.split("/").slice(0, 2).join("/");

  /**
   * Makes sure the show and season folders of `link` are real folders of ours (creating them):
   * a symlink or a file in their place is refused, so nothing is written through it.
   */
  function ensureParents(link: string, known: Set<string>, report: FolderReport): boolean {
    const parts = link.split("/");
    let rel = "";
    for (const part of parts.slice(0, -1)) {
      rel = rel ? `${rel}/${part}` : part;
      if (known.has(rel)) continue;
      const st = fs.lstat(abs(rel));
      if (!st) {
        try {
          fs.mkdir(abs(rel));
        } catch (err) {
          const why = code(err) ?? (err as Error).message;
          note(report, `${rel}: cannot make the folder (${why})`, { link, cause: "io", detail: why });
          return false;
        }
      } else if (!st.isDirectory() || st.isSymbolicLink()) {
        note(
          report,
          `${rel}: not a folder stash2plex made (a ${st.isSymbolicLink() ? "symlink" : "file"}): left alone`,
          { link, cause: "in-the-way", detail: rel },
        );
        return false;
      }
      known.add(rel);
    }
    return true;
  }

  /**
   * The episode folder exists (made when its parent does) and is a folder. A missing parent is
   * more likely an unmounted volume than a folder to create, so it is refused.
   */
  function ensureFolder() {
    const st = fs.lstat(folder);
    if (st?.isDirectory() || (st?.isSymbolicLink() && fs.stat(folder)?.isDirectory())) return;
    if (st)
      throw new EpisodeFolderError(
        `the episode folder ${folder} is not a folder: point the TV library's folder at a folder`,
      );
    try {
      fs.mkdir(folder);
    } catch (err) {
      throw new EpisodeFolderError(
        code(err) === "ENOENT"
          ? `the episode folder's parent ${dirname(folder)} does not exist (is the volume mounted?): create it or fix the TV library's folder`
          : `cannot make the episode folder ${folder} (${code(err) ?? (err as Error).message}): make it writable by the service`,
      );
    }
  }

  /** Removes a show's or season's folder of ours once it is empty (a foreign file keeps it). */
  function pruneParents(link: string) {
    const parts = link.split("/");
    for (let depth = parts.length - 1; depth >= 1; depth--) {
      if (!fs.rmdir(abs(parts.slice(0, depth).join("/")))) break;
    }
  }

  /**
   * Makes (or remakes) one link; something not ours in its place is reported and left alone.
   * Returns whether it removed our old link (its scene's file moved where no link can point).
   */
  function put(
    want: WantedLink,
    current: string | null | undefined,
    known: Set<string>,
    report: FolderReport,
    /** The link's name as found on disk, when it differs in normalization. */
    found = want.link,
    /** A full sync's new links, made several at once (see `newLinks`). */
    making?: NewLinks,
  ): boolean {
    const target = linkTarget(folder, want.link, want.path);
    if (target === undefined) {
      note(report, `${want.link}: the scene's file ${want.path} is not a path on this system: no link`, {
        link: want.link,
        cause: unreachablePath(want.path) ?? "not-a-path",
        detail: want.path,
      });
      // Our link to where the file was would keep an episode Plex cannot play, counted as none.
      if (typeof current !== "string") return false;
      fs.unlink(abs(found));
      report.removed++;
      report.touched.push(seasonOf(want.link));
      return true;
    }
    if (current === target) {
      report.unchanged++;
      return false;
    }
    if (current === null) {
      note(report, `${want.link}: a file that is not a stash2plex link is in its place: left alone`, {
        link: want.link,
        cause: "in-the-way",
        detail: want.link,
      });
      return false;
    }
    if (!ensureParents(want.link, known, report)) return false;
    if (current === undefined && making) {
      making.add(want.link, target);
      return false;
    }
    try {
      if (current !== undefined) fs.unlink(abs(found));
      fs.symlink(target, abs(want.link));
    } catch (err) {
      const why = code(err) ?? (err as Error).message;
      note(report, `${want.link}: cannot make the link (${why})`, { link: want.link, cause: "io", detail: why });
      return false;
    }
    if (current === undefined) report.created++;
    else report.retargeted++;
    report.touched.push(seasonOf(want.link));
    return false;
  }

  /**
   * A full sync's new links, made LINKS_AT_ONCE at a time off the event loop's thread: on a busy
   * disk a symlink can wait on the filesystem (bench/scale.ts measured a bare serial loop at
   * ~0.5 ms a link beside a heavy neighbour, ~20 µs on a calm disk), and that wait then holds the
   * whole service one link after another. Failures are noted at the end in the order the links
   * were wanted (the report does not depend on timing).
   */
  function newLinks(report: FolderReport) {
    const running = new Set<Promise<void>>();
    const failed: { order: number; link: string; why: string }[] = [];
    let order = 0;
    return {
      add(link: string, target: string) {
        const mine = order++;
        const made: Promise<void> = fs.symlinkAsync(target, abs(link)).then(
          () => {
            report.created++;
            report.touched.push(seasonOf(link));
          },
          (err) => void failed.push({ order: mine, link, why: code(err) ?? (err as Error).message }),
        );
        running.add(made);
        void made.finally(() => running.delete(made));
      },
      /** Waits while LINKS_AT_ONCE are under way. */
      async room() {
        while (running.size >= LINKS_AT_ONCE) await Promise.race(running);
      },
      async done() {
        await Promise.all(running);
        for (const { link, why } of failed.sort((a, b) => a.order - b.order))
          note(report, `${link}: cannot make the link (${why})`, { link, cause: "io", detail: why });
      },
    };
  }
  type NewLinks = ReturnType<typeof newLinks>;

  /**
   * What is in the folder now: our links with their targets, and our show and season folders.
   * Symlinked show or season folders are listed as problems and not entered.
   */
  async function read(report: FolderReport) {
    // Keyed by the NFC form of each path: a filesystem that stores names decomposed (macOS,
    // some SMB shares) gives back NFD names for the NFC names we made; `onDisk` has them as found.
    const links = new Map<string, string>();
    const foreign = new Set<string>();
    const dirs = new Map<string, number>();
    const onDisk = new Map<string, string>();
    const walk = async (rel: string, depth: number): Promise<void> => {
      let entries: ReturnType<FsOps["readdir"]>;
      try {
        entries = fs.readdir(rel ? abs(rel) : folder);
      } catch (err) {
        if (code(err) === "ENOENT" && !rel) return;
        throw err;
      }
      if (rel) dirs.set(rel.normalize("NFC"), entries.length);
      for (const entry of entries) {
        await pace(); // a readlink per link: ~1 s at 200,000 links in one stretch
        const path = rel ? `${rel}/${entry.name}` : entry.name;
        const key = path.normalize("NFC");
        onDisk.set(key, path);
        if (depth < 2) {
          if (!ours(entry.name, depth)) continue;
          if (entry.isSymbolicLink()) note(report, `${path}: a symlinked folder is never entered: left alone`);
          else if (entry.isDirectory()) await walk(path, depth + 1);
        } else if (entry.isSymbolicLink() && ours(entry.name, 2)) links.set(key, fs.readlink(abs(path)));
        else foreign.add(key);
      }
    };
    await walk("", 0);
    return { links, foreign, dirs, onDisk };
  }

  return {
    folder,
    /**
     * Makes the folder hold exactly `wanted` (reads it once). Yields to the event loop every
     * ~20 ms (pace.ts), so a large library's first sync does not stall the service.
     */
    async sync(wanted: readonly WantedLink[]): Promise<FolderReport> {
      const report = emptyReport();
      ensureFolder();
      const { links, foreign, dirs, onDisk } = await read(report);
      const known = new Set(dirs.keys());
      const keep = new Set<string>();
      const making = newLinks(report);
      for (const want of wanted) {
        const key = want.link.normalize("NFC");
        keep.add(key);
        put(want, foreign.has(key) ? null : links.get(key), known, report, onDisk.get(key), making);
        await making.room();
        await pace();
      }
      await making.done();
      const emptied = new Set<string>();
      for (const link of links.keys()) {
        if (keep.has(link)) continue;
        await pace();
        fs.unlink(abs(onDisk.get(link)!));
        report.removed++;
        report.touched.push(seasonOf(onDisk.get(link)!));
        emptied.add(seasonOf(link));
      }
      // Folders of ours that may be empty now (or were): seasons first, then their shows.
      const kept = new Set([...keep].flatMap((link) => [seasonOf(link), link.split("/")[0]!]));
      const rmdir = (dir: string) => fs.rmdir(abs(onDisk.get(dir) ?? dir));
      const seasons = [...dirs].filter(([dir, count]) => dir.includes("/") && (count === 0 || emptied.has(dir)));
      const gone = new Set(seasons.filter(([dir]) => !kept.has(dir) && rmdir(dir)).map(([d]) => d));
      for (const [dir, count] of dirs) {
        if (dir.includes("/") || kept.has(dir)) continue;
        const seasonsOf = [...dirs.keys()].filter((d) => d.startsWith(`${dir}/`));
        if (count === 0 || (seasonsOf.length === count && seasonsOf.every((d) => gone.has(d)))) rmdir(dir);
      }
      report.touched = [...new Set(report.touched)].sort();
      return report;
    },

    /**
     * One scene's link in this folder moved from `before` to `after` (either missing: placed or
     * removed). Touches only that link and its emptied folders.
     */
    syncOne(before: WantedLink | undefined, after: WantedLink | undefined): FolderReport {
      const report = emptyReport();
      // A link's target, undefined when missing, null when something not ours is there or in
      // the way (a symlinked or file parent), which is reported and left alone. `wanted`: the
      // link is the one to make (it is then counted as not made), not the one to remove.
      const current = (link: string, wanted: boolean): string | null | undefined => {
        const missed = (detail: string): NoLink | undefined =>
          wanted ? { link, cause: "in-the-way", detail } : undefined;
        const parts = link.split("/");
        for (let depth = 1; depth < parts.length; depth++) {
          const rel = parts.slice(0, depth).join("/");
          const st = fs.lstat(abs(rel));
          if (!st) return undefined;
          if (st.isSymbolicLink() || !st.isDirectory()) {
            note(
              report,
              `${rel}: not a folder stash2plex made (a ${st.isSymbolicLink() ? "symlink" : "file"}): left alone`,
              missed(rel),
            );
            return null;
          }
        }
        const st = fs.lstat(abs(link));
        if (!st) return undefined;
        if (st.isSymbolicLink()) return fs.readlink(abs(link));
        note(report, `${link}: a file that is not a stash2plex link is in its place: left alone`, missed(link));
        return null;
      };
      if (before && before.link !== after?.link && typeof current(before.link, false) === "string") {
        fs.unlink(abs(before.link));
        report.removed++;
        report.touched.push(seasonOf(before.link));
        pruneParents(before.link);
      }
      if (after) {
        const now = current(after.link, true);
        if (now !== null && put(after, now, new Set(), report)) pruneParents(after.link);
      }
      report.touched = [...new Set(report.touched)].sort();
      return report;
    },
  };
}

export type EpisodeFolder = ReturnType<typeof episodeFolder>;

/** The season folder a link sits in (what Plex is asked to scan), e.g. `Studio A {s2p-st12}/Season 2023`. */
export const seasonFolderOf = (link: string) => link.split("/").slice(0, 2).join("/");
export { seasonFolderName };
