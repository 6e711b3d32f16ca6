/**
 * The fields locked on a Plex item, by PMS's own names (`Field: [{name: "title", locked: true}]`,
 * as PMS shows an item read whole; `title.locked=1` is how one is set). A locked field is the
 * user's choice: PMS keeps it through a refresh, and we never count it as ours to correct.
 */
export function lockedNames(item: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  const fields = item.Field;
  if (!Array.isArray(fields)) return out;
  for (const f of fields as { name?: unknown; locked?: unknown }[])
    if (typeof f?.name === "string" && (f.locked === true || f.locked === 1 || f.locked === "1")) out.add(f.name);
  return out;
}
