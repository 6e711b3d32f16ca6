/**
 * What both simulators share: an HTTP server on 127.0.0.1 that can go down for real
 * (connections refused) and come back on the same port.
 */
export abstract class SimServer {
  private server?: ReturnType<typeof Bun.serve>;
  private port = 0;

  protected abstract handle(req: Request): Response | Promise<Response>;

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  start(): this {
    this.server = Bun.serve({ port: this.port, hostname: "127.0.0.1", fetch: (req) => this.handle(req) });
    this.port = this.server.port!;
    return this;
  }

  /** Goes down: connections are refused until start() again, on the same port. */
  async stop() {
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
