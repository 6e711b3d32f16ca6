/**
 * Checks an upstream answer against its TypeBox schema (compiled once per schema). Returns
 * the typed value, or where and why it does not fit, for the caller's own error type.
 */
import type { Static, TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";

const compiled = new Map<TSchema, ReturnType<typeof TypeCompiler.Compile>>();

export function decode<T extends TSchema>(
  schema: T,
  data: unknown,
): { ok: true; value: Static<T> } | { ok: false; problem: string } {
  let check = compiled.get(schema);
  if (!check) compiled.set(schema, (check = TypeCompiler.Compile(schema)));
  if (check.Check(data)) return { ok: true, value: data as Static<T> };
  const first = check.Errors(data).First();
  return { ok: false, problem: `${first?.path || "/"} ${first?.message ?? ""}`.trim() };
}
