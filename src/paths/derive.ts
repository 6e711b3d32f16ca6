/**
 * Derives the Stash → Plex direction of a path rule from its Plex → Stash direction.
 * Possible when the Plex pattern is literal text and capture groups (optionally anchored):
 * the literal text becomes the reverse replacement and each group's sub-pattern comes back
 * where the replacement used it. Anything else (a top-level `.*`, alternation, a class)
 * cannot be inverted mechanically, and the rule must give `reverse` explicitly.
 */

type Piece = { literal: string } | { group: number; name?: string; pattern: string };

const META = new Set([".", "*", "+", "?", "[", "]", "{", "}", "|", "(", ")", "^", "$"]);
const LITERAL_ESCAPES = new Set([..."\\/.*+?()[]{}|^$-"]);

function parsePattern(source: string): { pieces: Piece[]; start: boolean; end: boolean } | string {
  let src = source;
  const start = src.startsWith("^");
  if (start) src = src.slice(1);
  const end = src.endsWith("$") && !src.endsWith("\\$");
  if (end) src = src.slice(0, -1);
  const pieces: Piece[] = [];
  let group = 0;
  const pushLiteral = (ch: string) => {
    const last = pieces.at(-1);
    if (last && "literal" in last) last.literal += ch;
    else pieces.push({ literal: ch });
  };
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === "\\") {
      const next = src[i + 1];
      if (next === undefined || !LITERAL_ESCAPES.has(next)) return `"\\${next ?? ""}" is not literal text`;
      pushLiteral(next);
      i++;
    } else if (ch === "(") {
      let depth = 1;
      let j = i + 1;
      for (; j < src.length && depth > 0; j++) {
        if (src[j] === "\\") j++;
        else if (src[j] === "(") depth++;
        else if (src[j] === ")") depth--;
      }
      if (depth !== 0) return "unbalanced parentheses";
      let inner = src.slice(i + 1, j - 1);
      let name: string | undefined;
      const named = /^\?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(inner);
      if (named) {
        name = named[1];
        inner = inner.slice(named[0].length);
      } else if (inner.startsWith("?")) return "only capturing groups can be inverted";
      if (/(^|[^\\])\((?!\?:)/.test(inner)) return "nested capturing groups cannot be inverted";
      pieces.push({ group: ++group, name, pattern: inner });
      i = j - 1;
    } else if (META.has(ch)) {
      return `"${ch}" outside a group cannot be inverted`;
    } else pushLiteral(ch);
  }
  return { pieces, start, end };
}

// Not "-": outside a class it is literal, and `\-` is a syntax error under the `u` flag the
// rules compile with. Not "/": a pattern is no regex literal, so `/data/` reads as a person writes it.
export const escapeRegex = (text: string) => text.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
const escapeReplacement = (text: string) => text.replaceAll("$", "$$$$");

/** The reverse rule, or a sentence saying why there is none. */
export function deriveReverse(plexPattern: string, stashReplacement: string): { stash: string; plex: string } | string {
  const parsed = parsePattern(plexPattern);
  if (typeof parsed === "string") return parsed;
  const groups = parsed.pieces.filter((p): p is Extract<Piece, { group: number }> => "group" in p);
  const used = new Set<number>();
  let reversePattern = parsed.start ? "^" : "";
  let last = 0;
  const refs = /\$(?:(\d+)|<([A-Za-z_][A-Za-z0-9_]*)>|\$)/g;
  for (let m = refs.exec(stashReplacement); m; m = refs.exec(stashReplacement)) {
    reversePattern += escapeRegex(stashReplacement.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[0] === "$$") {
      reversePattern += "\\$";
      continue;
    }
    const g = m[1] ? groups.find((x) => x.group === Number(m[1])) : groups.find((x) => x.name === m[2]);
    if (!g) return `the replacement refers to ${m[0]}, which the pattern does not capture`;
    if (used.has(g.group)) return `the replacement uses ${m[0]} twice`;
    used.add(g.group);
    reversePattern += `(?<g${g.group}>${g.pattern})`;
  }
  reversePattern += escapeRegex(stashReplacement.slice(last));
  if (parsed.end) reversePattern += "$";
  if (used.size !== groups.length) return "every captured group must be used in the replacement";
  const reverseReplacement = parsed.pieces
    .map((p) => ("literal" in p ? escapeReplacement(p.literal) : `$<g${p.group}>`))
    .join("");
  return { stash: reversePattern, plex: reverseReplacement };
}
