/**
 * Byte layouts of the ledger's LevelDB sublevels. Keys sort the way the ledger reads them:
 * block numbers big-endian, state keys as `namespace 0x00 key` (so a namespace's keys are one
 * contiguous, byte-ordered range, as in Fabric's state database), history keys as
 * `namespace 0x00 key 0xFF blockNum txNum` — 0xFF never occurs in UTF-8, so one key's history
 * never runs into another key that merely starts with the same text.
 */
import type { Version } from '../chaincode/types';

/** Key of a sublevel's savepoint: the last block number applied to it. No real key starts with 0x00. */
export const SAVEPOINT_KEY = '\u0000savepoint';

export function blockKey(blockNumber: number): Buffer {
  const key = Buffer.allocUnsafe(8);
  key.writeBigUInt64BE(BigInt(blockNumber));
  return key;
}

export function blockNumberOfKey(key: Uint8Array): number {
  return Number(Buffer.from(key.buffer, key.byteOffset, key.byteLength).readBigUInt64BE());
}

export function stateKey(ns: string, key: string): string {
  return `${ns}\u0000${key}`;
}

/** The `[gte, lt)` bounds of a state range; '' as end means to the end of the namespace. */
export function stateRange(ns: string, startKey: string, endKey: string): { gte: string; lt: string } {
  return { gte: stateKey(ns, startKey), lt: endKey === '' ? `${ns}\u0001` : stateKey(ns, endKey) };
}

export function keyOfStateKey(ns: string, composed: string): string {
  return composed.slice(ns.length + 1);
}

/** State value: blockNum (u32 BE), txNum (u32 BE), then the value bytes. */
export function encodeStateValue(version: Version, value: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(8 + value.length);
  out.writeUInt32BE(version.blockNum, 0);
  out.writeUInt32BE(version.txNum, 4);
  out.set(value, 8);
  return out;
}

export function decodeStateValue(bytes: Uint8Array): { value: Uint8Array; version: Version } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    version: { blockNum: buf.readUInt32BE(0), txNum: buf.readUInt32BE(4) },
    value: new Uint8Array(buf.subarray(8)),
  };
}

function historyPrefix(ns: string, key: string): Buffer {
  return Buffer.concat([Buffer.from(stateKey(ns, key), 'utf8'), Buffer.from([0xff])]);
}

export function historyKey(ns: string, key: string, version: Version): Buffer {
  const prefix = historyPrefix(ns, key);
  const out = Buffer.allocUnsafe(prefix.length + 8);
  prefix.copy(out);
  out.writeUInt32BE(version.blockNum, prefix.length);
  out.writeUInt32BE(version.txNum, prefix.length + 4);
  return out;
}

export function historyRange(ns: string, key: string): { gt: Buffer; lt: Buffer } {
  const prefix = historyPrefix(ns, key);
  return { gt: prefix, lt: Buffer.concat([prefix, Buffer.alloc(8, 0xff), Buffer.from([0xff])]) };
}

export interface HistoryEntry {
  txId: string;
  isDelete: boolean;
  value: Uint8Array;
  timestamp: { seconds: number; nanos: number };
}

/** History value: flags (1 = delete), seconds (f64 BE), nanos (u32 BE), txId length (u16 BE), txId, value. */
export function encodeHistoryValue(entry: HistoryEntry): Buffer {
  const txId = Buffer.from(entry.txId, 'utf8');
  const out = Buffer.allocUnsafe(15 + txId.length + entry.value.length);
  out.writeUInt8(entry.isDelete ? 1 : 0, 0);
  out.writeDoubleBE(entry.timestamp.seconds, 1);
  out.writeUInt32BE(entry.timestamp.nanos, 9);
  out.writeUInt16BE(txId.length, 13);
  txId.copy(out, 15);
  out.set(entry.value, 15 + txId.length);
  return out;
}

export function decodeHistoryValue(bytes: Uint8Array): HistoryEntry {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const txIdLength = buf.readUInt16BE(13);
  return {
    isDelete: buf.readUInt8(0) === 1,
    timestamp: { seconds: buf.readDoubleBE(1), nanos: buf.readUInt32BE(9) },
    txId: buf.subarray(15, 15 + txIdLength).toString('utf8'),
    value: new Uint8Array(buf.subarray(15 + txIdLength)),
  };
}

export interface TxIndexEntry {
  blockNumber: number;
  txIndex: number;
  code: number;
}

/** Tx index value: blockNumber (u32 BE), txIndex (u32 BE), validation code (u8). */
export function encodeTxIndexValue(entry: TxIndexEntry): Buffer {
  const out = Buffer.allocUnsafe(9);
  out.writeUInt32BE(entry.blockNumber, 0);
  out.writeUInt32BE(entry.txIndex, 4);
  out.writeUInt8(entry.code, 8);
  return out;
}

export function decodeTxIndexValue(bytes: Uint8Array): TxIndexEntry {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { blockNumber: buf.readUInt32BE(0), txIndex: buf.readUInt32BE(4), code: buf.readUInt8(8) };
}

export function encodeSavepoint(blockNumber: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(blockNumber);
  return out;
}

export function decodeSavepoint(bytes: Uint8Array): number {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt32BE(0);
}
