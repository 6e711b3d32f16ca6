/**
 * What an automatic match may claim (`provider.matchOnly`): only scenes that are organized,
 * that have a StashDB id, that have a URL. Fix Match still lists the others, marked. Pure.
 */
export type MatchGate = "organized" | "stashId" | "url";

/** The facts the gates look at, as a small bit set (the file index keeps one per scene). */
export function gateBits(scene: { organized?: boolean | null; urls?: string[] | null; stash_ids?: unknown[] | null }): number {
  return (scene.organized ? 1 : 0) | ((scene.stash_ids?.length ?? 0) > 0 ? 2 : 0) | ((scene.urls?.length ?? 0) > 0 ? 4 : 0);
}

const BIT: Record<MatchGate, number> = { organized: 1, stashId: 2, url: 4 };
const WHY: Record<MatchGate, string> = { organized: "not organized", stashId: "no StashDB id", url: "no URL" };

/** The gates a scene fails. */
export const refusedBy = (gates: readonly MatchGate[], bits: number): MatchGate[] => gates.filter((g) => (bits & BIT[g]) === 0);

/** How Fix Match marks a candidate an automatic match would refuse. */
export const refusalNote = (refused: MatchGate[]) => refused.map((g) => WHY[g]).join(", ");
