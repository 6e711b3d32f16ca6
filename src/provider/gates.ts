/**
 * What an automatic match may claim (`provider.matchOnly`): only scenes that are organized,
 * that have a StashDB id, that have a URL. Fix Match still lists the others, marked. Pure.
 */
import { GATE_BIT } from "../domain/scene.ts";

export type MatchGate = "organized" | "stashId" | "url";

const BIT: Record<MatchGate, number> = GATE_BIT;
const WHY: Record<MatchGate, string> = { organized: "not organized", stashId: "no StashDB id", url: "no URL" };

/** The gates a scene fails. */
export const refusedBy = (gates: readonly MatchGate[], bits: number): MatchGate[] =>
  gates.filter((g) => (bits & BIT[g]) === 0);

/** How Fix Match marks a candidate an automatic match would refuse. */
export const refusalNote = (refused: MatchGate[]) => refused.map((g) => WHY[g]).join(", ");
