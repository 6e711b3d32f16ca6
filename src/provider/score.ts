/**
 * Pure match scoring: how well a Stash scene fits what PMS parsed from a file. Scene file
 * names are dirty ("Studio.24.01.15.Performer.Title.XXX.1080p.mp4"), so we pull a date and
 * meaningful words out of them and compare with the scene's title, date and studio.
 */
import { normalise, wordsOf } from "../text.ts";
export interface FileClues {
  words: string[];
  date?: string; // YYYY-MM-DD
  year?: number;
  text: string; // normalised full text, for studio detection
}

/** A date in the usual scene-name forms (2024-01-15, 2024.01.15, 24.01.15) and the text it was. */
function dateIn(text: string): { iso: string; text: string } | undefined {
  const full = /(?<!\d)(19\d{2}|20\d{2})[-._ ](\d{2})[-._ ](\d{2})(?!\d)/.exec(text);
  const short = /(?<!\d)(\d{2})[._](\d{2})[._](\d{2})(?!\d)/.exec(text);
  const m = full ?? short;
  if (!m) return undefined;
  const iso = `${full ? m[1] : `20${m[1]}`}-${m[2]}-${m[3]}`;
  const parsed = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(iso) ? { iso, text: m[0] } : undefined;
}

export const findDate = (text: string): string | undefined => dateIn(text)?.iso;

/** Clues from the relative filename (or PMS's parsed title when there is no filename). */
export function cluesFrom(input: { filename?: string; title?: string; year?: number }): FileClues {
  const base = input.filename
    ? input.filename
        .split(/[\\/]/)
        .slice(-2)
        .join(" ")
        .replace(/\.[A-Za-z0-9]{2,4}$/, "")
    : "";
  const raw = [base, input.title ?? ""].join(" ");
  const date = dateIn(raw);
  const text = normalise(raw);
  // The date's digits are not title words; other numbers ("Part 2", "Scene 12") are.
  const words = wordsOf(date ? raw.replaceAll(date.text, " ") : raw);
  return { words, date: date?.iso, year: date ? Number(date.iso.slice(0, 4)) : input.year, text };
}

/** The words worth searching Stash's titles for (the first few: later ones are often tags). */
export const searchWords = (clues: FileClues) => clues.words.slice(0, 6);

export interface Candidate {
  title: string;
  date?: string;
  studio?: string;
}

/** 0–100: title words 60, date 25 (year alone 10), studio named in the path 15. */
export function scoreCandidate(clues: FileClues, candidate: Candidate): number {
  const titleWords = wordsOf(candidate.title);
  const fileWords = new Set(clues.words);
  const hits = titleWords.filter((w) => fileWords.has(w)).length;
  const titleScore = titleWords.length ? hits / titleWords.length : 0;
  let score = titleScore * 60;
  if (clues.date && candidate.date === clues.date) score += 25;
  else if (clues.year && candidate.date?.startsWith(String(clues.year))) score += 10;
  if (candidate.studio) {
    const studio = normalise(candidate.studio);
    const compact = studio.replaceAll(" ", "");
    if (studio && (` ${clues.text} `.includes(` ${studio} `) || clues.text.replaceAll(" ", "").includes(compact)))
      score += 15;
  }
  return Math.round(Math.min(100, score));
}

/** A search result is safe to take without asking the user only when it is clearly best. */
export const AUTO_MATCH_MIN_SCORE = 85;
export const AUTO_MATCH_MIN_LEAD = 10;
export function isConfidentSearchMatch(best: number, runnerUp: number | undefined): boolean {
  return best >= AUTO_MATCH_MIN_SCORE && (runnerUp === undefined || best - runnerUp >= AUTO_MATCH_MIN_LEAD);
}
