/**
 * What both simulators share: an HTTP server on 127.0.0.1 that can go down for real
 * (connections refused, open websockets closed) and come back on the same port, and
 * websockets a subclass may accept (`upgrade`) and write to (`broadcast`), as PMS's
 * notification stream does.
 */
import type { Server, ServerWebSocket } from "bun";

export abstract class SimServer {
  private server?: Server<undefined>;
  private port = 0;
  /** Requests upgraded to a websocket during their handling (their fetch answers nothing). */
  private upgraded = new WeakSet<Request>();
  /** The open websockets. */
  readonly sockets = new Set<ServerWebSocket<undefined>>();

  protected abstract handle(req: Request): Response | Promise<Response>;

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  start(): this {
    this.server = Bun.serve({
      port: this.port,
      hostname: "127.0.0.1",
      fetch: async (req) => {
        const res = await this.handle(req);
        return this.upgraded.has(req) ? undefined : res;
      },
      websocket: {
        open: (ws) => void this.sockets.add(ws),
        close: (ws) => void this.sockets.delete(ws),
        message: () => {},
      },
    });
    this.port = this.server.port!;
    return this;
  }

  /** Accepts a websocket on this request (its Upgrade headers); false when it is not one. */
  upgrade(req: Request): boolean {
    const ok = this.server?.upgrade(req, { data: undefined }) ?? false;
    if (ok) this.upgraded.add(req);
    return ok;
  }

  /** Sends a text frame to every open websocket. */
  broadcast(text: string) {
    for (const ws of this.sockets) ws.send(text);
  }

  /** Goes down: connections are refused until start() again, on the same port. */
  async stop() {
    for (const ws of this.sockets) ws.close(1001, "server going down");
    this.sockets.clear();
    await this.server?.stop(true);
    this.server = undefined;
  }

  get running() {
    return this.server !== undefined;
  }
}

/** A port nothing listens on right now. */
export function freePort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}
