/**
 * Files whose names tell nothing (issue 29): a library of 2,000 scenes where a third of the Plex
 * files are hard-linked copies with tidy names ("Site - 2023-04-12 - Title.mp4") with no path
 * relation to Stash's. One Plex index refresh binds every copy whose size and duration one Stash
 * file has, 0 wrong; copies that share both with another scene's file are resolved by the
 * oshash of the copy where the media are readable here, else listed with their candidates and
 * left unmatched. Copies Plex adds after the last index refresh are bound by one reconcile (the
 * CLI's report, then the API's heal), the same way. Real service, real SQLite, the simulators,
 * real files for the readable ones.
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
import { createPlexClient } from "../../src/plex/client.ts";
import { rng } from "../../sim/rng.ts";
import { IDENTIFIER, runMain, adminAuth, adminGet, post, tempDir, testEnv, waitFor } from "../helpers.ts";
import { gapTotals, type Gap } from "../../src/domain/gaps.ts";
import { runChecks } from "../../src/cli/check.ts";

let stash: StashSim;
let pms: PmsSim;
let app: App;
const tidyDir = tempDir("s2p-tidy-");
/** Copies by scene id: their Plex path, and whether their name was made to share size and duration with another scene's. */
const copies = new Map<string, { path: string; twin?: string; readable?: boolean }>();
/** Copies Plex adds after the last index refresh: only a reconcile can bind them. */
const lateCopies = new Map<string, { path: string; twin?: string; readable?: boolean }>();
let env: Record<string, string>;
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
  const tidyName = (s: (typeof scenes)[number]) =>
    `/media/Tidy/${s.studio?.name ?? "Unknown"} - ${s.date ?? "undated"} - Copy ${s.id}.mp4`;
  for (const s of scenes.filter((_, i) => i % 3 === 0)) copies.set(s.id, { path: tidyName(s) });
  for (const s of scenes.filter((_, i) => i % 12 === 1)) lateCopies.set(s.id, { path: tidyName(s) });
  // Pairs whose files share size and duration: the second scene's file made the first's twin.
  const twin = (set: typeof copies, pairs: number, sizeBase: number) => {
    const ids = [...set.keys()];
    for (let k = 0; k < pairs * 2; k += 2) {
      const [a, b] = [stash.library.scenes.get(ids[k]!)!, stash.library.scenes.get(ids[k + 1]!)!];
      const readable = k % 4 === 0;
      const [fa, fb] = [a.files[0]!, b.files[0]!];
      if (readable) {
        // Real bytes for the copy of a (a hard link shares them): Stash's oshash of a's file is theirs.
        const size = sizeBase + k * 8;
        const bytes = new Uint8Array(size).map(() => Math.floor(random() * 256));
        const local = join(tidyDir, set.get(a.id)!.path.slice("/media/Tidy/".length));
        writeFileSync(local, bytes);
        fa.size = size;
        fa.oshash = oshashOfFile(local)!;
      }
      fb.size = fa.size;
      fb.duration = fa.duration + 0.4;
      set.get(a.id)!.twin = b.id;
      set.get(a.id)!.readable = readable;
      set.get(b.id)!.twin = a.id;
      // b's copy has no bytes here (only a's were written): it stays ambiguous.
      set.get(b.id)!.readable = false;
    }
  };
  twin(copies, 20, 256 * 1024);
  twin(lateCopies, 10, 384 * 1024);
  for (const [id, copy] of lateCopies) {
    const f = stash.library.scenes.get(id)!.files[0]!;
    pms.fileFacts.set(copy.path, { size: f.size, duration: Math.round(f.duration * 1000) + 200 });
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
  env = testEnv(stash, pms, { PATHS_RULES: JSON.stringify(rules), SYNC_DRAIN_PER_SECOND: "2000" });
  app = createApp(loadConfig(env, undefined), { log: silentLogger });
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

  test("copies Plex adds after the last index refresh: one reconcile binds every unambiguous one, 0 wrong; the CLI lists them first, the ambiguous with their candidates", async () => {
    expect(lateCopies.size).toBeGreaterThan(100);
    for (const copy of lateCopies.values()) pms.addItem("1", copy.path);
    const unsure = (c: { twin?: string; readable?: boolean }) => c.twin !== undefined && !c.readable;

    // The CLI's report (a real process, report only): each late copy is unmatched with its scene, or with its candidates.
    const report = await cli("reconcile", "--json");
    expect(report.code).toBe(1);
    const { gaps } = JSON.parse(report.out) as { gaps: Gap[] };
    const tidy = gaps.filter((g) => g.plexPaths.some((p) => p.startsWith("/media/Tidy/")));
    // Copies bound at the index refresh are their scenes' items now, not files Stash does not know.
    expect(tidy.filter((g) => g.kind === "unknown-to-stash")).toEqual([]);
    for (const [sceneId, copy] of lateCopies) {
      const gap = tidy.find((g) => g.plexPaths.includes(copy.path));
      expect(gap?.kind).toBe("unmatched");
      if (unsure(copy)) {
        expect(gap!.sceneId).toBeUndefined();
        expect(gap!.candidates!.map((c) => c.sceneId).sort()).toEqual([sceneId, copy.twin!].sort());
        expect(gap!.reason).toContain("several Stash files have its size and duration");
      } else {
        expect(gap!.sceneId).toBe(sceneId);
        expect(gap!.foundBy).toBe(copy.twin ? "oshash" : "size+duration");
      }
    }
    // The ambiguous copies of the index refresh are listed the same way (nothing new read them).
    const early = [...copies].filter(([, c]) => unsure(c));
    for (const [, copy] of early) expect(tidy.find((g) => g.plexPaths.includes(copy.path))?.candidates?.length).toBe(2);

    // The API's reconcile heals: one run binds them (PMS's match on our GUID), then their scenes are pushed.
    const res = await post(`${app.url}/api/reconcile`, { heal: true }, adminAuth);
    expect(res.status).toBe(202);
    expect(
      await waitFor(
        async () => {
          const state = (await (await adminGet(`${app.url}/api/reconcile`)).json()) as any;
          return state.running === null && state.report?.trigger === "api";
        },
        30_000,
        100,
      ),
    ).toBe(true);
    await pms.idle();
    const state = createIdentityState(app.store);
    let wrong = 0;
    let unbound = 0;
    for (const [sceneId, copy] of lateCopies) {
      const item = itemAt(copy.path)!;
      const ours = item.guid.startsWith(`${IDENTIFIER}://`);
      if (ours && item.guid !== guidOfScene(sceneId)) wrong++;
      if (unsure(copy)) {
        expect(ours).toBe(false); // never a guess
        expect(state.of(item.ratingKey)?.how).toBe("ambiguous");
      } else {
        if (!ours) unbound++;
        expect(state.of(item.ratingKey)?.how).toBe(copy.twin ? "oshash" : "size+duration");
      }
    }
    expect(wrong).toBe(0);
    expect(unbound).toBe(0);
    // The ambiguous ones are a person's: not counted among the gaps this service can heal.
    const run = app.reconciler.reports.lastDone()!;
    const ambiguous = [...lateCopies.values(), ...copies.values()].filter(unsure).length;
    expect(run.unhealable?.unmatched).toBe(ambiguous);
    expect(gapTotals(run, app.manualHeal).forAPerson).toBeGreaterThanOrEqual(ambiguous);
    // Their scenes' metadata lands with the pushes that follow.
    const sample = [...lateCopies].filter(([, c]) => !c.twin).slice(0, 20);
    expect(
      await waitFor(
        () => sample.every(([id, c]) => itemAt(c.path)!.title === stash.library.scenes.get(id)!.title),
        20_000,
      ),
    ).toBe(true);

    // A second report: nothing left to bind among the copies but the ambiguous ones.
    const again = JSON.parse((await cli("reconcile", "--json")).out) as { gaps: Gap[] };
    const left = again.gaps.filter((g) => g.kind === "unmatched" && g.plexPaths[0]?.startsWith("/media/Tidy/"));
    expect(left.every((g) => g.candidates && !g.sceneId)).toBe(true);
    expect(left).toHaveLength(ambiguous);

    // A person picks one's scene (Fix Match: PMS's match): the next index refresh lists it no more.
    const [pickedId, picked] = [...lateCopies].find(([, c]) => unsure(c))!;
    const pickedKey = itemAt(picked.path)!.ratingKey;
    await createPlexClient({ url: pms.url, token: pms.token, timeoutMs: 5000 }).match(
      pickedKey,
      guidOfScene(pickedId),
      "picked",
    );
    await pms.idle();
    await app.refreshPlexIndex();
    expect(state.of(pickedKey)).toBeUndefined();
    expect(state.ambiguousList(1000)).toHaveLength(ambiguous - 1);
  }, 90_000);
});

const cli = (...args: string[]) => runMain(env, args);
