/** `GET /metrics`: Prometheus text format, open like /healthz (it holds counts, never a secret). */
import { Elysia } from "elysia";
import type { Metrics } from "../metrics.ts";

export const metricsRoute = (metrics: Metrics) =>
  new Elysia({ name: "metrics" }).get(
    "/metrics",
    async () => new Response(await metrics.text(), { headers: { "content-type": metrics.contentType } }),
  );
