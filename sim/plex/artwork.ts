/**
 * Artwork as a real PMS holds it, after the evidence (shared/plex/real-pms-evidence.md §2, §3):
 * - CONFIRMED (PMS 1.43 log): PMS does not download a provider's `thumb`/`art` URL itself; it
 *   hands it to Plex's cloud image service (`images.plex.tv/photo?url=…`), which answers 400
 *   for a private or loopback address. So a provider on a home network gives PMS no artwork.
 *   The stand-in below refuses exactly those addresses (every address of a test) and would
 *   take a public one.
 * - CONFIRMED (python-plexapi `uploadPoster`/`uploadArt`, ShokoRelay): `POST
 *   /library/metadata/{id}/posters` (or `/arts`) with the image's bytes as the body, or with
 *   `?url=` for PMS to download the image.
 * - UNKNOWN, an option each (the product must work under both):
 *   - `urlUploadsVia`: whether PMS downloads a `?url=` itself ("server", the default: the URL
 *     is a call PMS's own HTTP client makes) or through the cloud service too ("cloud").
 *   - `uploadLocks`: whether an upload locks the item's poster/background field, as choosing a
 *     poster in Plex Web does (default off).
 * What PMS shows is its own copy: `thumb: /library/metadata/{id}/thumb/{at}` (`art` likewise),
 * never the provider's URL. An upload is the selected image until another upload or a pick by
 * the user replaces it; a refresh that brings an unreachable provider URL leaves it as it is.
 */
import type { SimItem } from "./server.ts";

export type ArtElement = "posters" | "arts";
/** The field each element shows as, and the lock name that keeps it. */
const FIELD: Record<ArtElement, "thumb" | "art"> = { posters: "thumb", arts: "art" };

export interface HeldImage {
  /** Who put it there: an upload of bytes, a `?url=` download, the provider's URL, or a user's pick. */
  by: "upload" | "url" | "provider" | "user";
  /** When (ms): the `{at}` of the URL PMS shows. */
  at: number;
  /** The image's bytes as a hash, so a test can tell which image an item holds. */
  hash: string;
}

/** Whether an address is one the cloud image service cannot reach (loopback, private, link-local). */
export function isPrivateHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h.endsWith(".local") || h.endsWith(".lan") || h === "::1") return true;
  if (/^(fc|fd)[0-9a-f]{2}:/.test(h) || h.startsWith("fe80:")) return true;
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(h)?.slice(1).map(Number);
  if (!v4) return !h.includes(".") && !h.includes(":"); // a bare name resolves on the LAN only; other IPv6 is public
  const [a, b] = v4 as [number, number];
  return (
    a === 127 ||
    a === 10 ||
    a === 0 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254)
  );
}

export const hashOf = (bytes: Uint8Array) => Bun.hash(bytes).toString(16);

export class PlexArtwork {
  urlUploadsVia: "server" | "cloud" = "server";
  uploadLocks = false;
  /** Every URL handed to the cloud image service, with its answer. */
  readonly cloudRequests: { url: string; status: number }[] = [];
  private readonly held = new Map<string, Partial<Record<ArtElement, HeldImage>>>();
  private readonly cloudTried = new Set<string>();

  /** The cloud image service's answer for a URL: 400 for an address it cannot reach. */
  cloud(url: string): number {
    let status = 400;
    try {
      status = isPrivateHost(new URL(url).hostname) ? 400 : 200;
    } catch {}
    if (!this.cloudTried.has(url)) {
      this.cloudTried.add(url);
      this.cloudRequests.push({ url, status });
    }
    return status;
  }

  /** The image an item holds for an element, if any; a provider URL counts only if the cloud fetched it. */
  heldBy(item: SimItem, element: ArtElement): HeldImage | undefined {
    const own = this.held.get(item.ratingKey)?.[element];
    if (own) return own;
    const url = item.fields[FIELD[element]];
    if (typeof url === "string" && url && this.cloud(url) === 200)
      return { by: "provider", at: item.updatedAt * 1000, hash: `url:${url}` };
    return undefined;
  }

  /** What the item shows as `thumb` and `art`: PMS's own URLs, or nothing. */
  shown(item: SimItem): { thumb?: string; art?: string } {
    const out: { thumb?: string; art?: string } = {};
    for (const element of ["posters", "arts"] as const) {
      const image = this.heldBy(item, element);
      if (image)
        out[FIELD[element]] = `/library/metadata/${item.ratingKey}/${FIELD[element]}/${Math.floor(image.at / 1000)}`;
    }
    return out;
  }

  /** `POST …/posters` (or `/arts`) with the image's bytes. */
  upload(item: SimItem, element: ArtElement, bytes: Uint8Array, by: HeldImage["by"] = "upload") {
    const previous = this.held.get(item.ratingKey)?.[element];
    // PMS names each copy by time: a second upload within the same second still gets a new URL.
    const at = Math.max(Date.now(), (previous?.at ?? 0) + 1000);
    this.held.set(item.ratingKey, { ...this.held.get(item.ratingKey), [element]: { by, at, hash: hashOf(bytes) } });
    item.uploads[element]++;
    if (this.uploadLocks || by === "user") item.locked.add(FIELD[element]);
  }

  /** `POST …/posters?url=`: PMS downloads the image (itself, or through the cloud service). */
  async uploadFrom(item: SimItem, element: ArtElement, url: string): Promise<number> {
    if (this.urlUploadsVia === "cloud" && this.cloud(url) !== 200) return 400;
    const res = await fetch(url).catch(() => undefined);
    if (!res?.ok) {
      await res?.body?.cancel();
      return 400;
    }
    this.upload(item, element, new Uint8Array(await res.arrayBuffer()), "url");
    return 200;
  }

  /** A user picks a poster in Plex Web: it is selected and locked (the user's choice). */
  userPicks(item: SimItem, element: ArtElement = "posters") {
    this.upload(item, element, new TextEncoder().encode(`user's own ${element} for ${item.ratingKey}`), "user");
    item.uploads[element]--;
  }

  /** Plex lost an item's artwork (a database restored from before it was uploaded). */
  forget(item: SimItem) {
    this.held.delete(item.ratingKey);
  }
}
