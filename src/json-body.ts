/**
 * A guarded JSON body parser for a route's `parse` hook. In order, before anything else
 * looks at the body: the route's token check (an unauthenticated body is never read), the
 * size (413, from Content-Length or while reading), the nesting depth (a linear scan: deep
 * nesting makes JSON.parse, validation and error reporting cost memory and stack), then
 * JSON.parse. Errors are HttpErrors naming the problem, never echoing the body.
 */
import { HttpError } from "./http.ts";

export interface BodyLimits {
  maxBytes: number;
  maxDepth: number;
  /** Throws when the request may not send a body here (e.g. a wrong token). */
  authorise?: (headers: Headers) => void;
}

/** The deepest nesting of arrays/objects in a JSON text, scanning no further than one level past `limit`. */
export function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if (c === 93 || c === 125) depth--;
  }
  return deepest;
}

/** 413 naming what was too large (the body, or a part of it) and the limit. */
export const tooLarge = (maxBytes: number, what = "the request body") =>
  new HttpError(
    413,
    "body_too_large",
    `${what} is larger than this endpoint accepts (${Math.round(maxBytes / 1024)} KiB)`,
  );

/** The body's bytes, at most `maxBytes`: a declared larger body is refused unread, a chunked one stops being read past it. */
export async function readBytes(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length"));
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

export const readText = async (request: Request, maxBytes: number): Promise<string> =>
  new TextDecoder().decode(await readBytes(request, maxBytes));

export const guardedJson =
  (limits: BodyLimits) =>
  async ({ request }: { request: Request }): Promise<unknown> => {
    limits.authorise?.(request.headers);
    const type = request.headers.get("content-type") ?? "";
    if (type && !/^application\/(?:[\w.+-]*\+)?json\b/i.test(type)) {
      throw new HttpError(415, "unsupported_media_type", "send the body as JSON (Content-Type: application/json)");
    }
    const text = await readText(request, limits.maxBytes);
    if (text.trim() === "") return {}; // an empty body is an empty object: the route's schema decides
    if (nestingDepth(text, limits.maxDepth) > limits.maxDepth) {
      throw new HttpError(400, "too_deep", `the request body is nested more than ${limits.maxDepth} levels deep`);
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new HttpError(400, "bad_request", "the request body is not valid JSON");
    }
  };

/**
 * The dashboard's forms (application/x-www-form-urlencoded) the same way: authorise first,
 * then at most `maxBytes`, parsed to name → values (a name may repeat, e.g. checkboxes).
 */
export const guardedForm =
  (limits: Omit<BodyLimits, "maxDepth">) =>
  async ({ request }: { request: Request }): Promise<Record<string, string[]>> => {
    limits.authorise?.(request.headers);
    const type = request.headers.get("content-type") ?? "";
    if (type && !/^application\/x-www-form-urlencoded\b/i.test(type)) {
      throw new HttpError(415, "unsupported_media_type", "send the form as application/x-www-form-urlencoded");
    }
    const form: Record<string, string[]> = {};
    for (const [name, value] of new URLSearchParams(await readText(request, limits.maxBytes)))
      (form[name] ??= []).push(value);
    return form;
  };
