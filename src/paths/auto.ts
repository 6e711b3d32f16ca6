/**
 * Path rules from the indexes the service already keeps: `GET /api/paths/suggest` and
 * PATHS_AUTO. The Plex index (SQLite) and the Stash file index hold both sides' file paths;
 * nothing extra is fetched.
 */
import type { Logger } from "../log.ts";
import type { PlexSection } from "../plex/client.ts";
import type { FileIndex } from "../stash/file-index.ts";
import { inferPathRules } from "./infer.ts";
import { compilePathRules, type PathMapper } from "./mapper.ts";
import { configuredCoverage, suggestionFrom, type Suggestion } from "./suggest.ts";

export interface AutoRulesDeps {
  stashIndex: Pick<FileIndex, "ready" | "refresh" | "paths">;
  /** The Plex index (sync/plex-index.ts): every file path of the items in these sections. */
  plexIndex: { files(sectionIds: readonly string[]): string[] };
  sections: () => Promise<PlexSection[]>;
  mapper: PathMapper & { use(next: PathMapper): void };
  /** PATHS_AUTO, and no rules configured. */
  auto: boolean;
  log: Logger;
}

export function createAutoRules(deps: AutoRulesDeps) {
  /** Inferred once; a proposal not good enough is reported once, not at every index refresh. */
  let decided = false;

  async function suggest(): Promise<Suggestion> {
    if (!deps.stashIndex.ready) await deps.stashIndex.refresh();
    const sections = await deps.sections();
    const plexFiles = deps.plexIndex.files(sections.map((s) => s.key));
    const stashFiles = deps.stashIndex.paths();
    const inference = inferPathRules(
      plexFiles,
      stashFiles,
      sections.flatMap((s) => s.locations),
    );
    const current = { rules: deps.mapper.rules.length, ...configuredCoverage(deps.mapper, plexFiles, stashFiles) };
    return suggestionFrom(inference, current);
  }

  return {
    suggest,
    /** With PATHS_AUTO: infer once both sides are indexed and apply when good enough; else say why not. */
    async applyIfAsked(): Promise<void> {
      if (!deps.auto || decided) return;
      const suggestion = await suggest();
      if (suggestion.current.plexFiles === 0) return; // Plex not indexed yet: the next index refresh tries again.
      if (!suggestion.autoApplicable) {
        deps.log.warn(`PATHS_AUTO: no rules applied: ${suggestion.summary}`, {
          proposals: suggestion.proposals.map((p) => p.description),
        });
        decided = true; // Said once; `stash2plex check` and /api/paths/suggest show the details.
        return;
      }
      const { mapper, problems } = compilePathRules(suggestion.proposals.map((p) => p.rule));
      if (problems.length) {
        deps.log.warn("PATHS_AUTO: the inferred rules do not check out; none applied", { problems });
        decided = true;
        return;
      }
      deps.mapper.use(mapper);
      decided = true;
      for (const p of suggestion.proposals) deps.log.info(`PATHS_AUTO: applied inferred path ${p.description}`);
    },
  };
}
