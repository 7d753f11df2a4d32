/**
 * What committing one block changes besides storing it: world-state writes with their
 * versions, history entries and tx index entries — derived from the block's transactions and
 * its TRANSACTIONS_FILTER only, so a commit and a later replay give the same result.
 */
import { createHash } from 'node:crypto';
import { peer } from '@hyperledger/fabric-protos';
import type { Version } from '../chaincode/types';
import type { HistoryEntry, TxIndexEntry } from './codec';
import type { ParsedEnvelope } from './envelope';

export interface StateWrite {
  ns: string;
  key: string;
  isDelete: boolean;
  value: Uint8Array;
  version: Version;
}

export interface BlockUpdates {
  /** By `ns 0x00 key`; a later valid transaction's write replaces an earlier one. */
  state: Map<string, StateWrite>;
  history: { ns: string; key: string; version: Version; entry: HistoryEntry }[];
  txIndex: { txId: string; entry: TxIndexEntry }[];
}

const EMPTY = new Uint8Array(0);

/** Derives a block's updates from its parsed envelopes and their validation codes. */
export function blockUpdates(blockNumber: number, txs: ParsedEnvelope[], codes: Uint8Array): BlockUpdates {
  const updates: BlockUpdates = { state: new Map(), history: [], txIndex: [] };
  const indexed = new Set<string>();
  txs.forEach((tx, txNum) => {
    const code = codes[txNum] ?? peer.TxValidationCode.NOT_VALIDATED;
    // Like Fabric's index, a tx id answers with its first occurrence; a later duplicate is not indexed.
    if (tx.txId !== '' && code !== peer.TxValidationCode.DUPLICATE_TXID && !indexed.has(tx.txId)) {
      indexed.add(tx.txId);
      updates.txIndex.push({ txId: tx.txId, entry: { blockNumber, txIndex: txNum, code } });
    }
    if (code !== peer.TxValidationCode.VALID || tx.action === undefined) return;
    const version = { blockNum: blockNumber, txNum };
    for (const { namespace: ns, rwset } of tx.action.namespaces) {
      for (const write of rwset.writes) {
        const value = write.isDelete ? EMPTY : (write.value ?? EMPTY);
        updates.state.set(`${ns}\u0000${write.key}`, { ns, key: write.key, isDelete: write.isDelete, value, version });
        updates.history.push({
          ns,
          key: write.key,
          version,
          entry: { txId: tx.txId, isDelete: write.isDelete, value, timestamp: tx.timestamp },
        });
      }
    }
  });
  return updates;
}

/**
 * The COMMIT_HASH chain, in the spirit of Fabric's kvledger: sha256 over the validation flags,
 * the block's state updates in key order, and the previous commit hash. (Fabric serializes
 * the update batch in its own internal format, so the bytes differ from a real peer's.)
 */
export function commitHash(codes: Uint8Array, updates: BlockUpdates, previous: Uint8Array): Uint8Array {
  const hash = createHash('sha256');
  const u32 = Buffer.allocUnsafe(4);
  const addSized = (bytes: Uint8Array): void => {
    u32.writeUInt32BE(bytes.length);
    hash.update(u32).update(bytes);
  };
  addSized(codes);
  const keys = [...updates.state.keys()].sort();
  for (const composed of keys) {
    const write = updates.state.get(composed);
    if (write === undefined) continue;
    addSized(Buffer.from(composed, 'utf8'));
    hash.update(Uint8Array.of(write.isDelete ? 1 : 0));
    addSized(write.value);
  }
  hash.update(previous);
  return hash.digest();
}
