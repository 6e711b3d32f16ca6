/**
 * Pure text helpers shared by match scoring and the title index: the same normalisation on
 * both sides is what makes "Café.Noir" in a file name meet "Café Noir" in Stash.
 */

/** Words that say nothing about which scene a file is. */
export const NOISE = new Set([
  "xxx", "mp4", "mkv", "avi", "wmv", "mov", "m4v", "webm", "1080p", "720p", "480p", "2160p", "4k", "uhd", "hd", "sd",
  "x264", "x265", "h264", "h265", "hevc", "web", "webrip", "webdl", "dl", "ktr", "the", "a", "an", "and", "of",
]);

/** Lower case, accents removed, anything but letters and digits a single space. */
export const normalise = (text: string) =>
  text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase().replace(/[^\p{L}\p{N}]+/gu, " ").trim();

/** The meaningful words of a text, once each, in order. */
export const wordsOf = (text: string) => [...new Set(normalise(text).split(" ").filter((w) => w && !NOISE.has(w)))];
