/**
 * `stash2plex reconcile [--heal] [--kinds a,b] [--json]` and `stash2plex sync [--all | --since 7d
 * | --scene ID…]`: one-shot commands beside the running service (same config, same database).
 * Pushes they queue are made by the service's worker. Exit codes: reconcile 0 when no gap
 * remains, 1 when some do or the run failed; sync 0 when queued; 2 for a usage error.
 */
import { createApp } from "../app.ts";
import type { Config } from "../config/schema.ts";
import { createLogger } from "../log.ts";
import { GAP_KINDS, isGapKind, type GapKind } from "../domain/gaps.ts";
import type { Progress, ReconcileResult } from "../gaps/reconcile.ts";
import { describeScope, syncScope } from "../sync/select.ts";
import { DEFAULT_INSTANCE_ID } from "../domain/ref.ts";

const quietApp = (config: Config) =>
  createApp(config, {
    drain: false,
    log: createLogger({ level: "warn", format: "pretty", write: (line) => process.stderr.write(`${line}\n`) }),
  });

/** The value after a flag, for `--kinds a,b` and `--since 7d`. */
const flagValue = (args: string[], flag: string) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};

function bar(p: Progress): string {
  const seconds = (Date.now() - p.startedAt) / 1000;
  const rate = p.done / Math.max(seconds, 0.001);
  const share = p.total ? Math.min(1, p.done / p.total) : 0;
  const eta = rate > 0 && p.total ? Math.max(0, (p.total - p.done) / rate) : NaN;
  const filled = Math.round(share * 24);
  return (
    `${p.phase.padEnd(5)} [${"#".repeat(filled)}${".".repeat(24 - filled)}] ${p.done}/${p.total || "?"} ${Math.round(rate)}/s` +
    (Number.isFinite(eta) ? ` ETA ${Math.round(eta)} s` : "")
  );
}

/** The CLI's report in lines: counts per kind, examples, and what was kept in Plex or skipped (pure). */
export function reconcileTable(result: ReconcileResult): string[] {
  const { run } = result;
  const lines = [
    `reconciled ${run.scenes} Stash scenes with ${run.items} Plex items in ${((run.finishedAt - run.startedAt) / 1000).toFixed(1)} s`,
    "",
  ];
  lines.push(`${"kind".padEnd(18)}${"found".padStart(7)}${"healed".padStart(8)}`);
  for (const kind of GAP_KINDS) {
    const found = run.counts[kind] ?? 0;
    if (found) lines.push(`${kind.padEnd(18)}${String(found).padStart(7)}${String(run.healed[kind] ?? 0).padStart(8)}`);
  }
  if (lines.length === 3) lines.push("no gaps: Plex shows what Stash holds");
  const examples = GAP_KINDS.flatMap((k) => result.gaps.filter((g) => g.kind === k).slice(0, 3));
  if (examples.length) lines.push("", "for example:", ...examples.map((g) => `  ${g.kind}: ${g.reason}`));
  // Not gaps, but a person reading the table must not think them missed: the user's locks, and sections left out.
  const kept = run.keptItems ?? [];
  if (kept.length) {
    const n = run.kept ?? kept.length;
    lines.push(
      "",
      `kept in Plex (fields locked there that differ from Stash, never healed): ${n} item${n === 1 ? "" : "s"}`,
      ...kept
        .slice(0, 3)
        .map(
          (k) =>
            `  scene ${k.instance && k.instance !== DEFAULT_INSTANCE_ID ? `${k.instance}:` : ""}${k.sceneId} (Plex item ${k.ratingKey}): ${k.fields.join(", ")}`,
        ),
    );
  }
  if (run.skipped?.length)
    lines.push(
      "",
      "sections skipped:",
      ...run.skipped.map((s) => `  "${s.title}" (section ${s.key}, agent ${s.agent}): ${s.reason}`),
    );
  return lines;
}

export async function reconcileCommand(config: Config, args: string[]): Promise<number> {
  if (!config.plex.url) {
    console.error("reconcile compares Stash with Plex: set PLEX_URL and PLEX_TOKEN");
    return 2;
  }
  const kindsText = flagValue(args, "--kinds");
  const kinds = kindsText
    ?.split(",")
    .map((k) => k.trim())
    .filter(Boolean);
  const unknown = kinds?.filter((k) => !isGapKind(k)) ?? [];
  if (unknown.length) {
    console.error(`unknown gap kind ${unknown.join(", ")} (known: ${GAP_KINDS.join(", ")})`);
    return 2;
  }
  const app = quietApp(config);
  const heal = args.includes("--heal") ? app.manualHeal : [];
  const tty = process.stderr.isTTY && !args.includes("--json");
  const ticker = tty
    ? setInterval(() => app.reconciler.progress && process.stderr.write(`\r${bar(app.reconciler.progress)}   `), 200)
    : undefined;
  const indexes = [app.stashIndex, ...app.instanceProviders.map((o) => o.index)];
  try {
    // Copies whose names tell nothing are found in each instance's index of Stash's files. This
    // process has its own (a running service holds its file): brought up to date first, a delta
    // from the file the service left, or a whole build when the service holds it.
    await Promise.all(indexes.map((index) => index.refresh()));
    const result = await app.reconciler.run({ heal, kinds: kinds as GapKind[] | undefined, trigger: "cli" });
    if (tty) process.stderr.write("\r\x1b[K");
    if (args.includes("--json")) console.log(JSON.stringify({ run: result.run, gaps: result.gaps }));
    else console.log(reconcileTable(result).join("\n"));
    const remaining = GAP_KINDS.reduce((n, k) => n + (result.run.counts[k] ?? 0) - (result.run.healed[k] ?? 0), 0);
    if (heal.length && !args.includes("--json"))
      console.log(
        `\nhealing queued; the running service pushes the changes (see /api/status). ${remaining} gap(s) need a person.`,
      );
    return remaining === 0 ? 0 : 1;
  } catch (err) {
    if (tty) process.stderr.write("\r\x1b[K");
    console.error((err as Error).message);
    return 1;
  } finally {
    clearInterval(ticker);
    for (const index of indexes) index.close();
    app.store.close();
  }
}

export async function syncCommand(config: Config, args: string[]): Promise<number> {
  if (!config.plex.url) {
    console.error("sync pushes to Plex: set PLEX_URL and PLEX_TOKEN");
    return 2;
  }
  const ids = args.includes("--scene")
    ? args.slice(args.indexOf("--scene") + 1).filter((a) => !a.startsWith("--"))
    : undefined;
  const scope = syncScope({
    all: args.includes("--all") || undefined,
    since: flagValue(args, "--since"),
    sceneIds: ids,
  });
  if (typeof scope === "string") {
    console.error(`usage: stash2plex sync --all | --since 7d | --scene ID… (${scope})`);
    return 2;
  }
  const app = quietApp(config);
  try {
    const queued = await app.sync(scope);
    console.log(
      `queued ${queued} scene(s) (${describeScope(scope)}); the running service pushes them to Plex (see /api/status)`,
    );
    return 0;
  } catch (err) {
    console.error(`sync: ${(err as Error).message}`);
    return 1;
  } finally {
    app.store.close();
  }
}
