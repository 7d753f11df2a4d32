/**
 * rwset.TxReadWriteSet with kvrwset.KVRWSet inside, as a Fabric peer puts it into
 * ChaincodeAction.results (fabric-protos ledger/rwset/rwset.proto, kvrwset/kv_rwset.proto).
 */
import type { RwSet, Version } from './types';
import { Reader, Writer, WireError } from './wire';

/**
 * Orders keys as Go compares strings (UTF-8 bytes), which is code point order. JavaScript's
 * `<` compares UTF-16 code units and puts U+10000.. before U+E000..U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // Surrogates (U+D800..DFFF) stand for code points above U+FFFF: lift them above U+E000..FFFF.
    if (ca >= 0xd800 && cb >= 0xd800) {
      ca = ca >= 0xe000 ? ca - 0x800 : ca + 0x2000;
      cb = cb >= 0xe000 ? cb - 0x800 : cb + 0x2000;
    }
    return ca - cb;
  }
  return a.length - b.length;
}

const DATA_MODEL_KV = 0;

function writeVersion(w: Writer, field: number, v: Version): void {
  w.begin(field).uintField(1, v.blockNum).uintField(2, v.txNum).end();
}

/** kvrwset.KVRWSet bytes. */
export function encodeKvRwSet(rw: RwSet): Buffer {
  const w = new Writer(256);
  for (const r of rw.reads) {
    w.begin(1).stringField(1, r.key);
    if (r.version) writeVersion(w, 2, r.version);
    w.end();
  }
  for (const q of rw.rangeQueries) {
    w.begin(2).stringField(1, q.startKey).stringField(2, q.endKey).boolField(3, q.itrExhausted);
    // Fabric leaves the raw_reads oneof unset when the query read nothing.
    if (q.reads.length > 0) {
      w.begin(4);
      for (const r of q.reads) {
        w.begin(1).stringField(1, r.key);
        writeVersion(w, 2, r.version);
        w.end();
      }
      w.end();
    }
    w.end();
  }
  for (const x of rw.writes) {
    w.begin(3).stringField(1, x.key).boolField(2, x.isDelete);
    if (!x.isDelete && x.value) w.bytesField(3, x.value);
    w.end();
  }
  return w.finish();
}

/**
 * rwset.TxReadWriteSet bytes for one namespace. A simulation that read and wrote nothing
 * gives no namespace entry, as on a Fabric peer.
 */
export function encodeTxRwSet(namespace: string, rw: RwSet): Uint8Array {
  const w = new Writer(256);
  w.uintField(1, DATA_MODEL_KV);
  if (rw.reads.length > 0 || rw.rangeQueries.length > 0 || rw.writes.length > 0) {
    w.begin(2).stringField(1, namespace).bytesField(2, encodeKvRwSet(rw)).end();
  }
  return w.finish();
}

function readVersion(r: Reader): Version {
  const v = { blockNum: 0, txNum: 0 };
  while (r.more()) {
    const tag = r.tag();
    if (tag === 1 * 8 + 0) v.blockNum = r.varint();
    else if (tag === 2 * 8 + 0) v.txNum = r.varint();
    else r.skip(tag & 7);
  }
  return v;
}

function readKvRead(r: Reader): { key: string; version?: Version } {
  let key = '';
  let version: Version | undefined;
  while (r.more()) {
    const tag = r.tag();
    if (tag === 1 * 8 + 2) key = r.string();
    else if (tag === 2 * 8 + 2) version = readVersion(r.sub());
    else r.skip(tag & 7);
  }
  return version ? { key, version } : { key };
}

function readRangeQuery(r: Reader): RwSet['rangeQueries'][number] {
  const q: RwSet['rangeQueries'][number] = { startKey: '', endKey: '', itrExhausted: false, reads: [] };
  while (r.more()) {
    const tag = r.tag();
    switch (tag) {
      case 1 * 8 + 2:
        q.startKey = r.string();
        break;
      case 2 * 8 + 2:
        q.endKey = r.string();
        break;
      case 3 * 8 + 0:
        q.itrExhausted = r.varint() !== 0;
        break;
      case 4 * 8 + 2: {
        const reads = r.sub();
        while (reads.more()) {
          const t = reads.tag();
          if (t !== 1 * 8 + 2) {
            reads.skip(t & 7);
            continue;
          }
          const read = readKvRead(reads.sub());
          q.reads.push({ key: read.key, version: read.version ?? { blockNum: 0, txNum: 0 } });
        }
        break;
      }
      case 5 * 8 + 2:
        throw new WireError('range query with reads_merkle_hashes is not supported (node-sim records raw reads)');
      default:
        r.skip(tag & 7);
    }
  }
  return q;
}

function readKvWrite(r: Reader): RwSet['writes'][number] {
  let key = '';
  let isDelete = false;
  let value: Uint8Array | undefined;
  while (r.more()) {
    const tag = r.tag();
    if (tag === 1 * 8 + 2) key = r.string();
    else if (tag === 2 * 8 + 0) isDelete = r.varint() !== 0;
    else if (tag === 3 * 8 + 2) value = r.bytes();
    else r.skip(tag & 7);
  }
  if (isDelete) return { key, isDelete };
  return { key, isDelete, value: value ?? new Uint8Array(0) };
}

/** kvrwset.KVRWSet bytes → RwSet (metadata writes are not supported and rejected). */
export function decodeKvRwSet(bytes: Uint8Array): RwSet {
  const rw: RwSet = { reads: [], rangeQueries: [], writes: [] };
  const r = new Reader(bytes);
  while (r.more()) {
    const tag = r.tag();
    switch (tag) {
      case 1 * 8 + 2:
        rw.reads.push(readKvRead(r.sub()));
        break;
      case 2 * 8 + 2:
        rw.rangeQueries.push(readRangeQuery(r.sub()));
        break;
      case 3 * 8 + 2:
        rw.writes.push(readKvWrite(r.sub()));
        break;
      case 4 * 8 + 2:
        throw new WireError('metadata writes (key-level endorsement) are not supported by node-sim');
      default:
        r.skip(tag & 7);
    }
  }
  return rw;
}

/** rwset.TxReadWriteSet bytes → one entry per namespace (private data hashes are rejected). */
export function decodeTxRwSet(bytes: Uint8Array): { namespace: string; rwset: RwSet }[] {
  const out: { namespace: string; rwset: RwSet }[] = [];
  const r = new Reader(bytes);
  while (r.more()) {
    const tag = r.tag();
    if (tag === 1 * 8 + 0) {
      const model = r.varint();
      if (model !== DATA_MODEL_KV) throw new WireError(`unsupported rwset data model ${String(model)}`);
    } else if (tag === 2 * 8 + 2) {
      const ns = r.sub();
      let namespace = '';
      let rwset: RwSet = { reads: [], rangeQueries: [], writes: [] };
      while (ns.more()) {
        const t = ns.tag();
        if (t === 1 * 8 + 2) namespace = ns.string();
        else if (t === 2 * 8 + 2) rwset = decodeKvRwSet(ns.bytes());
        else if (t === 3 * 8 + 2) throw new WireError('private data (collection hashed rwsets) is not supported by node-sim');
        else ns.skip(t & 7);
      }
      out.push({ namespace, rwset });
    } else {
      r.skip(tag & 7);
    }
  }
  return out;
}
