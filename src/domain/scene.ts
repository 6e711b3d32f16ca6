/**
 * Pure facts about a Stash scene that several sides need (the file index, the provider, the
 * push and the gaps). Typed by the fields they read, so this folder imports nothing of ours.
 */

/** A file name without its folder and extension. */
export const fileStem = (path: string) => (path.split(/[\\/]/).at(-1) ?? path).replace(/\.[^.]+$/, "");

/** The title Plex shows for a scene: its own, else its first file's name, else `Scene 42`. */
export function sceneTitle(scene: { id: string; title?: string | null; files: readonly { path: string }[] }): string {
  const title = scene.title?.trim();
  if (title) return title;
  const first = scene.files[0];
  return first ? fileStem(first.path) || `Scene ${scene.id}` : `Scene ${scene.id}`;
}

/** The bit of each fact a match gate looks at (provider.matchOnly). */
export const GATE_BIT = { organized: 1, stashId: 2, url: 4 } as const;

/** The facts the match gates look at, as a small bit set (the file index keeps one per scene). */
export function gateBits(scene: {
  organized?: boolean | null;
  urls?: string[] | null;
  stash_ids?: unknown[] | null;
}): number {
  return (
    (scene.organized ? GATE_BIT.organized : 0) |
    ((scene.stash_ids?.length ?? 0) > 0 ? GATE_BIT.stashId : 0) |
    ((scene.urls?.length ?? 0) > 0 ? GATE_BIT.url : 0)
  );
}

/** A scene Stash knows nothing about: pushing it would only blank what Plex shows. */
export const stashIsEmpty = (scene: {
  title?: string | null;
  date?: string | null;
  details?: string | null;
  studio?: unknown;
  performers: readonly unknown[];
  tags: readonly unknown[];
}) =>
  !scene.title?.trim() &&
  !scene.date &&
  !scene.details?.trim() &&
  !scene.studio &&
  scene.performers.length === 0 &&
  scene.tags.length === 0;
