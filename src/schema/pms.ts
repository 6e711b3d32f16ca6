/**
 * TypeBox schemas of what we read from Plex Media Server (JSON answers, `Accept:
 * application/json`). Lenient where PMS is (numbers or strings for keys; extra fields pass),
 * strict on what the push side relies on.
 */
import { Type } from "@sinclair/typebox";

const Key = Type.Union([Type.String(), Type.Number()]);

export const PmsIdentity = Type.Object({
  MediaContainer: Type.Object({
    machineIdentifier: Type.Optional(Type.String()),
    version: Type.Optional(Type.String()),
  }),
});

export const PmsSections = Type.Object({
  MediaContainer: Type.Object({
    Directory: Type.Optional(
      Type.Array(
        Type.Object({
          key: Key,
          title: Type.String(),
          type: Type.String(),
          agent: Type.Optional(Type.String()),
          Location: Type.Optional(Type.Array(Type.Object({ path: Type.String() }))),
        }),
      ),
    ),
  }),
});

export const PmsItem = Type.Object({
  ratingKey: Key,
  guid: Type.Optional(Type.String()),
  title: Type.Optional(Type.String()),
  updatedAt: Type.Optional(Type.Number()),
  Media: Type.Optional(
    Type.Array(
      Type.Object({
        // A Part's size (bytes) and duration (ms): what finds a file whose name tells nothing (identity.ts).
        Part: Type.Optional(
          Type.Array(
            Type.Object({
              file: Type.String(),
              size: Type.Optional(Type.Union([Type.Number(), Type.String()])),
              duration: Type.Optional(Type.Union([Type.Number(), Type.String()])),
            }),
          ),
        ),
      }),
    ),
  ),
});

export const PmsItems = Type.Object({
  MediaContainer: Type.Object({
    size: Type.Optional(Type.Number()),
    totalSize: Type.Optional(Type.Number()),
    Metadata: Type.Optional(Type.Array(PmsItem)),
  }),
});

/** One item with whatever fields PMS shows (compared field by field by the edit strategy). */
export const PmsItemDetail = Type.Object({
  MediaContainer: Type.Object({ Metadata: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()))) }),
});

/** A collection as PMS lists it (`/library/sections/{id}/collections`, `…/all?type=18`, the collection itself). */
export const PmsCollection = Type.Object({
  ratingKey: Key,
  guid: Type.Optional(Type.String()),
  title: Type.Optional(Type.String()),
  summary: Type.Optional(Type.String()),
  childCount: Type.Optional(Type.Union([Type.Number(), Type.String()])),
  thumb: Type.Optional(Type.String()),
  Label: Type.Optional(Type.Array(Type.Object({ tag: Type.String() }))),
  Field: Type.Optional(
    Type.Array(
      Type.Object({
        name: Type.String(),
        locked: Type.Optional(Type.Union([Type.Boolean(), Type.Number(), Type.String()])),
      }),
    ),
  ),
});

/** Collections in a MediaContainer: JSON answers name them Metadata (XML's Directory accepted too). */
export const PmsCollections = Type.Object({
  MediaContainer: Type.Object({
    size: Type.Optional(Type.Number()),
    totalSize: Type.Optional(Type.Number()),
    Metadata: Type.Optional(Type.Array(PmsCollection)),
    Directory: Type.Optional(Type.Array(PmsCollection)),
  }),
});
