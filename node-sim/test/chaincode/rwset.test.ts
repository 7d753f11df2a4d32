import { ledger } from '@hyperledger/fabric-protos';
import { describe, expect, it } from 'vitest';
import { compareKeys, decodeTxRwSet, encodeTxRwSet } from '../../src/chaincode/rwset';
import type { RwSet } from '../../src/chaincode/types';

const sample: RwSet = {
  reads: [
    { key: 'a', version: { blockNum: 3, txNum: 0 } },
    { key: 'b' },
    { key: 'big', version: { blockNum: 2 ** 40, txNum: 70_000 } },
    { key: 'zero', version: { blockNum: 0, txNum: 0 } },
  ],
  rangeQueries: [
    { startKey: 'k1', endKey: 'k9', itrExhausted: true, reads: [{ key: 'k2', version: { blockNum: 5, txNum: 1 } }] },
    { startKey: '\u0000t\u0000', endKey: '\u0000t\u0000x', itrExhausted: false, reads: [] },
  ],
  writes: [
    { key: 'a', isDelete: false, value: Buffer.from('value-a') },
    { key: 'gone', isDelete: true },
    { key: '键', isDelete: false, value: Buffer.from([0, 1, 2]) },
  ],
};

describe('encodeTxRwSet / decodeTxRwSet', () => {
  it('round-trips every field', () => {
    const bytes = encodeTxRwSet('credex', sample);
    const decoded = decodeTxRwSet(bytes);
    expect(decoded).toHaveLength(1);
    expect(decoded[0]?.namespace).toBe('credex');
    const rw = decoded[0]?.rwset;
    expect(rw?.reads).toEqual(sample.reads);
    expect(rw?.rangeQueries).toEqual(sample.rangeQueries);
    expect(rw?.writes.map((w) => ({ ...w, value: w.value ? Buffer.from(w.value) : undefined }))).toEqual(
      sample.writes.map((w) => ({ ...w, value: w.value ? Buffer.from(w.value) : undefined })),
    );
  });

  it('is exactly what the generated fabric-protos classes read and write', () => {
    const bytes = encodeTxRwSet('credex', sample);
    const tx = ledger.rwset.TxReadWriteSet.deserializeBinary(bytes);
    expect(tx.getDataModel()).toBe(ledger.rwset.TxReadWriteSet.DataModel.KV);
    const ns = tx.getNsRwsetList()[0];
    expect(ns?.getNamespace()).toBe('credex');
    const kv = ledger.rwset.kvrwset.KVRWSet.deserializeBinary(ns?.getRwset_asU8() ?? new Uint8Array());
    const reads = kv.getReadsList();
    expect(reads.map((r) => [r.getKey(), r.hasVersion(), r.getVersion()?.getBlockNum(), r.getVersion()?.getTxNum()])).toEqual([
      ['a', true, 3, 0],
      ['b', false, undefined, undefined],
      ['big', true, 2 ** 40, 70_000],
      ['zero', true, 0, 0],
    ]);
    const rq = kv.getRangeQueriesInfoList();
    expect(rq[0]?.getStartKey()).toBe('k1');
    expect(rq[0]?.getEndKey()).toBe('k9');
    expect(rq[0]?.getItrExhausted()).toBe(true);
    expect(rq[0]?.getRawReads()?.getKvReadsList().map((r) => r.getKey())).toEqual(['k2']);
    expect(rq[1]?.getItrExhausted()).toBe(false);
    expect(rq[1]?.hasRawReads()).toBe(false);
    const writes = kv.getWritesList();
    expect(writes.map((w) => [w.getKey(), w.getIsDelete(), Buffer.from(w.getValue_asU8()).toString('hex')])).toEqual([
      ['a', false, Buffer.from('value-a').toString('hex')],
      ['gone', true, ''],
      ['键', false, '000102'],
    ]);

    // Re-encoding with the generated classes gives the same bytes: the encoding is canonical.
    expect(Buffer.from(kv.serializeBinary()).equals(Buffer.from(ns?.getRwset_asU8() ?? []))).toBe(true);
    expect(Buffer.from(tx.serializeBinary()).equals(Buffer.from(bytes))).toBe(true);
  });

  it('reads a TxReadWriteSet built with the generated classes', () => {
    const kv = new ledger.rwset.kvrwset.KVRWSet();
    const read = new ledger.rwset.kvrwset.KVRead();
    read.setKey('x');
    const v = new ledger.rwset.kvrwset.Version();
    v.setBlockNum(9);
    v.setTxNum(2);
    read.setVersion(v);
    kv.addReads(read);
    const write = new ledger.rwset.kvrwset.KVWrite();
    write.setKey('y');
    write.setValue(Buffer.from('v'));
    kv.addWrites(write);
    const ns = new ledger.rwset.NsReadWriteSet();
    ns.setNamespace('cc');
    ns.setRwset(kv.serializeBinary());
    const tx = new ledger.rwset.TxReadWriteSet();
    tx.addNsRwset(ns);
    expect(decodeTxRwSet(tx.serializeBinary())).toEqual([
      {
        namespace: 'cc',
        rwset: {
          reads: [{ key: 'x', version: { blockNum: 9, txNum: 2 } }],
          rangeQueries: [],
          writes: [{ key: 'y', isDelete: false, value: Buffer.from('v') }],
        },
      },
    ]);
  });

  it('gives no namespace entry for a simulation that touched nothing, as a peer does', () => {
    const bytes = encodeTxRwSet('credex', { reads: [], rangeQueries: [], writes: [] });
    expect(decodeTxRwSet(bytes)).toEqual([]);
  });

  it('rejects malformed bytes with a stable code', () => {
    const bytes = Buffer.from(encodeTxRwSet('credex', sample));
    expect(() => decodeTxRwSet(bytes.subarray(0, bytes.length - 3))).toThrow(/^PROTOBUF_INVALID/);
  });
});

describe('compareKeys', () => {
  it('orders by UTF-8 bytes like Go and LevelDB, not by UTF-16 code units', () => {
    const keys = ['b', 'a', '\u{10ffff}', '\uffff', '\ue000', 'ab', '', '\u0000x', '😀', 'é'];
    const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...keys].sort(compareKeys)).toEqual(byBytes);
  });
});
