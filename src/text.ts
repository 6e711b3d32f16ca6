/**
 * Pure text helpers shared by match scoring and the title index: the same normalisation on
 * both sides is what makes "Café.Noir" in a file name meet "Café Noir" in Stash.
 */

/** Words that say nothing about which scene a file is. */
export const NOISE = new Set([
  "xxx",
  "mp4",
  "mkv",
  "avi",
  "wmv",
  "mov",
  "m4v",
  "webm",
  "1080p",
  "720p",
  "480p",
  "2160p",
  "4k",
  "uhd",
  "hd",
  "sd",
  "x264",
  "x265",
  "h264",
  "h265",
  "hevc",
  "web",
  "webrip",
  "webdl",
  "dl",
  "ktr",
  "the",
  "a",
  "an",
  "and",
  "of",
]);

/** Lower case, accents removed, anything but letters and digits a single space. */
export const normalise = (text: string) =>
  text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();

/** The meaningful words of a text, once each, in order. */
export const wordsOf = (text: string) => [
  ...new Set(
    normalise(text)
      .split(" ")
      .filter((w) => w && !NOISE.has(w)),
  ),
];

/**
 * Whether two words are within `max` edits (insert, delete, substitute, swap of neighbours):
 * "harbr" ~ "harbor", "midnigth" ~ "midnight". Gives up early once a row exceeds `max`.
 */
export function withinEdits(a: string, b: string, max: number): boolean {
  if (Math.abs(a.length - b.length) > max) return false;
  let before = Array.from({ length: b.length + 1 }, (_, j) => j);
  let previous = before;
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
      best = Math.min(best, d);
    }
    if (best > max) return false;
    before = previous;
    previous = row;
  }
  return previous[b.length]! <= max;
}

/** How many edits a word of this length may be off and still count as the same word. */
export const typoAllowance = (word: string) => (word.length >= 8 ? 2 : word.length >= 4 ? 1 : 0);
