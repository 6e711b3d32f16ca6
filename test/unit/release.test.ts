/** The release workflow cannot run here: its file is checked for what a release needs. */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import pkg from "../../package.json" with { type: "json" };

const ROOT = join(import.meta.dir, "../..");
const workflow = parse(readFileSync(join(ROOT, ".github/workflows/release.yml"), "utf8"));

describe("release workflow", () => {
  test("runs on version tags, tests first, then builds and pushes both architectures to GHCR", () => {
    expect(workflow.on.push.tags).toEqual(["v*"]);
    expect(workflow.permissions.packages).toBe("write");
    const testSteps = workflow.jobs.test.steps.map((s: any) => s.run).filter(Boolean);
    expect(testSteps).toEqual(["npm ci", "npm test"]);
    expect(workflow.jobs.image.needs).toBe("test");
    const build = workflow.jobs.image.steps.find((s: any) => String(s.uses).startsWith("docker/build-push-action"));
    expect(build.with.file).toBe("Containerfile");
    expect(build.with.platforms.split(",").sort()).toEqual(["linux/amd64", "linux/arm64"]);
    expect(build.with.push).toBe(true);
    expect(build.with.tags).toContain("ghcr.io/");
    expect(build.with.tags).toContain(":latest");
  });

  test("every action is pinned to a version; the Containerfile builds per TARGETARCH", () => {
    const uses = Object.values(workflow.jobs).flatMap((j: any) => j.steps.map((s: any) => s.uses).filter(Boolean));
    expect(uses.length).toBeGreaterThan(4);
    for (const u of uses) expect(u).toMatch(/^[\w-]+\/[\w-]+@v\d+$/);
    expect(readFileSync(join(ROOT, "Containerfile"), "utf8")).toContain("ARG TARGETARCH");
  });

  test("a LICENSE file says what package.json and the image label say", () => {
    expect(existsSync(join(ROOT, "LICENSE"))).toBe(true);
    expect(readFileSync(join(ROOT, "LICENSE"), "utf8")).toStartWith(`${pkg.license} License`);
    expect(readFileSync(join(ROOT, "Containerfile"), "utf8")).toContain(
      `org.opencontainers.image.licenses="${pkg.license}"`,
    );
  });
});
