/** `GET /api/paths/suggest`: the path rules inferred from both sides' files, with their coverage. */
import { Elysia } from "elysia";
import { HttpError } from "../http.ts";
import type { Suggestion } from "../paths/suggest.ts";
import type { Access } from "./access.ts";

export interface PathRoutesSource {
  access: Access;
  /** Undefined when push is off: the Plex side's files come from the Plex index. */
  suggest?: () => Promise<Suggestion>;
}

export const pathRoutes = (src: PathRoutesSource) =>
  new Elysia({ name: "paths" }).get("/api/paths/suggest", async ({ request }) => {
    src.access.requireRead(request.headers);
    if (!src.suggest)
      throw new HttpError(409, "push_off", "inferring path rules needs Plex's file list: set PLEX_URL and PLEX_TOKEN");
    try {
      return await src.suggest();
    } catch (err) {
      throw new HttpError(503, "unavailable", `cannot list both sides' files now: ${(err as Error).message}`);
    }
  });
