/**
 * Two looks at one item's artwork at once (found by the chaos soak: one movie item kept an older
 * cover while our record said it held the newest). The Plex index job's first look at an item
 * fetches the cover Stash has then; a push for the same item, its cover replaced meanwhile,
 * fetches and uploads the new one. Whichever comes second must not leave Plex showing the older
 * bytes. Real PMS simulator over HTTP, the real Plex client, the real keeper and SQLite; Stash's
 * image answers are held back by the test so the two looks overlap as they did in the soak.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { PmsSim } from "../../sim/plex/server.ts";
import { hashOf } from "../../sim/plex/artwork.ts";
import { createPlexClient } from "../../src/plex/client.ts";
import { openStore } from "../../src/store/db.ts";
import { createArtworkKeeper } from "../../src/sync/artwork.ts";
import { createArtworkState } from "../../src/sync/artwork-state.ts";
import { tempDir } from "../helpers.ts";

let pms: PmsSim | undefined;
afterEach(() => {
  pms?.stop();
  pms = undefined;
});

const OLD = new Uint8Array(64).fill(1);
const NEW = new Uint8Array(64).fill(2);

/** Stash's image endpoint as the test drives it: each answer waits until the test lets it go. */
function heldStash() {
  const waiting: { release: (bytes: Uint8Array) => void }[] = [];
  return {
    waiting,
    stash: {
      image: () =>
        new Promise<Response>((resolve) =>
          waiting.push({
            release: (bytes) => resolve(new Response(bytes, { headers: { "content-type": "image/jpeg" } })),
          }),
        ),
    },
  };
}

async function until(check: () => boolean) {
  for (let i = 0; i < 500 && !check(); i++) await Bun.sleep(2);
  expect(check()).toBe(true);
}

function world() {
  pms = new PmsSim().start();
  const item = pms.createItem("1", { title: "Scene 7", guid: "tv.plex.agents.custom.stash2plex://movie/7" });
  const plex = createPlexClient({ url: pms.url, token: pms.token, timeoutMs: 5000 });
  const held = heldStash();
  const keeper = createArtworkKeeper({ plex, state: createArtworkState(openStore(tempDir())), stash: held.stash });
  const holds = () => pms!.artwork.heldBy(item, "posters")?.hash;
  return { item, keeper, held, holds };
}

describe("one item's artwork looked at twice at once", () => {
  test("the first look fetched the old cover, a push uploads the new one meanwhile: Plex ends with the new one, and the next look uploads nothing", async () => {
    const { item, keeper, held, holds } = world();
    const first = keeper.firstSeen([{ ratingKey: item.ratingKey, sceneId: "7" }]);
    await until(() => held.waiting.length === 1);
    // The cover is replaced in Stash; a push sees its new version.
    const v2 = { kind: "scene" as const, id: "7", version: "1700000000" };
    const push = keeper.keep([{ ratingKey: item.ratingKey, posters: v2, arts: v2 }]);
    // Where the push may fetch while the first look is under way, it does, and finishes first
    // (the order the soak met); where it must wait for the first look, it never fetches here.
    for (let i = 0; i < 50 && held.waiting.length < 2; i++) await Bun.sleep(2);
    if (held.waiting.length === 2) {
      held.waiting[1]!.release(NEW);
      await push;
    }
    // The first look's fetch answers with what Stash had when it asked: the old cover. Every
    // later fetch answers with the new one.
    held.waiting[0]!.release(OLD);
    const answer = setInterval(() => {
      for (const w of held.waiting.splice(1)) w.release(NEW);
    }, 1);
    try {
      await Promise.all([first, push]);
    } finally {
      clearInterval(answer);
    }
    expect(holds()).toBe(hashOf(NEW));
    const uploadsBefore = item.uploads.posters + item.uploads.arts;
    const again = await keeper.keep([{ ratingKey: item.ratingKey, posters: v2, arts: v2 }]);
    expect(again.uploaded).toBe(0);
    expect(item.uploads.posters + item.uploads.arts).toBe(uploadsBefore);
  });
});
