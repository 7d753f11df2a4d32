/**
 * What the peers learn from committed blocks: each transaction's id, validation code and
 * chaincode event, waiting for a transaction's commit, and following the chain from a block
 * number onwards (for Deliver and ChaincodeEvents).
 */
import { common, peer } from '@hyperledger/fabric-protos';
import type { Ledger } from './ledger/ledger';

/** Index of TRANSACTIONS_FILTER in common.BlockMetadata (common.BlockMetadataIndex). */
const TRANSACTIONS_FILTER = 2;
const DUPLICATE_TXID = peer.TxValidationCode.DUPLICATE_TXID;

/** One transaction of a committed block, as the events services need it. */
export interface CommittedTx {
  txId: string;
  /** common.HeaderType of the envelope. */
  type: number;
  /** peer.TxValidationCode. */
  code: number;
  /** The chaincode event of the transaction, if it emitted one. */
  event?: peer.ChaincodeEvent;
}

/** A committed block, decoded once. */
export interface CommittedBlock {
  number: number;
  bytes: Uint8Array;
  block: common.Block;
  txs: CommittedTx[];
}

/** Decodes a committed block's transactions, their codes and chaincode events. */
export function parseBlock(bytes: Uint8Array): CommittedBlock {
  const block = common.Block.deserializeBinary(bytes);
  const filter = block.getMetadata()?.getMetadataList_asU8()[TRANSACTIONS_FILTER] ?? new Uint8Array(0);
  const envelopes = block.getData()?.getDataList_asU8() ?? [];
  const txs = envelopes.map((envelopeBytes, index) => parseTx(envelopeBytes, filter[index] ?? 0));
  return { number: block.getHeader()?.getNumber() ?? 0, bytes, block, txs };
}

function parseTx(envelopeBytes: Uint8Array, code: number): CommittedTx {
  try {
    const envelope = common.Envelope.deserializeBinary(envelopeBytes);
    const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
    const channelHeader = common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array(0));
    const tx: CommittedTx = { txId: channelHeader.getTxId(), type: channelHeader.getType(), code };
    if (tx.type !== common.HeaderType.ENDORSER_TRANSACTION) return tx;
    const transaction = peer.Transaction.deserializeBinary(payload.getData_asU8());
    const action = transaction.getActionsList()[0];
    if (action === undefined) return tx;
    const actionPayload = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
    const prp = peer.ProposalResponsePayload.deserializeBinary(actionPayload.getAction()?.getProposalResponsePayload_asU8() ?? new Uint8Array(0));
    const chaincodeAction = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
    const eventBytes = chaincodeAction.getEvents_asU8();
    if (eventBytes.length > 0) tx.event = peer.ChaincodeEvent.deserializeBinary(eventBytes);
    return tx;
  } catch {
    // A malformed envelope is kept in the block with an invalid code; it has no event to offer.
    return { txId: '', type: -1, code };
  }
}

/** Commit notifications for the peers, built on the ledger's block listener. */
export interface CommitFeed {
  /** Resolves when `txId` is committed (at once if it already is). Rejects with an AbortError on `signal`. */
  waitForTx(txId: string, signal?: AbortSignal, opts?: { notYetCommitted?: boolean }): Promise<{ code: number; blockNumber: number }>;
  /** Calls `listener` once `txId` commits from now on (no ledger lookup); returns a cancel function. */
  onCommitted(txId: string, listener: () => void): () => void;
  /** Committed blocks from `start` on, waiting for new ones, until `signal` aborts (then it returns). */
  follow(start: number, signal: AbortSignal): AsyncGenerator<CommittedBlock>;
  close(): void;
}

/** Creates the commit feed of a ledger. */
export function createCommitFeed(ledger: Ledger): CommitFeed {
  const txWaiters = new Map<string, Set<(r: { code: number; blockNumber: number }) => void>>();
  const heightWaiters = new Set<() => void>();
  // Statuses of the latest commits, so a commit-status request right after the commit needs no
  // ledger read. Fabric reports a transaction id's first commit, so a later duplicate is not cached.
  const recent = new Map<string, { code: number; blockNumber: number }>();
  const RECENT_MAX = 20_000;
  // The latest blocks as decoded at commit, so the followers waiting at the head (every
  // Deliver and ChaincodeEvents stream) neither read them back from the ledger nor decode them again.
  const latest = new Map<number, CommittedBlock>();
  const LATEST_MAX = 4;

  const unsubscribe = ledger.onBlock((blockNumber, bytes) => {
    const committed = parseBlock(bytes);
    latest.set(blockNumber, committed);
    latest.delete(blockNumber - LATEST_MAX);
    {
      for (const tx of committed.txs) {
        if (tx.code !== DUPLICATE_TXID && !recent.has(tx.txId)) recent.set(tx.txId, { code: tx.code, blockNumber });
        const waiters = txWaiters.get(tx.txId);
        if (waiters === undefined) continue;
        // Fabric reports the first commit of a transaction id; a later duplicate does not change it.
        txWaiters.delete(tx.txId);
        for (const resolve of waiters) resolve({ code: tx.code, blockNumber });
      }
    }
    for (const txId of recent.keys()) {
      if (recent.size <= RECENT_MAX) break;
      recent.delete(txId);
    }
    const wake = [...heightWaiters];
    heightWaiters.clear();
    for (const resolve of wake) resolve();
  });

  function waitForHeightAbove(blockNumber: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        heightWaiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      heightWaiters.add(done);
      signal.addEventListener('abort', done, { once: true });
      if (ledger.height() > blockNumber || signal.aborted) done();
    });
  }

  async function waitForTx(
    txId: string,
    signal?: AbortSignal,
    opts: { notYetCommitted?: boolean } = {},
  ): Promise<{ code: number; blockNumber: number }> {
    signal?.throwIfAborted();
    let resolveWaiter!: (r: { code: number; blockNumber: number }) => void;
    const committed = new Promise<{ code: number; blockNumber: number }>((resolve) => (resolveWaiter = resolve));
    let waiters = txWaiters.get(txId);
    if (waiters === undefined) txWaiters.set(txId, (waiters = new Set()));
    waiters.add(resolveWaiter);
    const forget = (): void => {
      const set = txWaiters.get(txId);
      set?.delete(resolveWaiter);
      if (set?.size === 0) txWaiters.delete(txId);
    };
    try {
      // Registered first, looked up second: a commit in between is not missed.
      const cached = recent.get(txId);
      if (cached !== undefined) return cached;
      // The caller knows the transaction is still being ordered: no ledger read needed.
      const known = opts.notYetCommitted === true ? undefined : await ledger.getTx(txId);
      if (known !== undefined) return { code: known.code, blockNumber: known.blockNumber };
      if (signal === undefined) return await committed;
      return await new Promise((resolve, reject) => {
        const onAbort = (): void => {
          reject(signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        committed.then(resolve, reject).finally(() => {
          signal.removeEventListener('abort', onAbort);
        });
      });
    } finally {
      forget();
    }
  }

  function onCommitted(txId: string, listener: () => void): () => void {
    let waiters = txWaiters.get(txId);
    if (waiters === undefined) txWaiters.set(txId, (waiters = new Set()));
    const once = (): void => {
      listener();
    };
    waiters.add(once);
    return () => {
      const set = txWaiters.get(txId);
      set?.delete(once);
      if (set?.size === 0) txWaiters.delete(txId);
    };
  }

  async function* follow(start: number, signal: AbortSignal): AsyncGenerator<CommittedBlock> {
    let next = start;
    while (!signal.aborted) {
      if (next < ledger.height()) {
        const cached = latest.get(next);
        if (cached !== undefined) yield cached;
        else {
          const bytes = await ledger.getBlock(next);
          if (bytes === undefined) throw new Error(`block ${next} is missing from the ledger`);
          yield parseBlock(bytes);
        }
        next += 1;
        continue;
      }
      await waitForHeightAbove(next, signal);
    }
  }

  return {
    waitForTx,
    onCommitted,
    follow,
    close: () => {
      unsubscribe();
      latest.clear();
      for (const resolve of [...heightWaiters]) resolve();
      heightWaiters.clear();
    },
  };
}
