/**
 * Headless Chromium for the dashboard tests: Debian's `chromium` (CHROMIUM_PATH to use
 * another), driven by playwright-core. Tests skip with one clear line when it is missing.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";

export const CHROMIUM = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find(
  (p) => p && existsSync(p),
);
export const SCREENSHOTS = join(import.meta.dir, "../test-output/dashboard");

/** Whether Chromium is there; when it could not be installed (.ci/run tries), one line says the tests were skipped. */
export function browserAvailable(what: string): boolean {
  if (CHROMIUM) return true;
  console.warn(`skipped: ${what}: no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)`);
  return false;
}

export async function launch() {
  const { chromium } = await import("playwright-core");
  mkdirSync(SCREENSHOTS, { recursive: true });
  // The flags keep Chromium off the network it would otherwise call home on (closed here).
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Distinct colours in a screenshot: a blank or broken page has a handful. */
export function distinctColours(file: string): number {
  const png = PNG.sync.read(readFileSync(file));
  const seen = new Set<number>();
  for (let i = 0; i < png.data.length; i += 4 * 7) seen.add(png.data.readUInt32BE(i));
  return seen.size;
}
