import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { REGISTER_PATH, listenChaincodeSupport, type ChaincodeStream, type ChaincodeSupportServer } from '../../src/chaincode/support-server';

const bytes = (b: Buffer): Buffer => b;
let server: ChaincodeSupportServer | undefined;

afterEach(async () => {
  await server?.close(100);
  server = undefined;
});

/** An echo peer: answers every message with its bytes reversed. */
async function echoServer(maxMessageBytes = 1024 * 1024): Promise<ChaincodeSupportServer> {
  return listenChaincodeSupport(
    (stream: ChaincodeStream) => {
      stream.on('data', (m) => {
        stream.write(Buffer.from(m).reverse());
      });
      stream.on('end', () => {
        stream.end();
      });
    },
    { maxMessageBytes },
  );
}

function grpcClient(port: number): grpc.Client {
  return new grpc.Client(`127.0.0.1:${String(port)}`, grpc.credentials.createInsecure());
}

/** A gRPC length-prefixed message (uncompressed). */
function frame(message: Buffer | string): Buffer {
  const body = typeof message === 'string' ? Buffer.from(message) : message;
  const header = Buffer.alloc(5);
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

/** A Register call made with raw HTTP/2, so a test decides how the bytes are cut into chunks. */
function rawRegister(port: number): { req: http2.ClientHttp2Stream; answer: Promise<{ status: string | undefined; bytes: Buffer }>; close: () => void } {
  const session = http2.connect(`http://127.0.0.1:${String(port)}`);
  const req = session.request({ ':method': 'POST', ':path': REGISTER_PATH, 'content-type': 'application/grpc', te: 'trailers' });
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  const answer = new Promise<{ status: string | undefined; bytes: Buffer }>((resolve) => {
    req.on('trailers', (t: http2.IncomingHttpHeaders) => {
      resolve({ status: t['grpc-status'] as string | undefined, bytes: Buffer.concat(chunks) });
    });
  });
  return { req, answer, close: () => { session.close(); } };
}

describe('chaincode support server', () => {
  it('exchanges messages with a grpc-js client on Register and ends the call with status OK', async () => {
    server = await echoServer();
    const client = grpcClient(server.port);
    const call = client.makeBidiStreamRequest(REGISTER_PATH, bytes, bytes);
    const received: string[] = [];
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('data', (m: Buffer) => received.push(m.toString()));
    const big = 'x'.repeat(200_000) + 'y'; // spans many HTTP/2 frames
    for (const m of ['abc', '', big]) call.write(Buffer.from(m));
    call.end();
    expect((await status).code).toBe(grpc.status.OK);
    expect(received).toEqual(['cba', '', Buffer.from(big).reverse().toString()]);
    client.close();
  });

  it('answers another method with UNIMPLEMENTED', async () => {
    server = await echoServer();
    const client = grpcClient(server.port);
    const err = await new Promise<grpc.ServiceError | null>((resolve) => {
      client.makeUnaryRequest('/protos.Other/Call', bytes, bytes, Buffer.from('x'), (e) => {
        resolve(e);
      });
    });
    expect(err?.code).toBe(grpc.status.UNIMPLEMENTED);
    client.close();
  });

  it('reassembles messages split across and packed into HTTP/2 data chunks', async () => {
    server = await echoServer();
    const { req, answer, close } = rawRegister(server.port);
    const wire = Buffer.concat([frame('hello'), frame('world')]);
    // The length prefix of the first message split, the second message packed behind it.
    req.write(wire.subarray(0, 3));
    await new Promise((r) => setTimeout(r, 20));
    req.write(wire.subarray(3, 12));
    await new Promise((r) => setTimeout(r, 20));
    req.end(wire.subarray(12));
    const { status, bytes: received } = await answer;
    expect(status).toBe('0');
    expect(received.equals(Buffer.concat([frame('olleh'), frame('dlrow')]))).toBe(true);
    close();
  });

  it('reassembles a large message written in many small pieces, with the next message packed behind its last piece', async () => {
    server = await echoServer();
    const { req, answer, close } = rawRegister(server.port);
    const large = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    const small = Buffer.from('tail');
    const wire = Buffer.concat([frame(large), frame(small)]);
    for (let at = 0; at < wire.length; at += 997) {
      req.write(wire.subarray(at, Math.min(wire.length, at + 997)));
      if (at % (997 * 50) === 0) await new Promise((r) => setTimeout(r, 5));
    }
    req.end();
    const { status, bytes: received } = await answer;
    expect(status).toBe('0');
    expect(received.equals(Buffer.concat([frame(Buffer.from(large).reverse()), frame(Buffer.from(small).reverse())]))).toBe(true);
    close();
  });

  it('cuts a call that sends a message over the size limit with RESOURCE_EXHAUSTED', async () => {
    server = await echoServer(10);
    const client = grpcClient(server.port);
    const call = client.makeBidiStreamRequest(REGISTER_PATH, bytes, bytes);
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('error', () => undefined);
    call.write(Buffer.alloc(11));
    expect((await status).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    client.close();
  });
});
