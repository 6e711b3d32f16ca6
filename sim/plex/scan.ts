/**
 * The scan driver: calls a metadata provider exactly as PMS does during a library scan
 * (discovery, then for every file a match with the library-relative filename, then the
 * metadata of the match), several requests at once, and checks every answer against the
 * provider contract. What it learns becomes the simulated library's items.
 */
import { TypeCompiler } from "@sinclair/typebox/compiler";
import {
  MediaContainer as MediaContainerSchema,
  MediaProvider,
  PlexMetadata as PlexMetadataSchema,
  type MediaContainer,
  type PlexMetadata,
} from "../../src/schema/plex.ts";

const checkContainer = TypeCompiler.Compile(MediaContainerSchema);
const checkProvider = TypeCompiler.Compile(MediaProvider);

export interface ScanFile {
  /** Absolute path as PMS sees it. */
  path: string;
  /** The library folder it sits in. */
  root: string;
}

export interface ScanResult {
  file: ScanFile;
  match?: PlexMetadata;
  metadata?: PlexMetadata;
  matchStatus: number;
  metadataStatus?: number;
  matchMs: number;
  metadataMs?: number;
}

export interface ScanReport {
  results: ScanResult[];
  violations: string[];
  seconds: number;
}

/** What PMS sends as `filename`: relative to the library folder, led by that folder's name. */
export function relativeFilename(file: ScanFile): string {
  const sep = file.root.includes("\\") && !file.root.includes("/") ? "\\" : "/";
  const rootName = file.root
    .replace(/[\\/]+$/, "")
    .split(/[\\/]/)
    .at(-1)!;
  return `${rootName}/${file.path
    .slice(file.root.replace(/[\\/]+$/, "").length + 1)
    .split(sep)
    .join("/")}`;
}

/** PMS's own guess at title and year from the file name. */
export function parsedTitle(path: string): { title: string; year?: number } {
  const stem = (path.split(/[\\/]/).at(-1) ?? path).replace(/\.[^.]+$/, "");
  const year = /\((\d{4})\)/.exec(stem)?.[1];
  return {
    title: stem
      .replace(/\(\d{4}\)/, "")
      .replace(/[._]+/g, " ")
      .trim(),
    ...(year ? { year: Number(year) } : {}),
  };
}

/** Who a PMS is, as its `/identity` says. */
export interface PmsIdentity {
  machineIdentifier: string;
  version: string;
  /**
   * Whether it names itself by X-Plex-Client-Identifier (default yes). Unverified on a real
   * PMS: a provider's authors report PMS sending none when a provider is added, only its
   * User-Agent (PlexMediaServer/<version>); a test turns it off to copy that.
   */
  sendsClientIdentifier?: boolean;
  /** Whether it sends `User-Agent: PlexMediaServer/<version>` (LIKELY: its HTTP client does elsewhere; no provider dump shows it). */
  sendsUserAgent?: boolean;
  /**
   * How it sends X-Plex-Language and X-Plex-Country. Plex's provider docs define both as
   * "passed as either headers or query parameters" and their own curl example puts them in the
   * query; a provider's author reports them absent at times. Which a real PMS does is unknown:
   * "header" (the default), "query", or "none" (neither sent).
   */
  localeVia?: "header" | "query" | "none";
}

/** The language and country PMS asks providers for. */
const LOCALE = { "X-Plex-Language": "en-US", "X-Plex-Country": "US" } as const;

/** The PMS a scan driver stands for when no simulated server is named. */
const SCANNER: PmsIdentity = { machineIdentifier: "5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e", version: "1.43.0.sim" };

/**
 * The headers PMS sends with every request to a metadata provider. PMS identifies itself the
 * way it does to plex.tv: X-Plex-Client-Identifier is the machineIdentifier its /identity
 * answers, with X-Plex-Product "Plex Media Server", its version, platform and "provides: server";
 * the provider docs add X-Plex-Language and X-Plex-Country. No credentials: a provider gets no
 * token (shared/plex/provider-contract.md).
 */
export const pmsRequestHeaders = (pms: PmsIdentity): Record<string, string> => ({
  accept: "application/json",
  ...(pms.sendsUserAgent === false ? {} : { "user-agent": `PlexMediaServer/${pms.version}` }),
  "x-plex-product": "Plex Media Server",
  "x-plex-version": pms.version,
  ...(pms.sendsClientIdentifier === false ? {} : { "x-plex-client-identifier": pms.machineIdentifier }),
  "x-plex-platform": "Linux",
  "x-plex-provides": "server",
  ...((pms.localeVia ?? "header") === "header" ? LOCALE : {}),
});

/** A provider URL as PMS requests it: with the language and country in the query when it sends them so. */
export function providerRequestUrl(url: string, pms: PmsIdentity): string {
  if (pms.localeVia !== "query") return url;
  return `${url}${url.includes("?") ? "&" : "?"}${new URLSearchParams(LOCALE)}`;
}

/**
 * Discovery, as PMS 1.43's log shows it: the registered URL itself with `?includePreferences=1`,
 * no slash before the `?` (`GET http://host:7979?includePreferences=1`). Below a path (an
 * instance's `/instances/<id>`, a TV provider's `/tv`) that is a request for `/instances/<id>`,
 * not `/instances/<id>/`.
 */
export async function discover(
  providerUrl: string,
  as: PmsIdentity = SCANNER,
): Promise<{ identifier: string; violations: string[]; types: number[] }> {
  const res = await fetch(providerRequestUrl(`${providerUrl}?includePreferences=1`, as), {
    headers: pmsRequestHeaders(as),
  });
  const body = await res.json();
  const violations = res.status !== 200 ? [`discovery answered ${res.status}`] : [];
  if (!checkProvider.Check(body))
    violations.push(`discovery: ${[...checkProvider.Errors(body)].map((e) => `${e.path} ${e.message}`).join("; ")}`);
  const features = (body as any)?.MediaProvider?.Feature?.map((f: any) => f.type) ?? [];
  for (const needed of ["metadata", "match"])
    if (!features.includes(needed)) violations.push(`discovery lacks the ${needed} feature`);
  const types: number[] = ((body as any)?.MediaProvider?.Types ?? []).map((t: any) => Number(t?.type));
  return { identifier: (body as any)?.MediaProvider?.identifier ?? "", violations, types };
}

const checkItem = TypeCompiler.Compile(PlexMetadataSchema);

/** The types a TV provider serves and the child type each lists under `Children`. */
const CHILD_TYPE: Record<string, string | undefined> = { show: "season", season: "episode" };

/**
 * What Plex's provider docs require of a show, season or episode beyond a movie's fields: the
 * GUID ends in the ratingKey, a season names its show (parentRatingKey/Key/Guid/Type/Title and
 * its index), an episode its season and show (grandparent… and parentIndex), and `Children`
 * (with includeChildren=1) holds items of the child type that name this item as their parent.
 */
export function tvItemProblems(what: string, m: PlexMetadata, identifier: string): string[] {
  const out: string[] = [];
  const rk = m.ratingKey;
  if (!m.guid.endsWith(`/${rk}`)) out.push(`${what}: guid ${m.guid} does not end in its ratingKey ${rk}`);
  if (m.key !== `/library/metadata/${rk}` && m.key !== `/library/metadata/${rk}/children`)
    out.push(`${what}: key ${m.key} does not point at ratingKey ${rk}`);
  const need = (fields: (keyof PlexMetadata)[]) => {
    for (const f of fields) if (m[f] === undefined) out.push(`${what}: ${m.type} ${rk} lacks ${f}`);
  };
  if (m.type === "season" || m.type === "episode") {
    need(["parentRatingKey", "parentKey", "parentGuid", "parentType", "parentTitle", "index"]);
    const parentType = m.type === "season" ? "show" : "season";
    if (m.parentType && m.parentType !== parentType)
      out.push(`${what}: ${m.type} ${rk} has parentType ${m.parentType}, not ${parentType}`);
    if (m.parentGuid && !m.parentGuid.startsWith(`${identifier}://${parentType}/`))
      out.push(`${what}: parentGuid ${m.parentGuid} is not ${identifier}://${parentType}/…`);
  }
  if (m.type === "episode") {
    need(["grandparentRatingKey", "grandparentKey", "grandparentGuid", "grandparentType", "grandparentTitle"]);
    need(["parentIndex"]);
    if (m.grandparentGuid && !m.grandparentGuid.startsWith(`${identifier}://show/`))
      out.push(`${what}: grandparentGuid ${m.grandparentGuid} is not ${identifier}://show/…`);
  }
  if (m.Children) {
    const kids = m.Children.Metadata;
    if (m.Children.size !== kids.length) out.push(`${what}: Children size ${m.Children.size} but ${kids.length} items`);
    for (const [i, kid] of kids.entries()) {
      if (!checkItem.Check(kid)) {
        out.push(
          `${what}: Children[${i}] ${[...checkItem.Errors(kid)]
            .slice(0, 3)
            .map((e) => `${e.path} ${e.message}`)
            .join("; ")}`,
        );
        continue;
      }
      const child = kid as PlexMetadata;
      if (child.type !== CHILD_TYPE[m.type]) out.push(`${what}: a ${m.type}'s child is a ${child.type}`);
      if (child.parentRatingKey !== rk)
        out.push(`${what}: child ${child.ratingKey} names parent ${child.parentRatingKey}`);
      out.push(...tvItemProblems(`${what} child ${child.ratingKey}`, child, identifier));
    }
  }
  return out;
}

export function containerProblems(what: string, status: number, body: unknown, identifier: string): string[] {
  if (status !== 200) return [];
  if (!checkContainer.Check(body)) {
    return [
      `${what}: ${[...checkContainer.Errors(body)]
        .slice(0, 3)
        .map((e) => `${e.path} ${e.message}`)
        .join("; ")}`,
    ];
  }
  const mc = (body as MediaContainer).MediaContainer;
  const out: string[] = [];
  const items = mc.Metadata ?? mc.Image ?? [];
  if (mc.size !== items.length) out.push(`${what}: size ${mc.size} but ${items.length} items`);
  for (const m of mc.Metadata ?? []) {
    if (!m.guid.startsWith(`${identifier}://${m.type}/`))
      out.push(`${what}: guid ${m.guid} is not ${identifier}://${m.type}/…`);
    if (m.key !== `/library/metadata/${m.ratingKey}` && m.type === "movie")
      out.push(`${what}: key ${m.key} does not point at ratingKey ${m.ratingKey}`);
    if (m.type === "show" || m.type === "season" || m.type === "episode")
      out.push(...tvItemProblems(what, m, identifier));
  }
  return out;
}

/**
 * The extras of an item, as PMS asks for them on every refresh after its metadata (`{metadata
 * key}/{ratingKey}/extras`: providers that answered 404 found PMS logging failed metadata
 * queries). Anything but a 200 MediaContainer under the provider's identifier is a violation.
 */
export async function fetchExtras(
  providerUrl: string,
  ratingKey: string,
  identifier: string,
  as: PmsIdentity = SCANNER,
): Promise<{ status: number; violations: string[] }> {
  const what = `extras of ${ratingKey}`;
  const res = await timed(providerRequestUrl(`${providerUrl}/library/metadata/${ratingKey}/extras`, as), {
    headers: pmsRequestHeaders(as),
  }).catch(() => ({ status: 0, body: undefined, ms: 0 }));
  if (res.status !== 200) return { status: res.status, violations: [`${what} answered ${res.status || "nothing"}`] };
  const violations = containerProblems(what, res.status, res.body, identifier);
  const mc = (res.body as MediaContainer | undefined)?.MediaContainer;
  if (!violations.length && mc?.identifier !== identifier)
    violations.push(`${what}: identifier ${mc?.identifier} is not ${identifier}`);
  return { status: res.status, violations };
}

export async function timed(input: string, init?: RequestInit) {
  const started = performance.now();
  const res = await fetch(input, init);
  const body = res.headers.get("content-type")?.includes("json") ? await res.json() : await res.text();
  return { status: res.status, body, ms: performance.now() - started };
}

export async function scanFiles(
  providerUrl: string,
  files: ScanFile[],
  options: { concurrency?: number; manual?: boolean; as?: PmsIdentity } = {},
): Promise<ScanReport> {
  const started = performance.now();
  const headers = pmsRequestHeaders(options.as ?? SCANNER);
  const { identifier, violations } = await discover(providerUrl, options.as);
  const results: ScanResult[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const file = files[i]!;
      const body = {
        type: 1,
        ...parsedTitle(file.path),
        filename: relativeFilename(file),
        ...(options.manual ? { manual: 1 } : {}),
      };
      const m = await timed(providerRequestUrl(`${providerUrl}/library/metadata/matches`, options.as ?? SCANNER), {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      violations.push(...containerProblems(`match ${file.path}`, m.status, m.body, identifier));
      if (m.status !== 200) violations.push(`match ${file.path} answered ${m.status}`);
      const candidates = (m.body as MediaContainer)?.MediaContainer?.Metadata ?? [];
      if (!options.manual && candidates.length > 1)
        violations.push(`match ${file.path}: ${candidates.length} candidates without manual`);
      const result: ScanResult = { file, matchStatus: m.status, matchMs: m.ms, match: candidates[0] };
      if (result.match) {
        const url = `${providerUrl}/library/metadata/${result.match.ratingKey}`;
        const md = await timed(providerRequestUrl(url, options.as ?? SCANNER), { headers });
        violations.push(...containerProblems(`metadata ${result.match.ratingKey}`, md.status, md.body, identifier));
        result.metadataStatus = md.status;
        result.metadataMs = md.ms;
        result.metadata = (md.body as MediaContainer)?.MediaContainer?.Metadata?.[0];
      }
      results[i] = result;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  return { results, violations, seconds: (performance.now() - started) / 1000 };
}
