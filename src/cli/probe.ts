/**
 * `stash2plex probe [--item <ratingKey>] [--out <file>] [--wait <seconds>]`: one report of what
 * the user's real PMS does with us, to attach to a bug report. Our simulators are built from
 * public evidence that is thin in places (which headers PMS sends, which stream path opens, how
 * the history filter is read); this shows what a real server did. It refreshes ONE item in Plex
 * and changes nothing else: everything else it does is a read.
 *
 * The requests PMS makes to the provider are seen only by the running service, which keeps the
 * last ones (provider/request-log.ts, `GET /api/provider-requests`): the probe reads where that
 * log stands, refreshes the item, and reads what came after. The report leaves out every token
 * and key, every address and configured host, PMS's machine identifier, titles and file names.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import type { Config } from "../config/schema.ts";
import { instancesOf, type StashInstance } from "../config/instances.ts";
import { episodeRef, guidOf, refFromGuid, tvIdentifierOf, type InstanceName, type ShowScheme } from "../domain/ref.ts";
import { compilePathRules } from "../paths/mapper.ts";
import { createPlexClient, type PlexClient, type PlexSection } from "../plex/client.ts";
import type { ProviderRequest } from "../provider/request-log.ts";
import { createRedactor, hostRedactor, redactAddresses } from "../redact.ts";
import { createStashClient } from "../stash/client.ts";
import { isInside, isTvSection, resolveSections } from "../sync/push.ts";
import { tvPlexPath } from "../sync/tv-push.ts";
import { tvLibrariesOf, type TvLibrary } from "../tv/libraries.ts";
import { addressMatcher } from "../net.ts";
import { VERSION } from "../version.ts";
import { createPmsWatch } from "../writeback/pms-watch.ts";

export interface ProbeOptions {
  /** The Plex item to refresh; absent: the first movie item matched to one of our scenes. */
  item?: string;
  out?: string;
  /** How long to wait at most for PMS's requests after the refresh. */
  waitSeconds: number;
}

/** Once PMS has asked something, this long without a further request ends the wait. */
const SETTLE_MS = 5_000;
const POLL_MS = 250;
/** An `after` beyond every id: the answer is only where the log stands. */
const LATEST = 9_999_999_999;
const PAGE = 500;
/** More than this many requests in the window are counted, not listed. */
const LISTED = 40;

const USAGE = "usage: stash2plex probe [--item <Plex ratingKey>] [--out <file>] [--wait <seconds>]";

/** The options of a command line, or what is wrong with it. */
export function probeOptions(args: string[]): ProbeOptions | string {
  const options: ProbeOptions = { waitSeconds: 20 };
  for (let i = 0; i < args.length; i++) {
    const [flag, value] = [args[i], args[i + 1]];
    if (flag === "--item" && value && /^\d{1,18}$/.test(value)) options.item = value;
    else if (flag === "--out" && value) options.out = value;
    else if (flag === "--wait" && value && /^\d{1,3}$/.test(value) && Number(value) >= 1)
      options.waitSeconds = Number(value);
    else return `${USAGE} (${flag} ${value ?? ""}: not understood)`;
    i++;
  }
  return options;
}

export async function probeCommand(config: Config, args: string[]): Promise<number> {
  const options = probeOptions(args);
  if (typeof options === "string") {
    console.error(options);
    return 2;
  }
  console.error("probing Plex, Stash and the running service (one item is refreshed in Plex) …");
  const report = await runProbe(config, options);
  const file =
    options.out ?? join(config.dataDir, `probe-${new Date().toISOString().slice(0, 19).replace(/:/g, "-")}.md`);
  try {
    writeFileSync(file, report);
  } catch (err) {
    console.error(`cannot write the report to ${file}: ${(err as Error).message}`);
    return 1;
  }
  console.log(`wrote ${file}: attach it to your bug report (it holds no token, key, address, title or file name)`);
  return 0;
}

// ---- the running service ----

interface Service {
  base: string;
  token?: string;
}

/** Where `serve` listens (the same config), and the admin token it uses: configured or kept in the data folder. */
function serviceOf(config: Config): Service {
  const { host, port } = config.listen;
  const probe = host === "0.0.0.0" || host === "::" || host === "" ? "127.0.0.1" : host;
  return {
    base: `http://${probe.includes(":") ? `[${probe}]` : probe}:${port}`,
    token: config.admin.token || keptToken(config),
  };
}

/** The admin token the service generated into the data folder: read, never made (a probe leaves no token behind). */
function keptToken(config: Config): string {
  const file = join(config.dataDir, "admin-token");
  try {
    return existsSync(file) ? readFileSync(file, "utf8").trim() : "";
  } catch {
    return ""; // unreadable here: the service then says the token is wrong, and the report says so
  }
}

interface RequestPage {
  latest: number;
  requests: ProviderRequest[];
}

/** The provider requests the service recorded after `after`; a failure is one line saying why. */
async function providerRequests(service: Service, after: number): Promise<RequestPage> {
  let res: Response;
  try {
    res = await fetch(`${service.base}/api/provider-requests?after=${after}`, {
      headers: service.token ? { authorization: `Bearer ${service.token}` } : {},
      signal: AbortSignal.timeout(5_000),
    });
  } catch {
    throw new Error("the service is not running at its listen address (or does not answer there)");
  }
  if (res.status === 401) throw new Error("the service refused the admin token this command has (ADMIN_TOKEN)");
  if (res.status === 404) throw new Error("the running service is an older version, without /api/provider-requests");
  if (!res.ok) throw new Error(`the service answered HTTP ${res.status} to /api/provider-requests`);
  return (await res.json()) as RequestPage;
}

// ---- the report ----

/** A value shown as inline code (a backtick inside would end it). */
const code = (text: string) => `\`${text.replaceAll("`", "'")}\``;
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
const entryCount = (n: number) => `${n} ${n === 1 ? "entry" : "entries"}`;
const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;

/** The report's text, redacted; nothing in Plex is changed but the one refresh. */
export async function runProbe(config: Config, options: ProbeOptions): Promise<string> {
  const instances = instancesOf(config);
  const names: InstanceName[] = instances.map((i) => ({
    id: i.id,
    identifier: i.provider.identifier,
    tvIdentifier: tvIdentifierOf(i.provider.identifier),
  }));
  const plex = config.plex.url ? createPlexClient(config.plex) : undefined;
  const service = serviceOf(config);
  const identity = await plex?.identity().catch((err: Error) => err);
  const running = await providerRequests(service, LATEST).catch((err: Error) => err);

  const lines = [
    "# stash2plex probe",
    "",
    `Written by \`stash2plex probe\` on ${utc(Date.now())}. Left out: tokens, keys, addresses and configured`,
    "hosts (shown as `<…>`), PMS's machine identifier, titles and file names (items go by their number).",
    "",
    "## Versions",
    "",
    `- stash2plex: ${VERSION}`,
    `- Plex Media Server: ${!plex ? "not configured (PLEX_URL)" : identity instanceof Error ? `not reached: ${identity.message}` : identity?.version}`,
    ...(await stashVersions(instances)),
    `- the service: ${running instanceof Error ? `${running.message}: PMS's requests to the provider cannot be shown, and no item is refreshed` : "running; it records PMS's requests to the provider"}`,
    "",
    ...setupLines(config, instances),
  ];
  if (plex && !(identity instanceof Error)) {
    const sections = await plex.sections().catch(() => [] as PlexSection[]);
    lines.push(...sectionLines(config, sections));
    lines.push(
      ...(await refreshLines(config, plex, names, sections, running instanceof Error ? undefined : service, options)),
    );
    lines.push(...(await streamLines(config)), ...(await historyLines(config)));
    lines.push(...(await tvLines(config, instances, plex, sections)));
  }
  return redactReport(
    config,
    service,
    `${lines.join("\n").trimEnd()}\n`,
    identity instanceof Error ? undefined : identity?.machineIdentifier,
  );
}

async function stashVersions(instances: StashInstance[]): Promise<string[]> {
  return Promise.all(
    instances.map(async (i) => {
      const which = instances.length > 1 ? ` "${i.id}"` : "";
      const version = await createStashClient(i.stash)
        .version()
        .catch((err: Error) => `not reached: ${err.message}`);
      return `- Stash${which}: ${version}`;
    }),
  );
}

/** Addresses Plex's cloud image service cannot reach (private, loopback, link-local). */
const unreachable = addressMatcher([
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "100.64.0.0/10",
  "::1/128",
  "fc00::/7",
  "fe80::/10",
]);

/** What kind of host a URL names, since the address itself is left out of the report. */
function hostKind(url: string): string {
  let host = "";
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return "not a URL";
  }
  if (!isIP(host)) return host === "localhost" ? "loopback" : "a host name";
  if (host === "0.0.0.0" || host === "::") return "no address (the listen address for all of them)";
  return unreachable(host) ? "a private or loopback address" : "a public address";
}

function setupLines(config: Config, instances: StashInstance[]): string[] {
  const wb = config.writeback;
  const tv = tvLibrariesOf(config);
  return [
    "## Setup",
    "",
    `- PUBLIC_URL (what PMS is told to reach): ${code(config.publicUrl)}, ${hostKind(config.publicUrl)}`,
    `- providers: ${instances.map((i) => `${code(i.provider.identifier)}${i.isDefault ? "" : ` (Stash "${i.id}")`}`).join(", ")}`,
    `- TV libraries: ${tv.map((l) => `${l.id} (layout ${l.layout.layout})`).join(", ") || "none"}`,
    `- write-back: ${wb.enabled ? `on (notifications ${wb.notifications ? "on" : "off"}, webhook ${wb.webhookToken ? "set" : "not set"})` : "off"}`,
    "",
  ];
}

/** Plex's sections by number, type and agent (not title), and which we sync and how. */
function sectionLines(config: Config, sections: PlexSection[]): string[] {
  const synced = new Map(resolveSections(sections, config).map((s) => [s.key, s]));
  const line = (s: PlexSection) => {
    const ours = synced.get(s.key);
    return `- section ${s.key}: ${s.type}, agent ${code(s.agent || "none")}, ${ours ? `synced (${ours.strategy}, Stash "${ours.instance}")` : "not synced"}`;
  };
  return ["## Plex sections", "", ...(sections.length ? sections.map(line) : ["- none"]), ""];
}

// ---- one refresh ----

/** The first movie item in a synced section matched to one of our scenes. */
async function firstOfOurs(
  plex: PlexClient,
  config: Config,
  names: InstanceName[],
  sections: PlexSection[],
): Promise<string | undefined> {
  for (const section of resolveSections(sections, config).filter((s) => !isTvSection(s))) {
    for (let start = 0; ; start += PAGE) {
      const { items } = await plex.sectionItems(section.key, start, PAGE);
      const ours = items.find((i) => refFromGuid(i.guid, names)?.kind === "scene");
      if (ours) return ours.ratingKey;
      if (items.length < PAGE) break;
    }
  }
  return undefined;
}

async function refreshLines(
  config: Config,
  plex: PlexClient,
  names: InstanceName[],
  sections: PlexSection[],
  /** The running service; undefined when it does not answer (nothing is refreshed then). */
  service: Service | undefined,
  options: ProbeOptions,
): Promise<string[]> {
  const lines = ["## One refresh", ""];
  try {
    const ratingKey = options.item ?? (await firstOfOurs(plex, config, names, sections));
    if (!ratingKey)
      return [...lines, "- no movie item in the synced sections is matched to a Stash scene: nothing refreshed", ""];
    const before = await plex.itemRaw(ratingKey);
    if (!before) return [...lines, `- Plex has no item ${ratingKey}: nothing refreshed`, ""];
    lines.push(`- item: Plex item ${ratingKey}, ${describeItem(before, names)}`);
    if (!service)
      return [
        ...lines,
        "- not refreshed: the service is not reachable, so PMS could not reach the provider either",
        "",
      ];
    // Where the service's log stands right before the refresh: what comes after is PMS's answer to it.
    const { latest } = await providerRequests(service, LATEST);
    await plex.refresh(ratingKey);
    const startedAt = Date.now();
    const seen = await awaitRequests(service, latest, startedAt, options.waitSeconds * 1000);
    lines.push(
      `- ${code(`PUT /library/metadata/${ratingKey}/refresh`)} sent; waited ${((Date.now() - startedAt) / 1000).toFixed(1)} s for PMS's requests`,
      "",
      ...requestLines(seen, startedAt),
      ...artworkLines(await plex.itemRaw(ratingKey), before, config),
    );
  } catch (err) {
    lines.push(`- could not finish: ${message(err)}`, "");
  }
  return lines;
}

/** An item's type, section and GUID, and whose it is. */
function describeItem(item: Record<string, unknown>, names: InstanceName[]): string {
  const guid = String(item.guid ?? "");
  const ref = refFromGuid(guid, names);
  const whose = ref
    ? `ours: ${ref.kind} ${ref.id} of Stash "${ref.instance}"`
    : "not one of our GUIDs: PMS will not ask our provider for it";
  return `a ${item.type ?? "?"} in section ${item.librarySectionID ?? "?"}, GUID ${code(guid)} (${whose})`;
}

/**
 * What PMS asked the provider after the refresh: polled until PMS has asked something and then
 * been quiet for SETTLE_MS, or until `waitMs` is up.
 */
async function awaitRequests(
  service: Service,
  after: number,
  startedAt: number,
  waitMs: number,
): Promise<ProviderRequest[]> {
  let seen: ProviderRequest[] = [];
  let lastNewAt = startedAt;
  while (Date.now() - startedAt < waitMs) {
    await Bun.sleep(POLL_MS);
    const { requests } = await providerRequests(service, after);
    if (requests.length > seen.length) lastNewAt = Date.now();
    seen = requests;
    if (seen.length && Date.now() - lastNewAt >= SETTLE_MS) break;
  }
  return seen;
}

function requestLines(requests: ProviderRequest[], startedAt: number): string[] {
  if (!requests.length)
    return [
      "### PMS's requests to the provider: none",
      "",
      "PMS asked the provider nothing while the probe waited (a GUID not ours, a provider URL PMS cannot reach, or a refresh queued behind others).",
      "",
    ];
  const lines = [`### PMS's requests to the provider: ${requests.length}`, ""];
  for (const [n, r] of requests.slice(0, LISTED).entries()) {
    const query = r.query.length ? `?${r.query.map(([k, v]) => `${k}=${v}`).join("&")}` : "";
    lines.push(
      `${n + 1}. ${code(`${r.method} ${r.path}${query}`)} → ${r.status ?? "no answer recorded"}, ${((r.at - startedAt) / 1000).toFixed(2)} s after the refresh`,
      ...r.headers.map(([name, value]) => `   - ${code(name)}: ${code(value)}`),
    );
  }
  if (requests.length > LISTED) lines.push(`… and ${requests.length - LISTED} more`);
  return [...lines, ""];
}

/** Where an image URL PMS shows points: PMS's own store, Plex's cloud image service, or us. */
function imageSource(url: string, config: Config): string {
  if (url.startsWith("/")) return "held by PMS";
  let host = "";
  try {
    host = new URL(url).host;
  } catch {
    return "a value that is not a URL";
  }
  if (host === "images.plex.tv") return "through Plex's cloud image service (which cannot reach a LAN address)";
  const ours = (() => {
    try {
      return new URL(config.publicUrl).host;
    } catch {
      return undefined;
    }
  })();
  return host === ours ? "a URL of this service (PMS has not stored it)" : "a URL elsewhere";
}

/** Whether the item shows a poster and a background, and where they come from. */
function artworkLines(after: Record<string, unknown> | undefined, before: Record<string, unknown>, config: Config) {
  if (!after) return ["### Artwork", "", "- the item is gone from Plex after the refresh", ""];
  const shown = (field: "thumb" | "art", what: string) => {
    const value = after[field];
    if (typeof value !== "string" || !value) return `- ${what} (${code(field)}): none`;
    let readable = value;
    try {
      readable = decodeURIComponent(value); // an address inside an encoded URL is then redacted too
    } catch {}
    return `- ${what} (${code(field)}): ${imageSource(value, config)}: ${code(readable)}`;
  };
  const moved = after.updatedAt !== before.updatedAt ? "yes" : "no";
  return [
    "### Artwork after the refresh",
    "",
    shown("thumb", "poster"),
    shown("art", "background"),
    `- PMS marked the item updated (updatedAt moved): ${moved}`,
    "",
  ];
}

// ---- write-back's reads ----

async function streamLines(config: Config): Promise<string[]> {
  const path = await createPmsWatch(config.plex)
    .streamPath()
    .catch(() => undefined);
  return [
    "## Notification stream",
    "",
    path
      ? `- opens at ${code(path)}`
      : `- opens at neither ${code("/:/websockets/notifications")} nor ${code("/:/websocket/notifications")}`,
    "",
  ];
}

/**
 * Whether PMS reads our history filter as we mean it: a read from one second before the newest
 * viewing returns it, and a read from one second after it returns nothing.
 */
async function historyLines(config: Config): Promise<string[]> {
  const lines = ["## Watch history and our filter", ""];
  try {
    const watch = createPmsWatch(config.plex);
    const all = await watch.history({ newestFirst: true, size: 20 });
    const newest = all.entries[0];
    if (!newest) return [...lines, "- no viewing in Plex's history to test with", ""];
    const from = await watch.history({ sinceS: newest.viewedAt - 1, newestFirst: true, size: 50 });
    const found = from.entries.some((e) => e.ratingKey === newest.ratingKey && e.viewedAt === newest.viewedAt);
    const later = await watch.history({ sinceS: newest.viewedAt + 1, size: 1 });
    lines.push(
      `- the newest viewing: Plex item ${newest.ratingKey} at ${utc(newest.viewedAt * 1000)}; ${entryCount(all.total)} in the whole history`,
      `- a read with our filter from one second before it returns it: ${found ? "yes" : "no"} (${entryCount(from.total)})`,
      `- a read with our filter from one second after it: ${entryCount(later.total)} (none when PMS applies the filter)`,
    );
  } catch (err) {
    lines.push(`- could not read the history: ${message(err)}`);
  }
  return [...lines, ""];
}

// ---- TV libraries ----

const EPISODE_TOKEN = /\{s2p-(st|sn|gr)-(\d{1,18})\}/;

/** The first link in an episode folder (`<Show>/<Season>/<link>`), and the scene it names. */
function firstLink(folder: string): { path: string; scheme: ShowScheme; sceneId: string } | undefined {
  const entries = (dir: string) =>
    readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  for (const show of entries(folder).filter((e) => e.isDirectory()))
    for (const season of entries(join(folder, show.name)).filter((e) => e.isDirectory()))
      for (const link of entries(join(folder, show.name, season.name))) {
        const token = EPISODE_TOKEN.exec(link.name);
        if (link.isSymbolicLink() && token)
          return {
            path: join(folder, show.name, season.name, link.name),
            scheme: token[1] as ShowScheme,
            sceneId: token[2]!,
          };
      }
  return undefined;
}

async function tvLines(
  config: Config,
  instances: StashInstance[],
  plex: PlexClient,
  sections: PlexSection[],
): Promise<string[]> {
  const libraries = tvLibrariesOf(config);
  if (!libraries.length) return [];
  const lines = ["## TV libraries", ""];
  for (const lib of libraries) {
    const instance = instances.find((i) => i.id === lib.instance)!;
    lines.push(
      `- ${lib.id}: ${await tvPlacement(lib, instance, plex, sections).catch((err) => `could not look: ${message(err)}`)}`,
    );
  }
  return [...lines, ""];
}

/** Whether one scene linked in the library's episode folder is an episode in Plex with our GUID. */
async function tvPlacement(lib: TvLibrary, instance: StashInstance, plex: PlexClient, sections: PlexSection[]) {
  let link: ReturnType<typeof firstLink>;
  try {
    link = firstLink(lib.folder);
  } catch (err) {
    return `the episode folder cannot be read (${(err as NodeJS.ErrnoException).code ?? message(err)})`;
  }
  if (!link) return "no scene is linked in the episode folder yet";
  const episode = `scene ${link.sceneId} is linked in the episode folder (episode ${link.scheme}-${link.sceneId})`;
  const plexPath = tvPlexPath(lib, compilePathRules(instance.paths.rules).mapper, link.path);
  if (!plexPath) return `${episode}; no path rule maps the folder to a path Plex sees (set plexFolder)`;
  const section = sections.find((s) => isTvSection(s) && s.locations.some((l) => isInside(plexPath, l)));
  if (!section) return `${episode}; no Plex TV library holds the episode folder`;
  const wanted = guidOf(
    tvIdentifierOf(instance.provider.identifier),
    episodeRef(instance.id, link.scheme, link.sceneId),
  );
  for (let start = 0; ; start += PAGE) {
    const { items } = await plex.sectionItems(section.key, start, PAGE, undefined, 4);
    const item = items.find((i) => i.files.includes(plexPath));
    if (item)
      return `${episode}; it is Plex episode ${item.ratingKey} in section ${section.key} with GUID ${code(item.guid)}: our episode GUID: ${item.guid === wanted ? "yes" : `no (ours is ${code(wanted)})`}`;
    if (items.length < PAGE) break;
  }
  return `${episode}; no episode of Plex section ${section.key} has that file (not scanned yet?)`;
}

// ---- redaction ----

/** The report as it may be shared: secrets, hosts, addresses and PMS's identity replaced. */
function redactReport(config: Config, service: Service, text: string, machineIdentifier: string | undefined): string {
  const instances = instancesOf(config);
  const secrets = createRedactor([
    config.plex.token,
    ...instances.map((i) => i.stash.apiKey),
    config.sync.webhookToken,
    config.writeback.webhookToken,
    service.token,
  ]);
  const hosts = hostRedactor([
    { url: config.plex.url, placeholder: "<plex-host>" },
    ...instances.map((i) => ({
      url: i.stash.url,
      placeholder: instances.length > 1 ? `<stash-host-${i.id}>` : "<stash-host>",
    })),
    { url: config.publicUrl, placeholder: "<public-host>" },
    { url: service.base, placeholder: "<service-host>" },
  ]);
  const identified =
    machineIdentifier && machineIdentifier.length >= 8
      ? text.replaceAll(machineIdentifier, "<pms-machine-identifier>")
      : text;
  return redactAddresses(hosts(secrets(identified)));
}
