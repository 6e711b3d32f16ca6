/**
 * The names in the episode folder: `<Show> {s2p-st12}/Season 2023/<Show> - S2023E04120 - <Title> {s2p-st-42}.mp4`.
 * Plex's TV scanner reads season and episode from `SxxEyy` in the file name (its first episode
 * pattern, `[sS](\d+)[._ ]*[eE](\d+)`, takes any number of digits, so year seasons and
 * five-digit episodes parse); Season 0 lives in `Specials`, the folder name Plex documents for it.
 * The `{s2p-…}` token names the show or episode exactly, whatever the title. Pure.
 */
import { EPISODE_ID, SHOW_ID, type ShowScheme } from "../domain/ref.ts";

/** The longest name a component may have in bytes (ext4, XFS, Btrfs, ZFS: 255 bytes; NTFS/SMB: 255 UTF-16 units). */
const MAX_BYTES = 255;

/**
 * A name every filesystem Plex runs on accepts: no / \ : * ? " < > | or control characters
 * (Windows, SMB shares), no leading or trailing dots or spaces (Windows drops trailing ones,
 * a leading dot hides the file), runs of spaces collapsed.
 */
export function sanitize(name: string): string {
  return (
    name
      // One form for every name (macOS and some shares store names decomposed: see episode-folder.ts).
      .normalize("NFC")
      .replace(/[/\\:*?"<>|\u0000-\u001f\u007f]/g, " ")
      .replace(/\s+/g, " ")
      .replace(/^[\s.]+|[\s.]+$/g, "")
  );
}

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

/** `text` cut (by whole characters) so that `before + text + after` fits in MAX_BYTES. */
function fit(before: string, text: string, after: string): string {
  const room = MAX_BYTES - bytes(before) - bytes(after);
  if (bytes(text) <= room) return text;
  let out = "";
  for (const ch of text) {
    if (bytes(out) + bytes(ch) > room) break;
    out += ch;
  }
  return out.replace(/[\s.]+$/, "");
}

export const showToken = (showId: string) => `{s2p-${showId}}`;
export const episodeToken = (scheme: ShowScheme, sceneId: string) => `{s2p-${scheme}-${sceneId}}`;

/** The show's folder: its title and its token. */
export function showFolderName(title: string, showId: string): string {
  const token = ` ${showToken(showId)}`;
  return `${fit("", sanitize(title) || "Show", token)}${token}`;
}

/** Plex's names for season folders: Season 0 is `Specials`. */
export const seasonFolderName = (season: number) => (season === 0 ? "Specials" : `Season ${season}`);

/** `S2023E04120`, `S01E03`, `S00E12`: two digits at least, years keep their four, dated episodes five. */
export function episodeCode(season: number, episode: number): string {
  const e = String(episode).padStart(season >= 1000 ? 5 : 2, "0");
  return `S${String(season).padStart(2, "0")}E${e}`;
}

/** The extension (without the dot) of a file path, Windows or POSIX; "" when none. */
export function extOf(path: string): string {
  const base = path.split(/[\\/]/).at(-1) ?? "";
  const dot = base.lastIndexOf(".");
  return dot > 0 ? sanitize(base.slice(dot + 1)).replace(/\s/g, "") : "";
}

/** A title for a scene without one: its file name without the extension. */
export function fallbackTitle(sceneId: string, path: string | undefined): string {
  const base = path?.split(/[\\/]/).at(-1) ?? "";
  const stem = base.includes(".") ? base.slice(0, base.lastIndexOf(".")) : base;
  return stem || `Scene ${sceneId}`;
}

/**
 * Plex's first episode pattern (`[sS](\d+)[._ ]*[eE](\d+)`), which the scanner tries over the
 * whole name before any other: our code always matches it, so only it can be misled.
 */
const READS_AS_EPISODE = /s\d+[._ ]*e\d+/i;

export interface LinkParts {
  scheme: ShowScheme;
  sceneId: string;
  showId: string;
  showTitle: string;
  season: number;
  episode: number;
  title: string;
  /** The scene's primary (first) file's path: its extension ends the link's name. */
  path: string;
}

/** The link's path inside the episode folder (always `/`-separated). */
export function linkPath(p: LinkParts): string {
  const show = sanitize(p.showTitle) || "Show";
  const ext = extOf(p.path);
  const token = ` ${episodeToken(p.scheme, p.sceneId)}${ext ? `.${ext}` : ""}`;
  // The show's name and the code first; the title takes the room left (the token always stays).
  // A show name the scanner would read numbers from ("S3E4 Studio") is left out of
  // the file name: its lazy patterns take the first match, and the folder names the show anyway.
  const code = episodeCode(p.season, p.episode);
  const head = READS_AS_EPISODE.test(show) ? `${code} - ` : `${fit("", show, ` - ${code} - ${token}`)} - ${code} - `;
  const title = fit(head, sanitize(p.title) || `Scene ${p.sceneId}`, token);
  return `${showFolderName(p.showTitle, p.showId)}/${seasonFolderName(p.season)}/${head}${title}${token}`;
}

export type Token = { kind: "show"; showId: string } | { kind: "episode"; scheme: ShowScheme; sceneId: string };

/** The `{s2p-…}` token a name ends with (before its extension), or null: the last one counts. */
export function tokenOf(name: string): Token | null {
  const m = /\{s2p-([a-z]{2}-?\d{1,18})\}(?:\.[^./\\{}]*)?$/.exec(name);
  if (!m) return null;
  const id = m[1]!;
  const episode = EPISODE_ID.exec(id);
  if (episode) return { kind: "episode", scheme: episode[1] as ShowScheme, sceneId: episode[2]! };
  return SHOW_ID.test(id) ? { kind: "show", showId: id } : null;
}
