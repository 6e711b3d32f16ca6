/**
 * The artwork gap (pure): an item of ours that Plex shows without a poster or background while
 * Stash has a screenshot for its scene, or that holds an older version than Stash's (our record
 * of what we uploaded says which). PMS cannot fetch our image URLs on a LAN (artwork.ts), so a
 * missing image stays missing until it is uploaded.
 */
import type { Gap } from "../domain/gaps.ts";
import type { StashScene } from "../schema/stash.ts";
import type { ArtElement, ArtRecord } from "../sync/artwork-state.ts";
import { ART_FIELD, ELEMENTS, screenshotOf, sourceKey } from "../sync/artwork.ts";

const NAMES: Record<ArtElement, string> = { posters: "poster", arts: "background" };

export function artworkGap(
  scene: StashScene,
  item: { ratingKey: string; sectionId: string; files: string[] },
  shown: { thumb?: unknown; art?: unknown },
  recorded: Partial<Record<ArtElement, ArtRecord>>,
): Omit<Gap, "instance"> | null {
  const shot = screenshotOf(scene);
  if (!shot) return null;
  const missing = ELEMENTS.filter((e) => !(typeof shown[ART_FIELD[e]] === "string" && shown[ART_FIELD[e]]));
  // A record of an unknown version (uploaded when the item was first seen) is checked by its bytes at the next push, not reported.
  const old = ELEMENTS.filter((e) => {
    const r = recorded[e];
    return !missing.includes(e) && r && !r.source.endsWith("@") && r.source !== sourceKey(shot);
  });
  if (!missing.length && !old.length) return null;
  const parts = [
    ...(missing.length ? [`Plex holds no ${missing.map((e) => NAMES[e]).join(" or ")} for it`] : []),
    ...(old.length
      ? [`its ${old.map((e) => NAMES[e]).join(" and ")} is an older version of the scene's screenshot`]
      : []),
  ];
  return {
    kind: "artwork",
    sceneId: scene.id,
    ratingKey: item.ratingKey,
    sectionId: item.sectionId,
    plexPaths: item.files,
    stashPaths: scene.files.map((f) => f.path),
    image: shot,
    reason: `${parts.join("; ")} (Plex cannot fetch images from a LAN address: stash2plex uploads them)`,
  };
}
