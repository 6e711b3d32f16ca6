/**
 * The path mapper (pure: no I/O). Plex and Stash usually see the same files under different
 * mounts; ordered, named rules translate between them. The first rule whose pattern matches
 * wins, and it applies one substitution. Paths are compared in Unicode NFC so a rule typed on
 * Linux still matches a name that macOS stored decomposed (NFD).
 */
import type { PathRuleConfig } from "../schema/path-rule.ts";
import { deriveReverse } from "./derive.ts";

export interface Direction {
  pattern: RegExp;
  replacement: string;
  separator: "keep" | "/" | "\\";
}

export interface PathRule {
  name: string;
  toStash: Direction;
  toPlex: Direction;
  plexRoots: string[];
  samples: { plex: string; stash: string }[];
}

export interface Mapped {
  rule: string;
  path: string;
}

export interface PathMapper {
  readonly rules: readonly PathRule[];
  toStash(plexPath: string): Mapped | null;
  toPlex(stashPath: string): Mapped | null;
  /** Absolute Plex paths a library-relative `filename` from PMS may stand for. */
  plexCandidates(relative: string): string[];
}

const nfc = (s: string) => s.normalize("NFC");

function apply(direction: Direction, input: string): string | null {
  const source = nfc(input);
  if (!direction.pattern.test(source)) return null;
  // A non-global regex replaces its first match only: exactly one substitution.
  const replaced = source.replace(direction.pattern, direction.replacement);
  return direction.separator === "keep" ? replaced : replaced.replace(/[\\/]/g, direction.separator);
}

function mapWith(rules: readonly PathRule[], input: string, pick: (r: PathRule) => Direction): Mapped | null {
  if (rules.length === 0) return { rule: "(identity)", path: input };
  for (const rule of rules) {
    const path = apply(pick(rule), input);
    if (path !== null) return { rule: rule.name, path };
  }
  return null;
}

/** Joins a root and a relative path with the root's own separator style. */
function joinRoot(root: string, rest: string): string {
  const sep = root.includes("\\") && !root.includes("/") ? "\\" : "/";
  return root.replace(/[\\/]+$/, "") + sep + rest.replace(/[\\/]/g, sep);
}

export function createPathMapper(rules: readonly PathRule[]): PathMapper {
  return {
    rules,
    toStash: (plexPath) => mapWith(rules, plexPath, (r) => r.toStash),
    toPlex: (stashPath) => mapWith(rules, stashPath, (r) => r.toPlex),
    plexCandidates(relative) {
      const clean = nfc(relative).replace(/^[\\/]+/, "");
      const [head, ...rest] = clean.split(/[\\/]/);
      if (!head || rest.length === 0) return [];
      const out: string[] = [];
      for (const rule of rules) {
        for (const root of rule.plexRoots) {
          const rootName =
            nfc(root)
              .replace(/[\\/]+$/, "")
              .split(/[\\/]/)
              .at(-1) ?? "";
          const same = rule.toStash.pattern.flags.includes("i")
            ? rootName.toLowerCase() === head.toLowerCase()
            : rootName === head;
          if (same) out.push(joinRoot(nfc(root), rest.join("/")));
        }
      }
      return [...new Set(out)];
    },
  };
}

/**
 * A mapper whose rules can be replaced while everything holds on to it (PATHS_AUTO applies
 * inferred rules once both indexes are built; the provider and the pusher keep this object).
 */
export function createSwappableMapper(initial: PathMapper): PathMapper & { use(next: PathMapper): void } {
  let current = initial;
  return {
    get rules() {
      return current.rules;
    },
    toStash: (plexPath) => current.toStash(plexPath),
    toPlex: (stashPath) => current.toPlex(stashPath),
    plexCandidates: (relative) => current.plexCandidates(relative),
    use(next) {
      current = next;
    },
  };
}

/** Compiles configured rules; every problem is one readable line naming the rule. */
export function compilePathRules(configs: readonly PathRuleConfig[]): { mapper: PathMapper; problems: string[] } {
  const problems: string[] = [];
  const rules: PathRule[] = [];
  const names = new Set<string>();
  for (const [index, c] of configs.entries()) {
    const label = `paths.rules[${index}] "${c.name}"`;
    if (names.has(c.name)) problems.push(`${label}: the name is used by an earlier rule; names must be unique`);
    names.add(c.name);
    const flags = c.caseInsensitive ? "iu" : "u";
    const compile = (source: string, what: string): RegExp | null => {
      try {
        return new RegExp(nfc(source), flags);
      } catch (err) {
        problems.push(`${label}: ${what} is not a valid regex (${(err as Error).message})`);
        return null;
      }
    };
    const forward = compile(c.plex, "plex");
    let reverse = c.reverse;
    if (!reverse && forward) {
      const derived = deriveReverse(nfc(c.plex), nfc(c.stash));
      if (typeof derived === "string") {
        problems.push(`${label}: cannot derive the Stash → Plex direction (${derived}); add reverse: {stash, plex}`);
      } else reverse = derived;
    }
    const backward = reverse ? compile(reverse.stash, "reverse.stash") : null;
    if (!forward || !backward || !reverse) continue;
    rules.push({
      name: c.name,
      toStash: { pattern: forward, replacement: nfc(c.stash), separator: c.stashSeparator ?? "keep" },
      toPlex: { pattern: backward, replacement: nfc(reverse.plex), separator: c.plexSeparator ?? "keep" },
      plexRoots: c.plexRoots ?? [],
      samples: c.samples ?? [],
    });
  }
  const mapper = createPathMapper(rules);
  if (problems.length === 0) problems.push(...checkSamples(mapper));
  return { mapper, problems };
}

/** Every sample must map both ways, through its own rule, and round-trip. */
export function checkSamples(mapper: PathMapper): string[] {
  const problems: string[] = [];
  for (const rule of mapper.rules) {
    for (const sample of rule.samples) {
      const where = `path rule "${rule.name}", sample ${JSON.stringify(sample.plex)}`;
      const toStash = mapper.toStash(sample.plex);
      if (toStash?.path !== nfc(sample.stash)) {
        problems.push(`${where}: Plex → Stash expected ${JSON.stringify(sample.stash)}, got ${describe(toStash)}`);
      }
      const toPlex = mapper.toPlex(sample.stash);
      if (toPlex?.path !== nfc(sample.plex)) {
        problems.push(`${where}: Stash → Plex expected ${JSON.stringify(sample.plex)}, got ${describe(toPlex)}`);
      }
      if (toStash && toStash.rule !== rule.name) {
        problems.push(`${where}: an earlier rule "${toStash.rule}" catches this path first; reorder the rules`);
      }
    }
  }
  return problems;
}

const describe = (m: Mapped | null) => (m ? `${JSON.stringify(m.path)} (rule "${m.rule}")` : "no rule matching");
