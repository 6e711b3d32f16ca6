/**
 * The container image, as far as this machine allows (test/container/check.sh): built with
 * podman from stand-in base images, then its own /app/stash2plex run from the image's files
 * and asked for a healthy answer. Skipped where podman is not installed or we are not root.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { runProcess } from "../helpers.ts";

const canRun = Boolean(Bun.which("podman")) && process.getuid?.() === 0;

describe.skipIf(!canRun)("container image", () => {
  test("builds from the Containerfile and its binary answers healthy", async () => {
    const { out, err, code } = await runProcess(["bash", join(import.meta.dir, "../container/check.sh")]);
    if (code !== 0) console.error(out.slice(-3000), err.slice(-3000));
    expect(code).toBe(0);
    expect(out).toContain("65532:65532");
    expect(out).toContain("healthy: the image's /app/stash2plex answers /healthz");
  }, 600_000);
});
