/**
 * How the dashboard names a Stash instance. With one Stash nothing changes (no instance column,
 * today's links); with several, every row says which Stash it belongs to and links carry it, so a
 * scene id never reads as the default's scene with the same id.
 */
import { DEFAULT_INSTANCE_ID, type Ref } from "../domain/ref.ts";
import { html, type Html } from "./html.ts";
import type { DashboardSource, InstanceView } from "./source.ts";

/** Whether the pages name instances at all (more than one Stash is configured). */
export const several = (src: Pick<DashboardSource, "instances">) => src.instances.length > 1;

/** A scene's page: `/ui/scenes/7` for the default instance (as before), `/ui/scenes/7?instance=vault` for another. */
export const sceneHref = (ref: Pick<Ref, "instance" | "id">) =>
  ref.instance === DEFAULT_INSTANCE_ID
    ? `/ui/scenes/${ref.id}`
    : `/ui/scenes/${ref.id}?instance=${encodeURIComponent(ref.instance)}`;

/** The instance of an id, if it is configured. */
export const viewOf = (src: Pick<DashboardSource, "instances">, id: string): InstanceView | undefined =>
  src.instances.find((v) => v.instance.id === id);

/** "Vault (vault)": its name, and the id the config and the API use when they differ. */
export function instanceLabel(src: Pick<DashboardSource, "instances">, id: string): string {
  const name = viewOf(src, id)?.instance.name;
  return name && name !== id ? `${name} (${id})` : id;
}

/** A table cell naming a row's instance, or nothing with one Stash. */
export const instanceCell = (src: Pick<DashboardSource, "instances">, id: string): Html | "" =>
  several(src) ? html`<td data-label="Stash" data-instance="${id}">${instanceLabel(src, id)}</td>` : "";

/** The header of that cell, or nothing with one Stash. */
export const instanceHeader = (src: Pick<DashboardSource, "instances">): Html | "" =>
  several(src) ? html`<th>Stash</th>` : "";
