/**
 * What PMS tells about watching: webhooks (Plex Pass: a multipart POST with a JSON `payload`
 * part), the live notification stream, `/status/sessions` and the watch history. Kept apart
 * from server.ts (the library and the provider calls); the server hands it every request first.
 * (Issue 21 fills this in.)
 */
import type { PmsSim, SimItem } from "./server.ts";

export class PlexWatch {
  constructor(readonly pms: PmsSim) {}

  /** Answers the requests about watching (sessions, history, notifications); undefined for the rest. */
  async handle(_req: Request, _url: URL): Promise<Response | undefined> {
    return undefined;
  }

  /** The token owner rated an item (PUT /:/rate); rating in 0–10, undefined when cleared. */
  rated(_item: SimItem, _rating: number | undefined): void {}
}
