/**
 * Reconcile reports in SQLite: each run's counts per kind and the first gaps of each kind
 * (paged by the API). A run is written in one transaction when it ends; a failed run keeps
 * its error and no gaps, so nothing half-written is ever shown as a result.
 */
import type { Store } from "../store/db.ts";
import type { Gap, GapKind, KeptItem, SkippedSection } from "../domain/gaps.ts";

/** Gaps kept per kind and run: enough to act on, bounded however large the drift. */
export const KEPT_PER_KIND = 1000;
/** Runs kept. */
const KEPT_RUNS = 20;

export interface RunSummary {
  id: number;
  startedAt: number;
  finishedAt: number;
  status: "done" | "failed";
  trigger: string;
  error: string | null;
  scenes: number;
  items: number;
  counts: Partial<Record<GapKind, number>>;
  healed: Record<string, number>;
  /** Items with fields locked in Plex that differ from Stash (not gaps: the user's decision). */
  kept?: number;
  /** The first of them (KEPT_PER_KIND), with the fields. */
  keptItems?: KeptItem[];
  /** Sections left out, with why. */
  skipped?: SkippedSection[];
  /** Gaps of a kind that heals with no action for these (an item several scenes may be): a person's. */
  unhealable?: Partial<Record<GapKind, number>>;
}

/** What a run keeps besides counts and gaps (the notes column). */
type Notes = Pick<RunSummary, "kept" | "keptItems" | "skipped" | "unhealable">;

/** Gaps of a healable kind no heal can act on: an unmatched item with several candidate scenes and none chosen. */
export function unhealableOf(gaps: readonly Gap[]): Partial<Record<GapKind, number>> {
  const n = gaps.filter((g) => g.kind === "unmatched" && !g.sceneId).length;
  return n ? { unmatched: n } : {};
}

interface RunRow {
  id: number;
  started_at: number;
  finished_at: number;
  status: "done" | "failed";
  trigger: string;
  error: string | null;
  scenes: number;
  items: number;
  counts: string;
  healed: string;
  notes: string;
}
const summary = (r: RunRow): RunSummary => ({
  id: r.id,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  status: r.status,
  trigger: r.trigger,
  error: r.error,
  scenes: r.scenes,
  items: r.items,
  counts: JSON.parse(r.counts),
  healed: JSON.parse(r.healed),
  ...(JSON.parse(r.notes) as Notes),
});

export function createReports(store: Store) {
  const { db } = store;
  const insertRun = db.query<
    { id: number },
    [number, number, string, string, string | null, number, number, string, string, string]
  >(`
    INSERT INTO reconcile_runs (started_at, finished_at, status, trigger, error, scenes, items, counts, healed, notes)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`);
  const insertGap = db.query("INSERT INTO reconcile_gaps (run_id, kind, seq, gap) VALUES (?, ?, ?, ?)");

  return {
    save: db.transaction((run: Omit<RunSummary, "id">, gaps: Gap[]): number => {
      const { id } = insertRun.get(
        run.startedAt,
        run.finishedAt,
        run.status,
        run.trigger,
        run.error,
        run.scenes,
        run.items,
        JSON.stringify(run.counts),
        JSON.stringify(run.healed),
        JSON.stringify({
          kept: run.kept,
          keptItems: run.keptItems?.slice(0, KEPT_PER_KIND),
          skipped: run.skipped,
          unhealable: run.unhealable,
        } satisfies Notes),
      )!;
      const seq = new Map<string, number>();
      for (const gap of gaps) {
        const n = seq.get(gap.kind) ?? 0;
        if (n >= KEPT_PER_KIND) continue;
        seq.set(gap.kind, n + 1);
        insertGap.run(id, gap.kind, n, JSON.stringify(gap));
      }
      db.query(
        "DELETE FROM reconcile_runs WHERE id NOT IN (SELECT id FROM reconcile_runs ORDER BY id DESC LIMIT ?)",
      ).run(KEPT_RUNS);
      return id;
    }),
    last: (): RunSummary | undefined => {
      const row = db.query<RunRow, []>("SELECT * FROM reconcile_runs ORDER BY id DESC LIMIT 1").get();
      return row ? summary(row) : undefined;
    },
    /** The last run that completed (a failed run does not replace its report). */
    lastDone: (): RunSummary | undefined => {
      const row = db
        .query<RunRow, []>("SELECT * FROM reconcile_runs WHERE status = 'done' ORDER BY id DESC LIMIT 1")
        .get();
      return row ? summary(row) : undefined;
    },
    gaps(runId: number, kind: GapKind | undefined, offset: number, limit: number): Gap[] {
      const rows = kind
        ? db
            .query<{ gap: string }, [number, string, number, number]>(
              "SELECT gap FROM reconcile_gaps WHERE run_id = ? AND kind = ? ORDER BY seq LIMIT ? OFFSET ?",
            )
            .all(runId, kind, limit, offset)
        : db
            .query<{ gap: string }, [number, number, number]>(
              "SELECT gap FROM reconcile_gaps WHERE run_id = ? ORDER BY kind, seq LIMIT ? OFFSET ?",
            )
            .all(runId, limit, offset);
      return rows.map((r) => JSON.parse(r.gap) as Gap);
    },
  };
}
export type Reports = ReturnType<typeof createReports>;
