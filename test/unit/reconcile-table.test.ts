import { describe, expect, test } from "bun:test";
import { reconcileTable } from "../../src/cli/reconcile.ts";
import type { ReconcileResult } from "../../src/gaps/reconcile.ts";

const run = (extra: Partial<ReconcileResult["run"]> = {}): ReconcileResult => ({
  run: {
    id: 1,
    startedAt: 0,
    finishedAt: 2_500,
    status: "done",
    trigger: "cli",
    error: null,
    scenes: 200,
    items: 198,
    counts: {},
    healed: {},
    ...extra,
  },
  gaps: [],
});

describe("the CLI's reconcile table", () => {
  test("no gaps, nothing kept or skipped: one line says so", () => {
    const lines = reconcileTable(run());
    expect(lines[0]).toBe("reconciled 200 Stash scenes with 198 Plex items in 2.5 s");
    expect(lines).toContain("no gaps: Plex shows what Stash holds");
    expect(lines.join("\n")).not.toMatch(/kept|skipped/);
  });

  test("items kept in Plex (locked fields) and skipped sections are listed, not left to --json", () => {
    const lines = reconcileTable(
      run({
        kept: 5,
        keptItems: [
          { ratingKey: "345", sceneId: "12", instance: "default", fields: ["title"] },
          { ratingKey: "346", sceneId: "9", instance: "vault", fields: ["studio", "summary"] },
        ],
        skipped: [{ key: "3", title: "Home Videos", agent: "tv.plex.agents.none", reason: "its agent is not ours" }],
      }),
    ).join("\n");
    expect(lines).toContain("no gaps: Plex shows what Stash holds");
    expect(lines).toContain("kept in Plex (fields locked there that differ from Stash, never healed): 5 items");
    expect(lines).toContain("  scene 12 (Plex item 345): title");
    expect(lines).toContain("  scene vault:9 (Plex item 346): studio, summary");
    expect(lines).toContain(
      'sections skipped:\n  "Home Videos" (section 3, agent tv.plex.agents.none): its agent is not ours',
    );
  });
});
