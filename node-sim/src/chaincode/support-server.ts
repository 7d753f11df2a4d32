/**
 * The `protos.ChaincodeSupport/Register` endpoint a peer offers its chaincodes, served as plain
 * HTTP/2 with gRPC's framing (each message: a compressed flag byte, a 4-byte big-endian length,
 * the protobuf bytes; the call ends with `grpc-status` trailers).
 *
 * Why not a grpc-js server: the chaincode stream carries a dozen small messages per
 * execution, three executions per transaction, and grpc-js spends ≈ 7 µs of CPU per round trip
 * on its call machinery (interceptors, decompression checks, object-mode streams) on top of
 * HTTP/2's own work. fabric-shim's grpc-js client sees the same protocol either way: response
 * headers with `content-type: application/grpc`, length-prefixed messages, status trailers.
 * Only this one bidirectional method is served, insecure, on 127.0.0.1, as Fabric's peer
 * serves its chaincode endpoint to chaincodes it launched itself.
 */
import { EventEmitter } from 'node:events';
import http2 from 'node:http2';

export const REGISTER_PATH = '/protos.ChaincodeSupport/Register';

/** gRPC status codes used here. */
const Status = { OK: 0, INTERNAL: 13, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12 } as const;

/** One chaincode's Register stream: messages in as `data` events, out with `write`. */
export interface ChaincodeStream {
  on(event: 'data', listener: (message: Buffer) => void): this;
  on(event: 'end' | 'close', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  /** Sends one message (the protobuf bytes; the framing is added here). */
  write(message: Uint8Array): void;
  /** Ends the call with status OK. */
  end(): void;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
}

export interface ChaincodeSupportServer {
  readonly port: number;
  /** Stops accepting, lets open streams end for up to `graceMs`, then cuts them. */
  close(graceMs?: number): Promise<void>;
}

class RegisterStream extends EventEmitter implements ChaincodeStream {
  /** Bytes received but not yet framed, and how many must be there before framing can go on. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private needed = 5;
  private ended = false;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    private readonly maxMessageBytes: number,
  ) {
    super();
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => {
      stream.sendTrailers({ 'grpc-status': String(Status.OK) });
    });
    stream.on('data', (chunk: Buffer) => {
      this.receive(chunk);
    });
    stream.on('end', () => this.emit('end'));
    stream.on('error', (err: Error) => {
      this.report(err);
    });
    stream.on('close', () => this.emit('close'));
  }

  get destroyed(): boolean {
    return this.stream.destroyed;
  }

  get writableEnded(): boolean {
    return this.ended || this.stream.writableEnded;
  }

  write(message: Uint8Array): void {
    const frame = Buffer.allocUnsafe(5 + message.length);
    frame[0] = 0;
    frame.writeUInt32BE(message.length, 1);
    frame.set(message, 5);
    this.stream.write(frame);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.stream.end();
  }

  /** Cuts the call with a status other than OK (a protocol error of the chaincode's side). */
  private fail(code: number, message: string): void {
    if (this.ended) return;
    this.ended = true;
    this.stream.removeAllListeners('wantTrailers');
    this.stream.on('wantTrailers', () => {
      this.stream.sendTrailers({ 'grpc-status': String(code), 'grpc-message': encodeURIComponent(message) });
    });
    this.stream.end();
    this.report(new Error(message));
  }

  /** An 'error' event for whoever listens (the stream closes either way, with a 'close' event). */
  private report(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private receive(chunk: Buffer): void {
    // A message split over many chunks is joined once, when all of it is there.
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < this.needed) return;
    const buf = this.pending.length === 1 ? chunk : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.needed = 5;
    let pos = 0;
    while (buf.length - pos >= 5) {
      const compressed = buf[pos];
      const length = buf.readUInt32BE(pos + 1);
      if (compressed !== 0) {
        this.fail(Status.INTERNAL, 'compressed messages are not supported (no grpc-encoding was negotiated)');
        return;
      }
      if (length > this.maxMessageBytes) {
        this.fail(Status.RESOURCE_EXHAUSTED, `received message larger than max (${String(length)} vs. ${String(this.maxMessageBytes)})`);
        return;
      }
      if (buf.length - pos - 5 < length) {
        this.needed = 5 + length;
        break;
      }
      const message = buf.subarray(pos + 5, pos + 5 + length);
      pos += 5 + length;
      this.emit('data', message);
      if (this.ended && this.stream.destroyed) return;
    }
    if (pos < buf.length) {
      this.pending = [buf.subarray(pos)];
      this.pendingBytes = buf.length - pos;
    }
  }
}

/** Serves Register on 127.0.0.1 at a free port; `onRegister` gets each chaincode's stream. */
export async function listenChaincodeSupport(
  onRegister: (stream: ChaincodeStream) => void,
  opts: { maxMessageBytes: number },
): Promise<ChaincodeSupportServer> {
  // grpc-js (the peer side node-sim used before) lifts HTTP/2's session memory cap the same way.
  const server = http2.createServer({ maxSessionMemory: Number.MAX_SAFE_INTEGER });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined); // reported through the streams
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined); // a RegisterStream reports its own
    const contentType = headers['content-type'] ?? '';
    if (headers[':path'] !== REGISTER_PATH || !contentType.startsWith('application/grpc')) {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': String(Status.UNIMPLEMENTED),
          'grpc-message': encodeURIComponent(`unknown service or method ${String(headers[':path'])}`),
        },
        { endStream: true },
      );
      return;
    }
    onRegister(new RegisterStream(stream, opts.maxMessageBytes));
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
  return {
    port,
    close: (graceMs = 1000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          for (const s of sessions) s.destroy();
        }, graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        for (const s of sessions) s.close();
      }),
  };
}
