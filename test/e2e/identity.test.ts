/**
 * Files whose names tell nothing (issue 29): a library of 2,000 scenes where a third of the Plex
 * files are hard-linked copies with tidy names ("Site - 2023-04-12 - Title.mp4") with no path
 * relation to Stash's. One Plex index refresh binds every copy whose size and duration one Stash
 * file has, 0 wrong; copies that share both with another scene's file are resolved by the
 * oshash of the copy where the media are readable here, else listed with their candidates and
 * left unmatched. Real service, real SQLite, the simulators, real files for the readable ones.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createApp, type App } from "../../src/app.ts";
import { silentLogger } from "../../src/log.ts";
import { DEMO_RULES, plexPathFor } from "../../src/demo.ts";
import { oshashOfFile } from "../../src/sync/oshash.ts";
import { createIdentityState } from "../../src/sync/identity-state.ts";
import { rng } from "../../sim/rng.ts";
import { IDENTIFIER, adminGet, post, tempDir, testEnv, waitFor } from "../helpers.ts";
import { runChecks } from "../../src/cli/check.ts";

let stash: StashSim;
let pms: PmsSim;
let app: App;
const tidyDir = tempDir("s2p-tidy-");
/** Copies by scene id: their Plex path, and whether their name was made to share size and duration with another scene's. */
const copies = new Map<string, { path: string; twin?: string; readable?: boolean }>();
const guidOfScene = (id: string) => `${IDENTIFIER}://movie/${id}`;
const itemAt = (path: string) => [...pms.items.values()].find((i) => i.files.includes(path));

beforeAll(async () => {
  stash = new StashSim({ scenes: 2000, seed: 29 }).start();
  pms = new PmsSim().start();
  const random = rng(29);
  const scenes = [...stash.library.scenes.values()].filter(
    (s) => s.files.length === 1 && !s.files[0]!.path.startsWith("D:\\") && s.title,
  );
  const files: string[] = [];
  const copied = scenes.filter((_, i) => i % 3 === 0);
  for (const s of copied) {
    const studio = s.studio?.name ?? "Unknown";
    const path = `/media/Tidy/${studio} - ${s.date ?? "undated"} - Copy ${s.id}.mp4`;
    copies.set(s.id, { path });
  }
  // Pairs whose files share size and duration: the second scene's file made the first's twin.
  const ids = [...copies.keys()];
  for (let k = 0; k < 40; k += 2) {
    const [a, b] = [stash.library.scenes.get(ids[k]!)!, stash.library.scenes.get(ids[k + 1]!)!];
    const readable = k % 4 === 0;
    const [fa, fb] = [a.files[0]!, b.files[0]!];
    if (readable) {
      // Real bytes for the copy of a (a hard link shares them): Stash's oshash of a's file is theirs.
      const size = 256 * 1024 + k * 8;
      const bytes = new Uint8Array(size).map(() => Math.floor(random() * 256));
      const local = join(tidyDir, copies.get(a.id)!.path.slice("/media/Tidy/".length));
      writeFileSync(local, bytes);
      fa.size = size;
      fa.oshash = oshashOfFile(local)!;
    }
    fb.size = fa.size;
    fb.duration = fa.duration + 0.4;
    copies.get(a.id)!.twin = b.id;
    copies.get(a.id)!.readable = readable;
    copies.get(b.id)!.twin = a.id;
    // b's copy has no bytes here (only a's were written): it stays ambiguous.
    copies.get(b.id)!.readable = false;
  }
  for (const s of scenes) {
    const copy = copies.get(s.id);
    const f = s.files[0]!;
    if (copy) {
      files.push(copy.path);
      pms.fileFacts.set(copy.path, { size: f.size, duration: Math.round(f.duration * 1000) - 300 });
    } else files.push(plexPathFor(f.path));
  }
  pms.addSection(
    { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Tidy"] },
    files,
  );
  const rules = [
    ...DEMO_RULES,
    // The tidy folder is mounted here too, read-only: where the copies' bytes can be read.
    { name: "tidy", plex: "^/media/Tidy/(.*)$", stash: `${tidyDir}/$1`, plexRoots: ["/media/Tidy"] },
  ];
  app = createApp(
    loadConfig(testEnv(stash, pms, { PATHS_RULES: JSON.stringify(rules), SYNC_DRAIN_PER_SECOND: "2000" }), undefined),
    { log: silentLogger },
  );
  await app.start(0, "127.0.0.1");
  pms.providerUrl = app.url!;
  await app.stashIndex.refresh();
  await pms.scan("1", { concurrency: 16 });
}, 120_000);
afterAll(async () => {
  await app?.stop();
  await pms?.stop();
  await stash?.stop();
});

describe("copies whose names tell nothing", () => {
  test("one Plex index refresh binds every unambiguous copy to its scene, 0 wrong; ambiguous ones by oshash where readable, else listed", async () => {
    expect(copies.size).toBeGreaterThan(500);
    // After Plex's scan, the copies are not bound: no path rule places them, and their names tell nothing.
    const boundByScan = [...copies.values()].filter((c) => itemAt(c.path)!.guid.startsWith(`${IDENTIFIER}://`));
    expect(boundByScan.length).toBeLessThan(copies.size / 10);
    await app.refreshPlexIndex();
    const state = createIdentityState(app.store);
    let wrong = 0;
    let unboundUnique = 0;
    for (const [sceneId, copy] of copies) {
      const item = itemAt(copy.path)!;
      const ours = item.guid.startsWith(`${IDENTIFIER}://`);
      if (ours && item.guid !== guidOfScene(sceneId)) wrong++;
      if (copy.twin && !copy.readable) {
        // Two scenes share its size and duration and its bytes cannot be read here: never a guess.
        if (ours) wrong += item.guid === guidOfScene(sceneId) ? 0 : 1;
        const listed = state.of(item.ratingKey);
        if (!ours) {
          expect(listed?.how).toBe("ambiguous");
          expect(listed!.candidates.map((c) => c.sceneId).sort()).toEqual([sceneId, copy.twin].sort());
        }
      } else if (item.guid !== guidOfScene(sceneId)) unboundUnique++;
    }
    expect(wrong).toBe(0);
    expect(unboundUnique).toBe(0);
    // The readable twins were told apart by their fingerprint.
    const byHash = [...copies].filter(([, c]) => c.readable && c.twin);
    expect(byHash.length).toBeGreaterThan(0);
    for (const [sceneId, copy] of byHash) {
      const item = itemAt(copy.path)!;
      if (state.of(item.ratingKey)?.how === "oshash") expect(item.guid).toBe(guidOfScene(sceneId));
    }
    expect(byHash.some(([, c]) => state.of(itemAt(c.path)!.ratingKey)?.how === "oshash")).toBe(true);
    // The bound copies get their scene's metadata with the push that follows.
    const sample = [...copies].filter(([, c]) => !c.twin).slice(0, 20);
    expect(
      await waitFor(
        () => sample.every(([id, c]) => itemAt(c.path)!.title === stash.library.scenes.get(id)!.title),
        20_000,
      ),
    ).toBe(true);
  }, 60_000);

  test("the path tester, `check` and the scene's status say how a copy was found, and list the ambiguous ones", async () => {
    const [plainId, plain] = [...copies].find(([, c]) => !c.twin)!;
    const page = await (await adminGet(`${app.url}/ui/paths?path=${encodeURIComponent(plain.path)}`)).text();
    expect(page).toContain(`scene ${plainId}</a> by its exact size and duration`);
    const [, unsure] = [...copies].find(([, c]) => c.twin && !c.readable)!;
    const unsurePage = await (await adminGet(`${app.url}/ui/paths?path=${encodeURIComponent(unsure.path)}`)).text();
    expect(unsurePage).toContain("several Stash files have its size and duration");
    const lines = await runChecks(app.config);
    const line = lines.find((l) => l.what === "files found by identity")!;
    expect(line.detail).toMatch(
      /^\d+ Plex files found only by their size and duration \(\d+\) or fingerprint \([1-9]\d*\); [1-9]\d* left unmatched/,
    );
    expect(line.detail).toMatch(/\/media\/Tidy\/[^\n]+: scenes \d+, \d+ \(mount the media here, read-only/);
    const status = (await (await adminGet(`${app.url}/api/scene-status/${plainId}`)).json()) as {
      items: { foundBy?: string }[];
    };
    expect(status.items.map((i) => i.foundBy)).toContain("size+duration");
  }, 30_000);

  test("Fix Match on a tidily named copy lists its scene first, marked as found by size and duration", async () => {
    const sample = [...copies].filter(([, c]) => !c.twin).slice(0, 40);
    let first = 0;
    for (const [sceneId, copy] of sample) {
      const filename = copy.path.slice("/media/".length); // as PMS sends it: led by the library folder's name
      const parsed = copy.path
        .split("/")
        .at(-1)!
        .replace(/\.mp4$/, "");
      const res = await post(`${app.url}/library/metadata/matches`, { type: 1, manual: 1, filename, title: parsed });
      const found =
        ((await res.json()) as { MediaContainer: { Metadata?: { guid: string; title: string }[] } }).MediaContainer
          .Metadata ?? [];
      if (found[0]?.guid === guidOfScene(sceneId)) {
        first++;
        expect(found[0]!.title).toContain("same size and duration as this file");
      }
    }
    expect(first / sample.length).toBeGreaterThanOrEqual(0.9);
  }, 30_000);
});
