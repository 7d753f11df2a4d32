/**
 * The peer's Deliver service (`protos.Deliver`): a client sends a signed envelope holding a
 * SeekInfo and receives blocks (full, filtered, or with private data) from start to stop, then
 * a status — common/deliver's behaviour, including its status codes for refused requests.
 */
import type * as grpc from '@grpc/grpc-js';
import { common, orderer, peer } from '@hyperledger/fabric-protos';
import type { SimChannel } from './channel';
import type { CommittedBlock } from './commits';
import { writeAll } from './streaming';

type DeliverKind = 'block' | 'filtered' | 'private';
type StatusCode = common.StatusMap[keyof common.StatusMap];
type DeliverCall = grpc.ServerDuplexStream<common.Envelope, peer.DeliverResponse>;

/** A request the Deliver service answers with a status instead of blocks. */
class DeliverRefusal extends Error {
  readonly status: StatusCode;
  constructor(st: StatusCode, message: string) {
    super(message);
    this.status = st;
  }
}

/** The handlers of `protos.Deliver` for a peer of `channel`. */
export function createDeliverService(channel: SimChannel): grpc.UntypedServiceImplementation {
  return {
    deliver: handler(channel, 'block'),
    deliverFiltered: handler(channel, 'filtered'),
    deliverWithPrivateData: handler(channel, 'private'),
  };
}

function handler(channel: SimChannel, kind: DeliverKind): grpc.handleBidiStreamingCall<common.Envelope, peer.DeliverResponse> {
  return (call: DeliverCall) => {
    const controller = new AbortController();
    const stop = (): void => {
      controller.abort();
    };
    call.on('cancelled', stop);
    call.on('error', stop);
    // Requests on one stream are served one after the other, as common/deliver does.
    let queue = Promise.resolve();
    call.on('data', (envelope: common.Envelope) => {
      queue = queue.then(() => serve(channel, kind, call, envelope, controller.signal));
    });
    call.on('end', () => {
      void queue.then(() => {
        if (!controller.signal.aborted) call.end();
      });
    });
  };
}

async function serve(channel: SimChannel, kind: DeliverKind, call: DeliverCall, envelope: common.Envelope, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  let finalStatus: StatusCode = common.Status.SUCCESS;
  try {
    const { start, stop, failIfNotReady } = readRequest(channel, envelope);
    if (failIfNotReady && start >= channel.ledger.height()) throw new DeliverRefusal(common.Status.NOT_FOUND, `block ${start} not available`);
    for await (const block of channel.commits.follow(start, signal)) {
      await writeAll(call, [toResponse(channel.id, kind, block)], signal);
      if (block.number >= stop) break;
      if (failIfNotReady && block.number + 1 >= channel.ledger.height()) {
        finalStatus = common.Status.NOT_FOUND;
        break;
      }
    }
  } catch (err) {
    finalStatus = err instanceof DeliverRefusal ? err.status : common.Status.INTERNAL_SERVER_ERROR;
  }
  // The client may have gone while the blocks were read.
  if (isAborted(signal)) return;
  const response = new peer.DeliverResponse();
  response.setStatus(finalStatus);
  await writeAll(call, [response], signal);
}

function readRequest(channel: SimChannel, envelope: common.Envelope): { start: number; stop: number; failIfNotReady: boolean } {
  let payload: common.Payload;
  let channelHeader: common.ChannelHeader;
  let signatureHeader: common.SignatureHeader;
  try {
    payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
    const header = payload.getHeader();
    if (header === undefined) throw new Error('missing header');
    channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
    signatureHeader = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
  } catch (err) {
    throw new DeliverRefusal(common.Status.BAD_REQUEST, (err as Error).message);
  }
  if (channelHeader.getChannelId() !== channel.id) throw new DeliverRefusal(common.Status.NOT_FOUND, 'channel not found');
  try {
    channel.authenticate(signatureHeader.getCreator_asU8(), envelope.getPayload_asU8(), envelope.getSignature_asU8());
  } catch (err) {
    throw new DeliverRefusal(common.Status.FORBIDDEN, (err as Error).message);
  }
  let seekInfo: orderer.SeekInfo;
  try {
    seekInfo = orderer.SeekInfo.deserializeBinary(payload.getData_asU8());
  } catch (err) {
    throw new DeliverRefusal(common.Status.BAD_REQUEST, (err as Error).message);
  }
  const height = channel.ledger.height();
  const start = seekPosition(seekInfo.getStart(), height, 'start');
  const stop = seekPosition(seekInfo.getStop(), height, 'stop');
  if (stop < start) throw new DeliverRefusal(common.Status.BAD_REQUEST, 'start number greater than stop number');
  return { start, stop, failIfNotReady: seekInfo.getBehavior() === orderer.SeekInfo.SeekBehavior.FAIL_IF_NOT_READY };
}

function seekPosition(position: orderer.SeekPosition | undefined, height: number, which: 'start' | 'stop'): number {
  switch (position?.getTypeCase() ?? orderer.SeekPosition.TypeCase.TYPE_NOT_SET) {
    case orderer.SeekPosition.TypeCase.OLDEST:
      return 0;
    case orderer.SeekPosition.TypeCase.NEWEST:
      return Math.max(height - 1, 0);
    case orderer.SeekPosition.TypeCase.SPECIFIED:
      return position?.getSpecified()?.getNumber() ?? 0;
    case orderer.SeekPosition.TypeCase.NEXT_COMMIT:
      return height;
    default:
      throw new DeliverRefusal(common.Status.BAD_REQUEST, `unknown type for seek ${which} position`);
  }
}

function toResponse(channelId: string, kind: DeliverKind, block: CommittedBlock): peer.DeliverResponse {
  const response = new peer.DeliverResponse();
  if (kind === 'block') response.setBlock(block.block);
  else if (kind === 'filtered') response.setFilteredBlock(filteredBlock(channelId, block));
  else {
    const withPrivate = new peer.BlockAndPrivateData();
    withPrivate.setBlock(block.block);
    response.setBlockAndPrivateData(withPrivate);
  }
  return response;
}

/** A block reduced to what a FilteredBlock shows: tx ids, types, codes, event names (no payloads). */
function filteredBlock(channelId: string, block: CommittedBlock): peer.FilteredBlock {
  const filtered = new peer.FilteredBlock();
  filtered.setChannelId(channelId);
  filtered.setNumber(block.number);
  filtered.setFilteredTransactionsList(
    block.txs.map((tx) => {
      const ftx = new peer.FilteredTransaction();
      ftx.setTxid(tx.txId);
      ftx.setType(tx.type as common.HeaderTypeMap[keyof common.HeaderTypeMap]);
      ftx.setTxValidationCode(tx.code as peer.TxValidationCodeMap[keyof peer.TxValidationCodeMap]);
      if (tx.type === common.HeaderType.ENDORSER_TRANSACTION) {
        const action = new peer.FilteredChaincodeAction();
        if (tx.event !== undefined) {
          const event = new peer.ChaincodeEvent();
          event.setChaincodeId(tx.event.getChaincodeId());
          event.setTxId(tx.event.getTxId());
          event.setEventName(tx.event.getEventName());
          action.setChaincodeEvent(event);
        }
        const actions = new peer.FilteredTransactionActions();
        actions.setChaincodeActionsList([action]);
        ftx.setTransactionActions(actions);
      }
      return ftx;
    }),
  );
  return filtered;
}

function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}
