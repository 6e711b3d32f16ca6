/**
 * How PMS's TV scanner reads a file's place in a show from its path (pure, no I/O). The rules
 * follow Plex's series scanner (see the research notes at the top of tv.ts): the first folder
 * under the library root is the show (`Name (2020) {tvdb-123}`: title, year and an id hint);
 * the file name says the season and episode (`S01E02`, `S2023E05`, `S01E01-E02`, `1x02`, `SP01`,
 * a bare `.102.`), or an air date (`2023-05-01`: a date-based episode in the season of that
 * year); a season folder (`Season 3`, `Specials`) gives the season to names that carry only an
 * episode number (`01 - Title`, `ep 12`). A file named none of these ways is ignored ("Got
 * nothing for" in PMS's log), as are non-video files, small samples, trailers and extras folders.
 */

/** The video extensions PMS's scanner lists (VideoFiles.py); anything else is not media. */
const VIDEO_EXTS = new Set(
  (
    "3g2 3gp asf asx avc avi avs bivx bup divx dv dvr-ms evo fli flv m2t m2ts m2v m4v mkv mov mp4 mpeg mpg mts " +
    "nsv nuv ogm ogv tp pva qt rm rmvb sdp svq3 strm ts ty vdr viv vob vp3 wmv wpl wtv xsp xvid webm"
  ).split(" "),
);
/**
 * Folders PMS skips, the show folder included (VideoFiles.py's ignore_dirs, tried with Python's
 * re.match: anchored at the start only, any case). So a show folder "Extras …", "Bonus …" or
 * "Sample …" is skipped whole, while "Scenes" is skipped but "Scenes {s2p-st1}" is not.
 */
const IGNORED_DIRS = [
  /^extras?\b/i,
  /^!?samples?/i,
  /^bonus/i,
  /^.*bonus disc/i,
  /^bdmv/i,
  /^video_ts/i,
  /^interview.?$/i,
  /^scene.?$/i,
  /^trailer.?$/i,
  /^deleted.?(scene.?)?$/i,
  /^behind.?the.?scenes$/i,
  /^featurette.?$/i,
  /^short.?$/i,
  /^other.?$/i,
];
/** Trailers and extras by name, searched in the whole path (ignore_trailers, ignore_extras). */
const IGNORED_FILES = [/-trailer\./i, /-(deleted|behindthescenes|interview|scene|featurette|short|other)\./i];
/** Samples, searched in the whole path, but only files under 300 MB count as samples. */
const SAMPLE = [/[-._ ]sample/i, /sample[-._ ]/i];
const SAMPLE_BYTES = 300 * 1024 * 1024;

/** Season and episode in a file name, strongest first (Plex Series Scanner's episode_regexps). */
const EPISODE_RX = [
  // S03E04, S2023E05, S03E04-E05, S03E04E05, S03E04+05
  /^(?<show>.*?)s(?<season>\d+)[._ ]*e(?<ep>\d+)[._ ]*(?:[- ]?s\d+)?(?:[- ]?[e+](?<secondEp>\d+))?/i,
  // S03-03
  /^(?<show>.*?)s(?<season>\d{2})[._\- ]+(?<ep>\d+)/i,
  // 3x03, 3x03-3x04
  /^(?<show>.*?)(?:[^0-9]|^)(?<season>19[3-9]\d|20[0-5]\d|\d{1,2})x(?<ep>\d+)(?:(?:-\d+)?x(?<secondEp>\d+))?/i,
  // SP01: a special, season 0
  /^(?<show>.*?)(?:^|[._\- ])+(?<season>sp)(?<ep>\d{2,3})(?:[._\- ]|$)+/i,
];
/** The weakest: a bare three- or four-digit number (`Show.602.`) read as season 6 episode 02. */
const WEAK_RX = /^(?<show>.*?)[^0-9a-z](?<season>\d{1,2})(?<ep>\d{2})(?:[^0-9a-z%]|$)/i;
/** An air date: YYYY-MM-DD (any separators) or MM-DD-YYYY. */
const DATE_RX = [
  /(?<year>\d{4})[^0-9a-z]+(?<month>\d{2})[^0-9a-z]+(?<day>\d{2})(?:[^0-9]|$)/i,
  /(?<month>\d{2})[^0-9a-z]+(?<day>\d{2})[^0-9a-z(]+(?<year>\d{4})(?:[^0-9a-z]|$)/i,
];
/** Names that carry an episode number only; the season comes from the folder (or is 1). */
const JUST_EPISODE_RX = [
  /(?<ep>\d{1,3})[. \-_]*of[. \-_]*\d{1,3}/i, // 01 of 08
  /^(?<ep>\d{1,3})[^0-9]/, // 01 - Title
  /e[a-z]*[ .\-_]*(?<ep>\d{2,3})(?:[^0-9c-uw-z%]|$)/i, // ep 12, episode 012
  /.*?[ .\-_](?<ep>\d{2,3})[^0-9c-uw-z%]+/i, // Show - 04 - Title
  /.*?[ .\-_](?<ep>\d{2,3})$/i, // Show - 04
];
/** A season folder: `Season 3`, `Season 2023`, `Series 02`, or anything ending in a number. */
const SEASON_FOLDER_RX = /^.*?(?<season>\d+)$/;

export interface ShowFolder {
  /** The show folder's absolute path (the key PMS groups a show's files by). */
  folder: string;
  /** The title PMS sends the provider: the folder name without year, id hint and brackets. */
  title: string;
  year?: number;
  /** An id hint from `{tvdb-123}`, `{tmdb-123}` or `{imdb-tt123}` in the folder name, as a GUID. */
  guid?: string;
}

export interface ParsedEpisode {
  show: ShowFolder;
  season: number;
  /** Episode numbers (a multi-episode file has several); empty for a date-based file. */
  episodes: number[];
  /** The air date of a date-based file (YYYY-MM-DD); its season is the year. */
  date?: string;
  /** Which rule read it, for the tests and the logs. */
  rule: "episode" | "date" | "weak" | "number";
}

const SEP = /[\\/]/;

/** The show title, year and id hint a folder name gives. */
export function showOfFolder(name: string): Omit<ShowFolder, "folder"> {
  let guid: string | undefined;
  let title = name.replace(/\{(tvdb|tmdb|imdb)-([a-z0-9]+)\}/gi, (_, scheme: string, id: string) => {
    guid ??= `${scheme.toLowerCase()}://${id}`;
    return " ";
  });
  title = title.replace(/\{[^}]*\}/g, " ");
  const year = /[([](\d{4})[)\]]/.exec(title)?.[1];
  if (year) title = title.replace(/[([]\d{4}[)\]]/, " ");
  title = title
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return { title: title || name.trim(), ...(year ? { year: Number(year) } : {}), ...(guid ? { guid } : {}) };
}

/** A season folder's number: `Specials` is season 0, otherwise the number it ends with. */
export function seasonOfFolder(name: string): number | undefined {
  if (/^specials$/i.test(name.trim())) return 0;
  const m = SEASON_FOLDER_RX.exec(name.trim());
  return m ? Number(m.groups!.season) : undefined;
}

/**
 * Whether PMS takes a file for media at all: a video, not hidden, in no skipped folder, not a
 * trailer or extra, and not a sample (a name with "sample" in its path AND under 300 MB: a scene
 * titled "Sample …" whose file is small is dropped by PMS). `bytes`: the file's size.
 */
export function isEpisodeCandidate(
  path: string,
  relativeSegments: string[],
  bytes = Number.POSITIVE_INFINITY,
): boolean {
  const name = relativeSegments.at(-1) ?? "";
  if (relativeSegments.some((s) => s.startsWith("."))) return false;
  const dot = name.lastIndexOf(".");
  if (dot <= 0 || !VIDEO_EXTS.has(name.slice(dot + 1).toLowerCase())) return false;
  if (relativeSegments.slice(0, -1).some((dir) => IGNORED_DIRS.some((rx) => rx.test(dir)))) return false;
  if (IGNORED_FILES.some((rx) => rx.test(path))) return false;
  return !(bytes < SAMPLE_BYTES && SAMPLE.some((rx) => rx.test(path)));
}

/**
 * Where PMS's TV scanner places a file found under a library folder `root`, or null when it
 * ignores the file. `path` and `root` are absolute, with `/` or `\` separators.
 */
export function parseEpisodePath(path: string, root: string, bytes?: number): ParsedEpisode | null {
  const rootClean = root.replace(/[\\/]+$/, "");
  if (!path.startsWith(`${rootClean}/`) && !path.startsWith(`${rootClean}\\`)) return null;
  const segments = path
    .slice(rootClean.length + 1)
    .split(SEP)
    .filter(Boolean);
  if (!segments.length || !isEpisodeCandidate(path, segments, bytes)) return null;
  const file = segments.at(-1)!;
  const stem = file.slice(0, file.lastIndexOf("."));
  const folderSeason = segments.length >= 3 ? seasonOfFolder(segments.at(-2)!) : undefined;
  const parsed = readName(stem, folderSeason, segments.length >= 2 ? segments.at(-2)! : "");
  if (!parsed) return null;
  // A file straight under the root names its show itself ("Show - S01E02.mkv").
  const show: ShowFolder =
    segments.length >= 2
      ? { folder: `${rootClean}${path[rootClean.length]}${segments[0]}`, ...showOfFolder(segments[0]!) }
      : topLevelShow(rootClean, path[rootClean.length]!, parsed.showText);
  if (!show.title) return null;
  const { showText: _, ...rest } = parsed;
  return { show, ...rest };
}

function topLevelShow(root: string, sep: string, showText: string): ShowFolder {
  const info = showOfFolder(showText.replace(/[._]+/g, " ").replace(/[\s-]+$/, ""));
  return { folder: `${root}${sep}${info.title}`, ...info };
}

type Read = Omit<ParsedEpisode, "show"> & { showText: string };

/** The season and episode (or air date) a file name says, in the scanner's order. */
function readName(stem: string, folderSeason: number | undefined, parentName: string): Read | null {
  const strong = EPISODE_RX.some((rx) => rx.test(stem));
  // Date-based names come first, unless a season/episode pattern is in the name as well.
  if (!strong) {
    for (const rx of DATE_RX) {
      const m = rx.exec(stem);
      if (!m) continue;
      const { year, month, day } = m.groups!;
      if (Number(month) < 1 || Number(month) > 12 || Number(day) < 1 || Number(day) > 31) continue;
      return {
        season: Number(year),
        episodes: [],
        date: `${year}-${month}-${day}`,
        rule: "date",
        showText: stem.slice(0, m.index),
      };
    }
  }
  // A year in the name is no season: take it out before the weaker patterns look for numbers.
  const cleaned = stem
    .replace(/[([.\-_ ](19|20)\d{2}[)\].\-_ ,+]/, (m) => `${m[0]}XXXX${m.at(-1)}`)
    .replace(/([hx]\.?264|720p|1080p|480p|2160p)/gi, " ");
  for (const rx of EPISODE_RX) {
    const m = rx.exec(cleaned);
    if (!m) continue;
    const g = m.groups!;
    const season = g.season!.toLowerCase() === "sp" ? 0 : Number(g.season);
    return {
      season,
      episodes: range(Number(g.ep), g.secondEp ? Number(g.secondEp) : undefined),
      rule: "episode",
      showText: g.show ?? "",
    };
  }
  const weak = WEAK_RX.exec(cleaned);
  if (weak && !/.+ \([12]\d{3}\)/.test(parentName)) {
    let season = Number(weak.groups!.season);
    let ep = Number(weak.groups!.ep);
    if (season !== 0) {
      // Absolute numbering (episode 112 in a "Season 2" folder) is not season 1 episode 12.
      if (folderSeason !== undefined && folderSeason !== season) {
        if (/^\d+[ -]/.test(cleaned)) return justEpisode(cleaned, folderSeason);
        ep += season * 100;
        season = folderSeason;
      }
      return { season, episodes: [ep], rule: "weak", showText: weak.groups!.show ?? "" };
    }
  }
  return justEpisode(cleaned, folderSeason);
}

function justEpisode(name: string, folderSeason: number | undefined): Read | null {
  for (const rx of JUST_EPISODE_RX) {
    const m = rx.exec(name);
    if (!m) continue;
    let ep = Number(m.groups!.ep);
    const season = folderSeason ?? 1;
    if (folderSeason !== undefined && ep >= 100 && Math.floor(ep / 100) === season) ep %= 100;
    return { season, episodes: [ep], rule: "number", showText: "" };
  }
  return null;
}

function range(first: number, last?: number): number[] {
  if (last === undefined || last <= first || last - first > 50) return [first];
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}
