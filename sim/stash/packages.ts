/**
 * Stash's plugin manager, as the simulator runs it (Stash's pkg/pkg): a source is the URL of an
 * index, a YAML list of packages (id, name, metadata, version, date, requires, path, sha256).
 * Installing one downloads the zip from `path` resolved against the index's URL (as Stash's
 * newer resolvePath does; an absolute path reads the same in older Stash, which set it as the
 * URL's path), refuses it unless its sha256 is the one named, writes each file of the zip into
 * plugins/<id>/, and writes Stash's own `manifest` there (id, name, metadata, version, date,
 * requires, source_repository, files). Stash then loads the plugin from its YAML.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { inflateSync } from "node:zlib";
import { parse, stringify } from "yaml";

export interface RemotePackage {
  id: string;
  name: string;
  version?: string;
  date?: string;
  requires?: string[];
  metadata?: Record<string, unknown>;
  path: string;
  sha256: string;
}

/** The files of a zip (stored or deflated), as Go's archive/zip reads them. */
export function unzip(data: Uint8Array): { name: string; data: Uint8Array }[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let end = data.length - 22;
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < 0) throw new Error("not a zip file (no end of central directory)");
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const out: { name: string; data: Uint8Array }[] = [];
  for (let i = 0; i < count; i++) {
    if (view.getUint32(at, true) !== 0x02014b50) throw new Error("zip: bad central directory");
    const method = view.getUint16(at + 10, true);
    const nameLength = view.getUint16(at + 28, true);
    const extra = view.getUint16(at + 30, true);
    const comment = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = new TextDecoder().decode(data.subarray(at + 46, at + 46 + nameLength));
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const compressed = data.subarray(start, start + view.getUint32(at + 20, true));
    const body =
      method === 0 ? compressed : method === 8 ? new Uint8Array(inflateSync(compressed, { finishFlush: 2 })) : null;
    if (!body) throw new Error(`zip: ${name} uses compression method ${method}`);
    if (!name.endsWith("/")) out.push({ name, data: body });
    at += 46 + nameLength + extra + comment;
  }
  return out;
}

/** Installs a package from a source into `pluginsDir/<id>/`, as Stash does; returns the files written. */
export async function installPackage(indexUrl: string, id: string, pluginsDir: string): Promise<string[]> {
  const index = parse(await (await fetch(indexUrl)).text()) as RemotePackage[];
  if (!Array.isArray(index)) throw new Error("reading package list: not a list of packages");
  const pkg = index.find((p) => p.id === id);
  if (!pkg) throw new Error("package not found");
  const res = await fetch(new URL(pkg.path, indexUrl));
  if (!res.ok) throw new Error(`failed to get remote file: ${res.status}`);
  const data = new Uint8Array(await res.arrayBuffer());
  const sha = new Bun.CryptoHasher("sha256").update(data).digest("hex");
  if (sha !== pkg.sha256) throw new Error(`package data (${sha}) does not match expected SHA256 (${pkg.sha256})`);
  const dir = join(pluginsDir, id);
  const files: string[] = [];
  for (const file of unzip(data)) {
    const target = normalize(join(dir, file.name));
    if (!target.startsWith(`${dir}/`)) throw new Error(`zip: ${file.name} leads out of the package folder`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.data);
    files.push(file.name);
  }
  const manifest = {
    id: pkg.id,
    name: pkg.name,
    metadata: pkg.metadata ?? {},
    version: pkg.version ?? "",
    date: pkg.date ?? "",
    requires: pkg.requires ?? [],
    source_repository: indexUrl,
    files,
  };
  writeFileSync(join(dir, "manifest"), stringify(manifest));
  return files;
}
