/** Helpers shared by the streaming services (ChaincodeEvents, Deliver). */
import type * as grpc from '@grpc/grpc-js';
import { orderer } from '@hyperledger/fabric-protos';
import { rpcError, status } from './grpc-status';

/** The first block a ChaincodeEvents request reads (gateway's startBlockFromLedgerPosition). */
export function startBlock(position: orderer.SeekPosition | undefined, height: number): number {
  switch (position?.getTypeCase() ?? orderer.SeekPosition.TypeCase.TYPE_NOT_SET) {
    case orderer.SeekPosition.TypeCase.TYPE_NOT_SET:
    case orderer.SeekPosition.TypeCase.NEXT_COMMIT:
      return height;
    case orderer.SeekPosition.TypeCase.SPECIFIED:
      return position?.getSpecified()?.getNumber() ?? 0;
    default:
      throw rpcError(status.INVALID_ARGUMENT, `invalid start position type: ${position?.getTypeCase() ?? 0}`);
  }
}

/** Writes messages to a server stream, waiting for the client to drain a full buffer. */
export async function writeAll<T>(
  call: grpc.ServerWritableStream<unknown, T> | grpc.ServerDuplexStream<unknown, T>,
  messages: T[],
  signal: AbortSignal,
): Promise<void> {
  for (const message of messages) {
    if (signal.aborted) return;
    if (!call.write(message)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          call.off('drain', done);
          signal.removeEventListener('abort', done);
          resolve();
        };
        call.on('drain', done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }
}
