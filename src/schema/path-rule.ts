/**
 * A path rule as configured: how a Plex path becomes a Stash path and back. Its own schema so
 * that config/ (which validates it) and paths/ (which compiles it) need not import each other.
 */
import { Type, type Static } from "@sinclair/typebox";

export const PathSample = Type.Object({
  plex: Type.String({ minLength: 1, description: "An absolute path as Plex sees it." }),
  stash: Type.String({ minLength: 1, description: "The same file as Stash sees it." }),
});

export const PathRuleSchema = Type.Object({
  name: Type.String({ minLength: 1, description: "Shown in errors and in `stash2plex map`." }),
  plex: Type.String({ minLength: 1, description: "Regex matched against Plex's absolute path." }),
  stash: Type.String({ description: "Replacement giving Stash's path ($1, $<name> refer to groups)." }),
  reverse: Type.Optional(
    Type.Object(
      {
        stash: Type.String({ minLength: 1, description: "Regex matched against Stash's path." }),
        plex: Type.String({ description: "Replacement giving Plex's path." }),
      },
      { description: "Stash → Plex direction; derived from plex/stash when the regex allows it." },
    ),
  ),
  plexRoots: Type.Array(Type.String({ minLength: 1 }), {
    default: [],
    description: "The Plex library folders this rule covers (PMS sends file names relative to them).",
  }),
  caseInsensitive: Type.Boolean({ default: false, description: "Match paths ignoring case (Windows, SMB)." }),
  plexSeparator: Type.Union([Type.Literal("keep"), Type.Literal("/"), Type.Literal("\\")], {
    default: "keep",
    description: "Separator written into Plex paths ('/' or '\\'), 'keep' leaves them.",
  }),
  stashSeparator: Type.Union([Type.Literal("keep"), Type.Literal("/"), Type.Literal("\\")], {
    default: "keep",
    description: "Separator written into Stash paths ('/' or '\\'), 'keep' leaves them.",
  }),
  samples: Type.Array(PathSample, { default: [], description: "Pairs checked both ways at start-up." }),
});
export type PathRuleConfig = Static<typeof PathRuleSchema>;
