/**
 * What users load into their monitoring (issue 18, item 8): the alert rules pass `promtool check
 * rules` and their unit tests (`promtool test rules`), and the Grafana dashboard is importable
 * (its datasource an input chosen at import, panels laid out on Grafana's 24-column grid).
 * promtool comes from Debian's `prometheus` package (.ci/run installs it); without it the promtool
 * tests are skipped, saying so in one line.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "../..");
const promtool = Bun.which("promtool");
if (!promtool) console.log("promtool not installed (apt-get install prometheus): the alert rule checks are skipped");

const run = (...args: string[]) => {
  const p = Bun.spawnSync([promtool!, ...args], {
    cwd: join(root, "deploy/prometheus"),
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: p.exitCode, out: `${p.stdout.toString()}${p.stderr.toString()}` };
};

describe.skipIf(!promtool)("Prometheus alert rules (promtool)", () => {
  test("promtool check rules deploy/prometheus/alerts.yml", () => {
    const { code, out } = run("check", "rules", "alerts.yml");
    expect(out).toContain("SUCCESS: 10 rules found");
    expect(code).toBe(0);
  });

  test("promtool test rules deploy/prometheus/alerts.test.yml", () => {
    const { code, out } = run("test", "rules", "alerts.test.yml");
    expect(out).toContain("SUCCESS");
    expect(code).toBe(0);
  });
});

describe("Grafana dashboard deploy/grafana/stash2plex.json", () => {
  const dashboard = JSON.parse(readFileSync(join(root, "deploy/grafana/stash2plex.json"), "utf8"));
  type Panel = {
    id: number;
    type: string;
    title: string;
    datasource?: { type: string; uid: string };
    gridPos: { x: number; y: number; w: number; h: number };
    targets?: { datasource: { uid: string }; expr: string; refId: string }[];
  };
  const panels: Panel[] = dashboard.panels;

  test("the Prometheus datasource is an import input, used by every panel, query and variable", () => {
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({ name: "DS_PROMETHEUS", type: "datasource", pluginId: "prometheus" }),
    ]);
    const uses = [
      ...panels.filter((p) => p.type !== "row").flatMap((p) => [p.datasource!, ...p.targets!.map((t) => t.datasource)]),
      ...dashboard.templating.list.map((v: { datasource: unknown }) => v.datasource),
    ];
    for (const ds of uses) expect(ds).toEqual({ type: "prometheus", uid: "${DS_PROMETHEUS}" });
    // No datasource of the author's Grafana left behind.
    expect(JSON.stringify(dashboard)).not.toMatch(/"uid":\s*"(?!\$\{DS_PROMETHEUS\}|stash2plex")/);
  });

  test("panels have unique ids, queries and titles, and do not overlap on the 24-column grid", () => {
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    const cells = new Set<string>();
    for (const p of panels) {
      expect([p.title, p.gridPos.x + p.gridPos.w <= 24]).toEqual([p.title, true]);
      if (p.type !== "row")
        expect([p.title, p.targets!.length > 0 && p.targets!.every((t) => t.expr && t.refId)]).toEqual([p.title, true]);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect([p.title, cells.has(`${x},${y}`)]).toEqual([p.title, false]);
          cells.add(`${x},${y}`);
        }
      }
    }
  });
});
