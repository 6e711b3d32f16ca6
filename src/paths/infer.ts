/**
 * Path rules inferred from the files both sides list (pure: no I/O). A Plex file and a Stash
 * file of the same name whose paths agree on their last segments vote for the prefix pair
 * left over (`/data/media/Adult/` ↔ `/stash/library/`). The pairs with the most votes are then
 * checked against every file, both ways, and kept when they explain most of what they touch.
 * A rule with a Windows-style side (drive letter, backslashes) ignores case, as NTFS and SMB
 * do; any other must map names exactly.
 */
import type { PathRuleConfig } from "../schema/path-rule.ts";
import { escapeRegex } from "./derive.ts";

export interface Coverage {
  /** Files under the rule's folder on this side. */
  touched: number;
  /** Of those, how many map to a file the other side has. */
  mapped: number;
}

export interface InferredRule {
  rule: PathRuleConfig;
  plex: Coverage;
  stash: Coverage;
}

export interface Inference {
  /** Proposed rules, most files first. Empty when the paths are the same on both sides or nothing agrees. */
  rules: InferredRule[];
  /** Plex files whose name and folder a Stash file shares with the same full path: no rule needed for them. */
  identical: number;
  plexFiles: number;
  stashFiles: number;
}

/** A proposal must explain at least this share of the files under its Plex folder. */
const MIN_PROPOSAL_COVERAGE = 0.5;
/** A name more Stash files share than this says little about where a file is: not worth comparing. */
const MAX_NAMESAKES = 20;
const MAX_RULES = 10;

const isWindows = (path: string) => /^[A-Za-z]:[\\/]/.test(path) || path.startsWith("\\\\");
const separatorOf = (path: string) => (path.includes("\\") && !path.includes("/") ? "\\" : "/");
const segmentsOf = (path: string) => path.normalize("NFC").split(/[\\/]/);

interface Side {
  paths: string[];
  /** Each full path with separators as `/`: exactly, and lower-cased for case-insensitive rules. */
  exact: Set<string>;
  folded: Set<string>;
}

const lower = (s: string) => s.toLowerCase();
const same = (s: string) => s;
const slashed = (path: string) => segmentsOf(path).join("/");

export function inferPathRules(
  plexFiles: readonly string[],
  stashFiles: readonly string[],
  plexRoots: readonly string[] = [],
): Inference {
  const side = (paths: readonly string[]): Side => {
    const exact = new Set(paths.map(slashed));
    return { paths: [...paths], exact, folded: new Set([...exact].map(lower)) };
  };
  const plex = side(plexFiles);
  const stash = side(stashFiles);

  // Names and folders are compared ignoring case while voting; whether a rule may ignore case
  // is decided per rule (a Windows-style side) and checked when measuring it.
  const byName = new Map<string, { path: string; segments: string[] }[]>();
  for (const path of stash.paths) {
    const segments = segmentsOf(path);
    const name = lower(segments.at(-1)!);
    const list = byName.get(name) ?? [];
    list.push({ path, segments });
    byName.set(name, list);
  }

  // Votes: prefix pair → how many files it explains, with one pair of files as its sample.
  const votes = new Map<
    string,
    { plexPrefix: string; stashPrefix: string; count: number; sample: { plex: string; stash: string } }
  >();
  let identical = 0;
  for (const path of plex.paths) {
    if (stash.exact.has(slashed(path))) {
      identical++;
      continue;
    }
    const segments = segmentsOf(path);
    const namesakes = byName.get(lower(segments.at(-1)!)) ?? [];
    if (namesakes.length === 0 || namesakes.length > MAX_NAMESAKES) continue;
    let best = 0;
    let bestOf: typeof namesakes = [];
    for (const other of namesakes) {
      const k = commonTail(segments, other.segments);
      if (k > best) [best, bestOf] = [k, [other]];
      else if (k === best) bestOf.push(other);
    }
    // Two Stash files equally like this one: it cannot tell which prefix is right.
    if (bestOf.length !== 1) continue;
    const other = bestOf[0]!;
    const plexPrefix = prefixOf(path, segments, best);
    const stashPrefix = prefixOf(other.path, other.segments, best);
    const key = `${lower(plexPrefix)}\u0000${lower(stashPrefix)}`;
    const vote = votes.get(key) ?? { plexPrefix, stashPrefix, count: 0, sample: { plex: path, stash: other.path } };
    vote.count++;
    votes.set(key, vote);
  }

  const candidates = [...votes.values()].sort((a, b) => b.count - a.count).slice(0, MAX_RULES * 2);
  const rules: InferredRule[] = [];
  const names = new Set<string>();
  for (const candidate of candidates) {
    if (rules.length >= MAX_RULES || candidate.count < 2) break;
    const overlaps = rules.some((r) => {
      const taken = lower(ruleFolder(r.rule));
      const mine = lower(candidate.plexPrefix);
      return taken.startsWith(mine) || mine.startsWith(taken);
    });
    if (overlaps) continue;
    const caseInsensitive = isWindows(candidate.plexPrefix) || isWindows(candidate.stashPrefix);
    const fold = caseInsensitive ? lower : same;
    const { plexPrefix, stashPrefix } = deepen(
      candidate.plexPrefix,
      candidate.stashPrefix,
      candidate.sample.stash,
      plex.paths,
      plexRoots,
      fold,
    );
    const coverage = measure(plexPrefix, stashPrefix, plex, stash, caseInsensitive);
    if (coverage.plex.mapped < coverage.plex.touched * MIN_PROPOSAL_COVERAGE) continue;
    const name = uniqueName(plexPrefix, names);
    rules.push({
      ...coverage,
      rule: ruleFor(name, plexPrefix, stashPrefix, plexRoots, caseInsensitive, candidate.sample, fold),
    });
  }
  rules.sort((a, b) => b.plex.mapped - a.plex.mapped);
  return { rules, identical, plexFiles: plex.paths.length, stashFiles: stash.paths.length };
}

/** How many last segments two paths share. */
function commonTail(a: string[], b: string[]): number {
  let k = 0;
  while (k < a.length && k < b.length && lower(a[a.length - 1 - k]!) === lower(b[b.length - 1 - k]!)) k++;
  return k;
}

/** The path up to its last `tail` segments, with its trailing separator. */
function prefixOf(path: string, segments: string[], tail: number): string {
  const sep = separatorOf(path);
  return segments.slice(0, segments.length - tail).join(sep) + sep;
}

/**
 * A prefix pair ends where the two sides' paths first differ, which may be above the Plex
 * library folder (`/data/` ↔ `/stash/` when both call it `Adult`). Go down to the library
 * folder while every file under the prefix is there: the rule a person would write.
 */
function deepen(
  plexPrefix: string,
  stashPrefix: string,
  sampleStash: string,
  plexPaths: string[],
  roots: readonly string[],
  fold: (s: string) => string,
) {
  const under = plexPaths.filter((p) => fold(p).startsWith(fold(plexPrefix)));
  const psep = separatorOf(plexPrefix);
  const ssep = separatorOf(stashPrefix);
  for (;;) {
    const next = segmentsOf(under[0]?.slice(plexPrefix.length) ?? "")[0];
    if (!next || under.length === 0) break;
    const deeper = `${plexPrefix}${next}${psep}`;
    const withinRoot = roots.some((root) => fold(`${root.replace(/[\\/]+$/, "")}${psep}`).startsWith(fold(deeper)));
    if (!withinRoot || !under.every((p) => fold(p).startsWith(fold(deeper)))) break;
    plexPrefix = deeper;
    // The folder as Stash spells it (a case-insensitive side may differ): from a file both share.
    stashPrefix = `${stashPrefix}${segmentsOf(sampleStash.slice(stashPrefix.length))[0]}${ssep}`;
  }
  return { plexPrefix, stashPrefix };
}

/** Every file under each side's prefix, mapped to the other side: how many land on a real file. */
function measure(plexPrefix: string, stashPrefix: string, plex: Side, stash: Side, caseInsensitive: boolean) {
  const fold = caseInsensitive ? lower : same;
  const count = (from: Side, fromPrefix: string, to: Side, toPrefix: string): Coverage => {
    const keys = caseInsensitive ? to.folded : to.exact;
    const folded = fold(fromPrefix);
    let touched = 0;
    let mapped = 0;
    for (const path of from.paths) {
      if (!fold(path).startsWith(folded)) continue;
      touched++;
      if (keys.has(fold(slashed(toPrefix + path.slice(fromPrefix.length))))) mapped++;
    }
    return { touched, mapped };
  };
  return { plex: count(plex, plexPrefix, stash, stashPrefix), stash: count(stash, stashPrefix, plex, plexPrefix) };
}

/** The folder a rule covers, from its pattern (`^/data/media/Adult/` → `/data/media/Adult/`). */
const ruleFolder = (rule: PathRuleConfig) => rule.plex.replace(/^\^/, "").replace(/\\(.)/g, "$1");

function uniqueName(plexPrefix: string, names: Set<string>): string {
  const base = segmentsOf(plexPrefix).filter(Boolean).at(-1) ?? "root";
  let name = base;
  for (let n = 2; names.has(name); n++) name = `${base}-${n}`;
  names.add(name);
  return name;
}

function ruleFor(
  name: string,
  plexPrefix: string,
  stashPrefix: string,
  roots: readonly string[],
  caseInsensitive: boolean,
  sample: { plex: string; stash: string },
  fold: (s: string) => string,
): PathRuleConfig {
  const stashSep = separatorOf(stashPrefix);
  const plexSep = separatorOf(plexPrefix);
  const covered = roots.filter((root) => fold(`${root.replace(/[\\/]+$/, "")}${plexSep}`).startsWith(fold(plexPrefix)));
  // The sample as the rule will map it (its prefix spelt as the rule spells it).
  const samplePlex = plexPrefix + sample.plex.slice(plexPrefix.length);
  const sampleStash = stashPrefix + sample.plex.slice(plexPrefix.length).replace(/[\\/]/g, stashSep);
  return {
    name,
    plex: `^${escapeRegex(plexPrefix)}`,
    stash: stashPrefix.replaceAll("$", "$$$$"),
    plexRoots: covered,
    caseInsensitive,
    plexSeparator: plexSep === stashSep ? "keep" : plexSep,
    stashSeparator: plexSep === stashSep ? "keep" : stashSep,
    samples: [{ plex: samplePlex, stash: sampleStash }],
  };
}
