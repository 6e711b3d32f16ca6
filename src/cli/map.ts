/** `stash2plex map <path>`: which rule maps a path, and the result in both directions. */
import type { PathMapper } from "../paths/mapper.ts";

export function describeMapping(mapper: PathMapper, path: string): string[] {
  const lines = [`path: ${path}`];
  const toStash = mapper.toStash(path);
  lines.push(
    toStash
      ? `as a Plex path → Stash: ${toStash.path}   (rule "${toStash.rule}")`
      : "as a Plex path → Stash: no rule matches",
  );
  if (toStash) {
    const back = mapper.toPlex(toStash.path);
    lines.push(
      back?.path === path.normalize("NFC")
        ? "  round trip: ok"
        : `  round trip: comes back as ${back ? back.path : "nothing"}`,
    );
  }
  const toPlex = mapper.toPlex(path);
  lines.push(
    toPlex
      ? `as a Stash path → Plex: ${toPlex.path}   (rule "${toPlex.rule}")`
      : "as a Stash path → Plex: no rule matches",
  );
  const relative = mapper.plexCandidates(path);
  if (relative.length) lines.push(`as a PMS library-relative filename: ${relative.join(", ")}`);
  return lines;
}
