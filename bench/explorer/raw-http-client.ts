import { connect, type Socket } from "node:net";

/**
 * A minimal keep-alive HTTP/1.1 client for load generation (like wrk): one socket, one request in
 * flight, responses framed by Content-Length. Node's http client costs more CPU per request than
 * the server under test, and on a two-core machine that would be measured as server latency.
 */
export class RawHttpClient {
  private socket: Socket | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  private pending: { resolve: (r: { status: number; body: string }) => void; reject: (e: Error) => void } | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    /** The local address to connect from (each loopback address is its own client to the server). */
    private readonly localAddress?: string,
  ) {}

  private open(): Promise<Socket> {
    if (this.socket) return Promise.resolve(this.socket);
    return new Promise((resolve, reject) => {
      const socket = connect({ port: this.port, host: this.host, localAddress: this.localAddress }, () => resolve(socket));
      socket.setNoDelay(true);
      socket.once("error", (e) => {
        this.pending?.reject(e);
        reject(e);
      });
      socket.on("data", (chunk) => this.receive(chunk));
      socket.on("close", () => (this.socket = undefined));
      this.socket = socket;
    });
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const headerEnd = this.buffer.indexOf("\r\n\r\n");
    if (headerEnd < 0) return;
    const head = this.buffer.subarray(0, headerEnd).toString("latin1");
    const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? NaN);
    if (!Number.isFinite(length)) {
      this.pending?.reject(new Error(`response without Content-Length: ${head.split("\r\n")[0]}`));
      return;
    }
    if (this.buffer.length < headerEnd + 4 + length) return;
    const body = this.buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString("utf8");
    this.buffer = this.buffer.subarray(headerEnd + 4 + length);
    const status = Number(head.slice(9, 12));
    const p = this.pending;
    this.pending = undefined;
    p?.resolve({ status, body });
  }

  async post(path: string, json: string): Promise<{ status: number; body: string }> {
    const socket = await this.open();
    const body = Buffer.from(json);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      socket.write(body);
    });
  }

  close(): void {
    this.socket?.destroy();
  }
}
