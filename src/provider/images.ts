/**
 * The image proxy: PMS cannot send Stash's API key, so we fetch artwork for it. Only four
 * kinds, by numeric id, map to fixed Stash routes: nothing else can be fetched through here.
 */
import type { StashClient } from "../stash/client.ts";
import { HttpError } from "../http.ts";

export const IMAGE_KINDS = {
  scene: (id: string) => `/scene/${id}/screenshot`,
  performer: (id: string) => `/performer/${id}/image`,
  group: (id: string) => `/group/${id}/frontimage`,
  studio: (id: string) => `/studio/${id}/image`,
  tag: (id: string) => `/tag/${id}/image`,
} as const;
export type ImageKind = keyof typeof IMAGE_KINDS;

export const isImageKind = (kind: string): kind is ImageKind => Object.hasOwn(IMAGE_KINDS, kind);

/** Streams the image through, or answers null when Stash has none. */
export async function proxyImage(
  stash: Pick<StashClient, "image">,
  kind: ImageKind,
  id: string,
): Promise<Response | null> {
  const upstream = await stash.image(IMAGE_KINDS[kind](id));
  const type = upstream.headers.get("content-type") ?? "";
  if (upstream.status === 404 || (upstream.ok && !type.startsWith("image/"))) {
    await upstream.body?.cancel();
    return null;
  }
  if (!upstream.ok) {
    await upstream.body?.cancel();
    // Stash down, restarting, or refusing the key: PMS should try again later, not give up.
    throw new HttpError(503, "stash_image_failed", `Stash answered ${upstream.status} for the ${kind} image`, 30);
  }
  const headers = new Headers({ "content-type": type, "cache-control": "public, max-age=86400" });
  for (const name of ["content-length", "etag", "last-modified"]) {
    const value = upstream.headers.get(name);
    if (value) headers.set(name, value);
  }
  return new Response(upstream.body, { status: 200, headers });
}
