/**
 * protos.ChaincodeMessage and the payload messages of the chaincode protocol
 * (fabric-protos peer/chaincode_shim.proto), encoded with the wire codec.
 */
import { Reader, Writer, WireError } from './wire';

/** protos.ChaincodeMessage.Type */
export const MsgType = {
  UNDEFINED: 0,
  REGISTER: 1,
  REGISTERED: 2,
  INIT: 3,
  READY: 4,
  TRANSACTION: 5,
  COMPLETED: 6,
  ERROR: 7,
  GET_STATE: 8,
  PUT_STATE: 9,
  DEL_STATE: 10,
  INVOKE_CHAINCODE: 11,
  RESPONSE: 13,
  GET_STATE_BY_RANGE: 14,
  GET_QUERY_RESULT: 15,
  QUERY_STATE_NEXT: 16,
  QUERY_STATE_CLOSE: 17,
  KEEPALIVE: 18,
  GET_HISTORY_FOR_KEY: 19,
  GET_STATE_METADATA: 20,
  PUT_STATE_METADATA: 21,
  GET_PRIVATE_DATA_HASH: 22,
  PURGE_PRIVATE_DATA: 23,
  WRITE_BATCH_STATE: 24,
  GET_STATE_MULTIPLE: 25,
} as const;

const TYPE_NAMES = new Map<number, string>(Object.entries(MsgType).map(([name, n]) => [n, name]));

export function msgTypeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `UNKNOWN(${String(type)})`;
}

const EMPTY = Buffer.alloc(0);

export interface ChaincodeMessage {
  type: number;
  payload: Uint8Array;
  txid: string;
  channelId: string;
  /** protos.SignedProposal bytes, embedded as they are. */
  proposal?: Uint8Array;
  timestamp?: { seconds: number; nanos: number };
  /** From the chaincode_event field (COMPLETED). */
  event?: { eventName: string; payload: Uint8Array };
}

export function encodeChaincodeMessage(m: ChaincodeMessage): Buffer {
  const w = new Writer(64 + m.payload.length + (m.proposal?.length ?? 0));
  w.uintField(1, m.type);
  if (m.timestamp) {
    w.begin(2).uintField(1, m.timestamp.seconds).int32Field(2, m.timestamp.nanos).end();
  }
  w.bytesField(3, m.payload);
  w.stringField(4, m.txid);
  if (m.proposal) w.bytesField(5, m.proposal, true);
  if (m.event) {
    w.begin(6).stringField(3, m.event.eventName).bytesField(4, m.event.payload).end();
  }
  w.stringField(7, m.channelId);
  return w.finish();
}

export function decodeChaincodeMessage(bytes: Uint8Array): ChaincodeMessage {
  const r = new Reader(bytes);
  const m: ChaincodeMessage = { type: 0, payload: EMPTY, txid: '', channelId: '' };
  while (r.more()) {
    const tag = r.tag();
    switch (tag) {
      case 1 * 8 + 0:
        m.type = r.varint();
        break;
      case 3 * 8 + 2:
        m.payload = r.bytes();
        break;
      case 4 * 8 + 2:
        m.txid = r.string();
        break;
      case 5 * 8 + 2:
        m.proposal = r.bytes();
        break;
      case 6 * 8 + 2:
        m.event = decodeChaincodeEvent(r.sub());
        break;
      case 7 * 8 + 2:
        m.channelId = r.string();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return m;
}

function decodeChaincodeEvent(r: Reader): { eventName: string; payload: Uint8Array } {
  const e = { eventName: '', payload: EMPTY as Uint8Array };
  while (r.more()) {
    const tag = r.tag();
    if (tag === 3 * 8 + 2) e.eventName = r.string();
    else if (tag === 4 * 8 + 2) e.payload = r.bytes();
    else r.skip(tag & 7);
  }
  return e;
}

/** protos.ChaincodeID → name (REGISTER payload). */
export function decodeChaincodeIdName(bytes: Uint8Array): string {
  const r = new Reader(bytes);
  let name = '';
  while (r.more()) {
    const tag = r.tag();
    if (tag === 2 * 8 + 2) name = r.string();
    else r.skip(tag & 7);
  }
  return name;
}

/** protos.ChaincodeInput */
export function encodeChaincodeInput(args: Uint8Array[], isInit: boolean): Buffer {
  let size = 8;
  for (const a of args) size += a.length + 6;
  const w = new Writer(size);
  for (const a of args) w.bytesField(1, a, true);
  w.boolField(3, isInit);
  return w.finish();
}

/** protos.Response */
export function decodeResponse(bytes: Uint8Array): { status: number; message: string; payload: Uint8Array } {
  const r = new Reader(bytes);
  const res = { status: 0, message: '', payload: EMPTY as Uint8Array };
  while (r.more()) {
    const tag = r.tag();
    switch (tag) {
      case 1 * 8 + 0:
        res.status = r.int32();
        break;
      case 2 * 8 + 2:
        res.message = r.string();
        break;
      case 3 * 8 + 2:
        res.payload = r.bytes();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return res;
}

/**
 * The request payloads the shim sends, decoded into one shape: every one of them is a
 * handful of string fields plus at most one bytes field.
 */
export interface StateRequest {
  key: string;
  collection: string;
  value: Uint8Array;
  startKey: string;
  endKey: string;
  /** QueryMetadata bytes (pagination) of GET_STATE_BY_RANGE / GET_QUERY_RESULT. */
  metadata: Uint8Array;
  query: string;
  id: string;
}

// Field layout per message type: [field number, property] (string unless noted).
type Field = readonly [number, 'key' | 'collection' | 'startKey' | 'endKey' | 'query' | 'id' | 'value' | 'metadata'];
const LAYOUTS: Partial<Record<number, readonly Field[]>> = {
  [MsgType.GET_STATE]: [[1, 'key'], [2, 'collection']],
  [MsgType.GET_PRIVATE_DATA_HASH]: [[1, 'key'], [2, 'collection']],
  [MsgType.GET_STATE_METADATA]: [[1, 'key'], [2, 'collection']],
  [MsgType.DEL_STATE]: [[1, 'key'], [2, 'collection']],
  [MsgType.PURGE_PRIVATE_DATA]: [[1, 'key'], [2, 'collection']],
  [MsgType.PUT_STATE]: [[1, 'key'], [2, 'value'], [3, 'collection']],
  [MsgType.PUT_STATE_METADATA]: [[1, 'key'], [3, 'collection'], [4, 'metadata']],
  [MsgType.GET_STATE_BY_RANGE]: [[1, 'startKey'], [2, 'endKey'], [3, 'collection'], [4, 'metadata']],
  [MsgType.GET_QUERY_RESULT]: [[1, 'query'], [2, 'collection'], [3, 'metadata']],
  [MsgType.GET_HISTORY_FOR_KEY]: [[1, 'key']],
  [MsgType.QUERY_STATE_NEXT]: [[1, 'id']],
  [MsgType.QUERY_STATE_CLOSE]: [[1, 'id']],
};

export function decodeStateRequest(type: number, bytes: Uint8Array): StateRequest {
  const req: StateRequest = { key: '', collection: '', value: EMPTY, startKey: '', endKey: '', metadata: EMPTY, query: '', id: '' };
  const layout = LAYOUTS[type];
  if (!layout) throw new WireError(`no payload layout for ${msgTypeName(type)}`);
  const r = new Reader(bytes);
  while (r.more()) {
    const tag = r.tag();
    const field = layout.find((f) => f[0] === tag >>> 3);
    if (!field || (tag & 7) !== 2) {
      r.skip(tag & 7);
      continue;
    }
    const prop = field[1];
    if (prop === 'value' || prop === 'metadata') req[prop] = r.bytes();
    else req[prop] = r.string();
  }
  return req;
}

/** protos.QueryMetadata → page size and bookmark. */
export function decodeQueryMetadata(bytes: Uint8Array): { pageSize: number; bookmark: string } {
  const r = new Reader(bytes);
  const md = { pageSize: 0, bookmark: '' };
  while (r.more()) {
    const tag = r.tag();
    if (tag === 1 * 8 + 0) md.pageSize = r.int32();
    else if (tag === 2 * 8 + 2) md.bookmark = r.string();
    else r.skip(tag & 7);
  }
  return md;
}

/**
 * Builds a protos.QueryResponse incrementally: each result is a QueryResultBytes whose
 * result_bytes is a queryresult.KV or queryresult.KeyModification.
 */
export class QueryResponseWriter {
  private readonly w = new Writer(1024);

  addKV(namespace: string, key: string, value: Uint8Array): void {
    this.w.begin(1).begin(1).stringField(1, namespace).stringField(2, key).bytesField(3, value).end().end();
  }

  addKeyModification(m: { txId: string; value: Uint8Array; isDelete: boolean; timestamp: { seconds: number; nanos: number } }): void {
    const w = this.w;
    w.begin(1).begin(1).stringField(1, m.txId).bytesField(2, m.value);
    w.begin(3).uintField(1, m.timestamp.seconds).int32Field(2, m.timestamp.nanos).end();
    w.boolField(4, m.isDelete).end().end();
  }

  finish(hasMore: boolean, id: string, metadata?: { fetchedRecordsCount: number; bookmark: string }): Buffer {
    const w = this.w;
    w.boolField(2, hasMore).stringField(3, id);
    if (metadata) w.begin(4).int32Field(1, metadata.fetchedRecordsCount).stringField(2, metadata.bookmark).end();
    return w.finish();
  }
}

/**
 * Replaces the transient map inside a protos.SignedProposal (Proposal.payload is a
 * ChaincodeProposalPayload {input = 1, TransientMap = 2}). The signature no longer covers the
 * result, which does not matter to the chaincode: the shim never verifies it.
 */
export function withTransient(signedProposal: Uint8Array, transient: Map<string, Uint8Array>): Buffer {
  let proposalBytes: Uint8Array = EMPTY;
  let signature: Uint8Array = EMPTY;
  const sp = new Reader(signedProposal);
  while (sp.more()) {
    const tag = sp.tag();
    if (tag === 1 * 8 + 2) proposalBytes = sp.bytes();
    else if (tag === 2 * 8 + 2) signature = sp.bytes();
    else sp.skip(tag & 7);
  }
  const proposal = new Writer(proposalBytes.length + 256);
  const pr = new Reader(proposalBytes);
  while (pr.more()) {
    const tag = pr.tag();
    if (tag !== 2 * 8 + 2) {
      if ((tag & 7) !== 2) throw new WireError('unexpected field in Proposal');
      proposal.bytesField(tag >>> 3, pr.bytes(), true);
      continue;
    }
    const payload = new Writer(256);
    const cr = new Reader(pr.bytes());
    while (cr.more()) {
      const t = cr.tag();
      if (t === 1 * 8 + 2) payload.bytesField(1, cr.bytes(), true);
      else cr.skip(t & 7);
    }
    for (const key of [...transient.keys()].sort()) {
      payload.begin(2).stringField(1, key).bytesField(2, transient.get(key) ?? EMPTY).end();
    }
    proposal.bytesField(2, payload.finish(), true);
  }
  return new Writer(proposalBytes.length + signature.length + 300)
    .bytesField(1, proposal.finish())
    .bytesField(2, signature)
    .finish();
}
