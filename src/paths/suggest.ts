/**
 * What the inference found, said for people: coverage lines, the YAML to paste into
 * config.yaml, whether PATHS_AUTO may apply it, and how well the configured rules do (pure).
 */
import { stringify } from "yaml";
import type { PathRuleConfig } from "../schema/path-rule.ts";
import type { PathMapper } from "./mapper.ts";
import type { Inference, InferredRule } from "./infer.ts";

/** PATHS_AUTO applies inferred rules only when each explains this share of the Plex files it touches. */
export const AUTO_MIN_COVERAGE = 0.99;

const n = (x: number) => x.toLocaleString("en-US");

export const coverageOf = (r: InferredRule) => (r.plex.touched ? r.plex.mapped / r.plex.touched : 0);

export function describeRule(r: InferredRule): string {
  return (
    `rule "${r.rule.name}" (${r.rule.plex} → ${r.rule.stash}) maps ${n(r.plex.mapped)} of ${n(r.plex.touched)} Plex files to a Stash file` +
    ` and ${n(r.stash.mapped)} of ${n(r.stash.touched)} Stash files back`
  );
}

/** Whether PATHS_AUTO may apply the inferred rules as they are. */
export const autoApplicable = (inference: Inference) =>
  inference.rules.length > 0 && inference.rules.every((r) => coverageOf(r) >= AUTO_MIN_COVERAGE);

/** The rules as a person writes them in config.yaml: defaults left out. */
export function rulesYaml(rules: readonly PathRuleConfig[]): string {
  const plain = rules.map((r) => ({
    name: r.name,
    plex: r.plex,
    stash: r.stash,
    ...(r.plexRoots.length ? { plexRoots: r.plexRoots } : {}),
    ...(r.caseInsensitive ? { caseInsensitive: true } : {}),
    ...(r.plexSeparator !== "keep" ? { plexSeparator: r.plexSeparator } : {}),
    ...(r.stashSeparator !== "keep" ? { stashSeparator: r.stashSeparator } : {}),
    ...(r.samples.length ? { samples: r.samples } : {}),
  }));
  return stringify({ paths: { rules: plain } });
}

/** One line for what the inference found (no rules needed / nothing / N rules). */
export function summarise(inference: Inference): string {
  const { rules, identical, plexFiles, stashFiles } = inference;
  if (plexFiles === 0 || stashFiles === 0)
    return `nothing to compare yet (${n(plexFiles)} Plex files, ${n(stashFiles)} Stash files)`;
  if (rules.length === 0) {
    return identical * 2 >= plexFiles
      ? `Plex and Stash see the same paths (${n(identical)} of ${n(plexFiles)} Plex files): no rule needed`
      : `no rule explains the paths (${n(plexFiles)} Plex files, ${n(stashFiles)} Stash files, too few names in common)`;
  }
  return `${rules.length} rule(s) proposed from ${n(plexFiles)} Plex files and ${n(stashFiles)} Stash files`;
}

/** How many Plex files the configured rules map to a file Stash has. */
export function configuredCoverage(mapper: PathMapper, plexFiles: readonly string[], stashFiles: readonly string[]) {
  const known = new Set(stashFiles.map((p) => p.normalize("NFC")));
  const mapped = plexFiles.filter((p) => {
    const to = mapper.toStash(p)?.path;
    return to !== undefined && known.has(to.normalize("NFC"));
  }).length;
  return { plexFiles: plexFiles.length, mapped };
}

export interface Suggestion {
  summary: string;
  proposals: {
    rule: PathRuleConfig;
    plex: InferredRule["plex"];
    stash: InferredRule["stash"];
    coverage: number;
    description: string;
  }[];
  /** The proposals as config.yaml text; empty when there is none. */
  yaml: string;
  /** Whether PATHS_AUTO would apply them (each maps ≥ 99% of the Plex files it touches). */
  autoApplicable: boolean;
  /** How the rules in use do now: Plex files mapped to a file Stash has. */
  current: { rules: number; plexFiles: number; mapped: number };
}

/** Everything a person (check, the API, the dashboard) is told about path rules, from both sides' file lists. */
export function suggestionFrom(inference: Inference, current: Suggestion["current"]): Suggestion {
  return {
    summary: summarise(inference),
    proposals: inference.rules.map((r) => ({
      ...r,
      coverage: Math.round(coverageOf(r) * 10_000) / 10_000,
      description: describeRule(r),
    })),
    yaml: inference.rules.length ? rulesYaml(inference.rules.map((r) => r.rule)) : "",
    autoApplicable: autoApplicable(inference),
    current,
  };
}
