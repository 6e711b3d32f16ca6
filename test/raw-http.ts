/**
 * Raw HTTP over a TCP socket, for requests fetch() cannot send (it always fixes the Host
 * header, the method and the framing): a malformed request reaches the server as written.
 */
import { connect } from "node:net";

export interface RawAnswer {
  /** The status code of the first answer, or 0 when the server closed without one. */
  status: number;
  text: string;
}

/** Sends `request` as is and reads until the server closes or `timeoutMs` passes. */
export function rawRequest(port: number, request: string | Uint8Array, timeoutMs = 3000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, "127.0.0.1");
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), text });
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on("connect", () => socket.write(request));
    socket.on("data", (c: Buffer) => {
      chunks.push(c);
      // One complete answer is enough: stop at the end of its body when the length is known.
      const text = Buffer.concat(chunks).toString("latin1");
      const head = text.indexOf("\r\n\r\n");
      const length = /content-length: *(\d+)/i.exec(text.slice(0, head))?.[1];
      if (head >= 0 && length !== undefined && Buffer.byteLength(text.slice(head + 4), "latin1") >= Number(length))
        done();
    });
    socket.on("error", done);
    socket.on("close", done);
  });
}
