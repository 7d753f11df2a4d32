import { peer } from '@hyperledger/fabric-protos';
import { describe, expect, it } from 'vitest';
import { TxSimulation } from '../../src/chaincode/simulator';
import { MemoryState } from './memory-state';

function pageMetadata(pageSize: number, bookmark = ''): Uint8Array {
  const md = new peer.QueryMetadata();
  md.setPagesize(pageSize);
  md.setBookmark(bookmark);
  return md.serializeBinary();
}

function seeded(): MemoryState {
  const state = new MemoryState();
  state.commit([{ txId: 't1', writes: { a: '1', b: '2', c: '3' } }]);
  return state;
}

describe('TxSimulation', () => {
  it('records the first version read of a key', async () => {
    const state = seeded();
    const sim = new TxSimulation('kv', 'tx', state);
    await sim.getState('a');
    state.commit([{ txId: 't2', writes: { a: 'changed' } }]);
    expect(Buffer.from((await sim.getState('a')) ?? []).toString()).toBe('changed');
    expect((await sim.finish()).reads).toEqual([{ key: 'a', version: { blockNum: 1, txNum: 0 } }]);
  });

  it('records a repeated identical range query once, as Fabric deduplicates them', async () => {
    const sim = new TxSimulation('kv', 'tx', seeded());
    await sim.getStateByRange('a', 'c', new Uint8Array());
    await sim.getStateByRange('a', 'c', new Uint8Array());
    await sim.getStateByRange('b', '', new Uint8Array());
    const rw = await sim.finish();
    expect(rw.rangeQueries.map((q) => [q.startKey, q.endKey, q.itrExhausted, q.reads.map((r) => r.key)])).toEqual([
      ['a', 'c', true, ['a', 'b']],
      ['b', '', true, ['b', 'c']],
    ]);
  });

  it('records an iterator left open by the chaincode with what was fetched', async () => {
    const state = new MemoryState();
    const writes: Record<string, string> = {};
    for (let i = 0; i < 120; i++) writes[`k${String(i).padStart(3, '0')}`] = 'v';
    state.commit([{ txId: 't1', writes }]);
    const sim = new TxSimulation('kv', 'tx', state);
    const first = peer.QueryResponse.deserializeBinary(await sim.getStateByRange('k', 'l', new Uint8Array()));
    expect(first.getResultsList()).toHaveLength(100);
    expect(first.getHasMore()).toBe(true);
    const rw = await sim.finish();
    expect(rw.rangeQueries[0]).toMatchObject({ startKey: 'k', endKey: 'k100', itrExhausted: false });
    expect(rw.rangeQueries[0]?.reads).toHaveLength(101);
    expect(state.openIterators).toBe(0);
  });

  it('refuses writes after a paginated query, and paginated queries after writes', async () => {
    const a = new TxSimulation('kv', 'tx-a', seeded());
    await a.getStateByRange('a', '', pageMetadata(2));
    expect(() => { a.putState('x', Buffer.from('1')); }).toThrow(/writes are not allowed after a paginated query/);
    const b = new TxSimulation('kv', 'tx-b', seeded());
    b.putState('x', Buffer.from('1'));
    await expect(b.getStateByRange('a', '', pageMetadata(2))).rejects.toThrow(/paginated queries are not allowed in a transaction that writes/);
  });

  it('refuses an empty key, and any request after the simulation ended', async () => {
    const sim = new TxSimulation('kv', 'tx', seeded());
    expect(() => { sim.putState('', Buffer.from('1')); }).toThrow(/key must not be an empty string/);
    await sim.finish();
    await expect(sim.getState('a')).rejects.toThrow(/simulation has ended/);
    expect(() => { sim.delState('a'); }).toThrow(/simulation has ended/);
  });

  it('answers QUERY_STATE_NEXT for an unknown iterator with an error', async () => {
    const sim = new TxSimulation('kv', 'tx', seeded());
    await expect(sim.queryStateNext('nope')).rejects.toThrow('query iterator not found');
  });
});
