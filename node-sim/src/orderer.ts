/**
 * The ordering service of the channel, solo-style, fused with the committing peer's ledger:
 * broadcast checks an envelope as an orderer does (well formed, for this channel, signed by a
 * member identity), the block cutter batches envelopes by count, size and timeout (Fabric's
 * blockcutter), each batch becomes the next `common.Block` (header chained by hash, data hash,
 * orderer-signed SIGNATURES and LAST_CONFIG metadata), which is validated and committed through
 * the ledger — one block at a time, in order.
 *
 * One deliberate difference from a real orderer, which cuts on timeout regardless of the
 * peers: a batch whose timeout fired while the previous block is still committing keeps
 * accepting envelopes (up to the count and size limits) until the committer is free, since it
 * could not commit sooner anyway. Under load that gives fewer, fuller blocks.
 */
import { randomBytes } from 'node:crypto';
import { common, peer } from '@hyperledger/fabric-protos';
import { blockDataHash, blockHeaderBytes, blockHeaderHash } from './blocks';
import { parseEnvelope, type ParsedEnvelope } from './ledger/envelope';
import { LedgerError } from './ledger/errors';
import { setMetadata, type Ledger } from './ledger/ledger';
import type { Identity } from './msp/material';
import { serializeIdentity, signDer, type MspRegistry } from './msp/msp';
import type { Policy } from './policy';
import { createValidator, type PendingTx, type SignatureMemo, type Validator } from './validator';

/** The ordering service of one channel. */
export interface Orderer {
  /**
   * Accepts an envelope for ordering once it is well formed, for this channel, an endorser
   * transaction, and signed by its creator, a valid member identity.
   *
   * @throws LedgerError ORDERER_BAD_ENVELOPE | ORDERER_WRONG_CHANNEL | ORDERER_UNSUPPORTED_TX |
   *   ORDERER_UNKNOWN_CREATOR | ORDERER_BAD_SIGNATURE | ORDERER_ENVELOPE_TOO_LARGE | ORDERER_STOPPED
   * @param parsed - `parseEnvelope(envelope)`, when the caller has read the envelope already
   */
  broadcast(envelope: Uint8Array, parsed?: ParsedEnvelope): Promise<void>;
  /**
   * Resolves when the tx id is committed (at once if it already is), with its validation code
   * and block number; the first occurrence of a tx id decides, as in Fabric's tx index.
   *
   * @throws LedgerError ORDERER_WAIT_ABORTED when `signal` aborts, ORDERER_STOPPED when the
   *   orderer stops before the tx commits, or the ledger's error when its block failed to commit
   */
  waitForCommit(txId: string, signal?: AbortSignal): Promise<{ code: number; blockNumber: number }>;
  /** Stops accepting envelopes, cuts and commits what is pending, then resolves. */
  stop(): Promise<void>;
}

/** Options of {@link createOrderer}. */
export interface OrdererOptions {
  ledger: Ledger;
  msp: MspRegistry;
  /** Endorsement policy of a chaincode; throws when the chaincode is not defined. */
  policies: (chaincodeName: string) => Policy;
  /** BatchSize.MaxMessageCount */
  maxMessageCount: number;
  /** BatchTimeout, in milliseconds. */
  batchTimeoutMs: number;
  /** The orderer's signing identity (OrdererMSP). */
  signer: Identity;
  /** Endorsement signatures made in this process (node-sim's peers), to skip verifying them again. */
  ownSignatures?: SignatureMemo;
  /** BatchSize.PreferredMaxBytes; default 2 MiB. */
  preferredMaxBytes?: number;
  /** BatchSize.AbsoluteMaxBytes: larger envelopes are refused; default 10 MiB. */
  absoluteMaxBytes?: number;
}

interface Waiter {
  resolve: (status: { code: number; blockNumber: number }) => void;
  reject: (e: Error) => void;
}

/** Creates the ordering service committing into `opts.ledger`. */
export function createOrderer(opts: OrdererOptions): Orderer {
  return new SoloOrderer(opts);
}

class SoloOrderer implements Orderer {
  private readonly validator: Validator;
  private readonly creator: Uint8Array;
  private readonly preferredMaxBytes: number;
  private readonly absoluteMaxBytes: number;
  private pending: PendingTx[] = [];
  private pendingBytes = 0;
  private readonly sealed: PendingTx[][] = [];
  private timer: NodeJS.Timeout | undefined;
  private timeoutDue = false;
  private committing: Promise<void> | undefined;
  private stopped = false;
  private readonly waiters = new Map<string, Set<Waiter>>();

  constructor(private readonly opts: OrdererOptions) {
    if (!Number.isInteger(opts.maxMessageCount) || opts.maxMessageCount < 1) {
      throw new RangeError('maxMessageCount must be a positive integer');
    }
    this.validator = createValidator({
      channelId: opts.ledger.channelId,
      msp: opts.msp,
      policies: opts.policies,
      ledger: opts.ledger,
      ...(opts.ownSignatures === undefined ? {} : { ownSignatures: opts.ownSignatures }),
    });
    this.creator = serializeIdentity(opts.signer.mspId, opts.signer.certPem);
    this.preferredMaxBytes = opts.preferredMaxBytes ?? 2 * 1024 * 1024;
    this.absoluteMaxBytes = opts.absoluteMaxBytes ?? 10 * 1024 * 1024;
  }

  broadcast(envelope: Uint8Array, parsed?: ParsedEnvelope): Promise<void> {
    try {
      this.order(this.check(envelope, parsed));
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  waitForCommit(txId: string, signal?: AbortSignal): Promise<{ code: number; blockNumber: number }> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(new LedgerError('ORDERER_WAIT_ABORTED', `stopped waiting for ${txId}`));
        return;
      }
      let settled = false;
      const onAbort = (): void => { finish(() => { reject(new LedgerError('ORDERER_WAIT_ABORTED', `stopped waiting for ${txId}`)); }); };
      const waiter: Waiter = {
        resolve: (status) => { finish(() => { resolve(status); }); },
        reject: (e) => { finish(() => { reject(e); }); },
      };
      const finish = (settle: () => void): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        const set = this.waiters.get(txId);
        set?.delete(waiter);
        if (set?.size === 0) this.waiters.delete(txId);
        settle();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      // Registered before looking at the index, so a commit in between cannot be missed.
      let set = this.waiters.get(txId);
      if (set === undefined) this.waiters.set(txId, (set = new Set()));
      set.add(waiter);
      this.opts.ledger.getTxStatus(txId).then(
        (status) => {
          if (status !== undefined) waiter.resolve({ code: status.code, blockNumber: status.blockNumber });
          else if (this.stopped && this.committing === undefined && !this.isQueued(txId)) {
            waiter.reject(new LedgerError('ORDERER_STOPPED', `the orderer is stopped; ${txId} is not committed`));
          }
        },
        (e: unknown) => { waiter.reject(e instanceof Error ? e : new Error(String(e))); },
      );
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sealPending();
    this.pump();
    while (this.committing !== undefined) await this.committing;
    for (const [txId, set] of this.waiters) {
      for (const w of [...set]) w.reject(new LedgerError('ORDERER_STOPPED', `the orderer stopped before ${txId} committed`));
    }
  }

  /** Broadcast checks of an orderer: structure, channel, type, creator and signature. */
  private check(envelope: Uint8Array, known?: ParsedEnvelope): PendingTx {
    if (this.stopped) throw new LedgerError('ORDERER_STOPPED', 'the orderer is stopped');
    if (envelope.length > this.absoluteMaxBytes) {
      throw new LedgerError('ORDERER_ENVELOPE_TOO_LARGE', `envelope of ${envelope.length} bytes exceeds ${this.absoluteMaxBytes}`);
    }
    const parsed = known ?? parseEnvelope(envelope);
    if (parsed.headerType < 0 || parsed.creator.length === 0) {
      throw new LedgerError('ORDERER_BAD_ENVELOPE', `malformed envelope: ${parsed.reason}`);
    }
    if (parsed.channelId !== this.opts.ledger.channelId) {
      throw new LedgerError('ORDERER_WRONG_CHANNEL', `channel '${parsed.channelId}' is not '${this.opts.ledger.channelId}'`);
    }
    if (parsed.headerType !== common.HeaderType.ENDORSER_TRANSACTION) {
      throw new LedgerError('ORDERER_UNSUPPORTED_TX', `header type ${parsed.headerType} is not accepted (endorser transactions only)`);
    }
    let creator;
    try {
      creator = this.opts.msp.deserialize(parsed.creator);
    } catch (e) {
      throw new LedgerError('ORDERER_UNKNOWN_CREATOR', `creator is not a valid member identity: ${e instanceof Error ? e.message : String(e)}`, undefined, e);
    }
    if (!this.opts.msp.verify(creator, parsed.payload, parsed.signature)) {
      throw new LedgerError('ORDERER_BAD_SIGNATURE', 'envelope signature does not verify against its creator');
    }
    return { envelope, parsed, creatorVerified: true };
  }

  /** Fabric's blockcutter `Ordered`, then the commit pump. */
  private order(tx: PendingTx): void {
    const size = tx.envelope.length;
    if (size > this.preferredMaxBytes) {
      this.sealPending();
      this.sealed.push([tx]);
    } else {
      if (this.pendingBytes + size > this.preferredMaxBytes) this.sealPending();
      this.pending.push(tx);
      this.pendingBytes += size;
      if (this.pending.length >= this.opts.maxMessageCount) this.sealPending();
      else if (this.pending.length === 1) this.startTimer();
    }
    this.pump();
  }

  private startTimer(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timeoutDue = true;
      this.pump();
    }, this.opts.batchTimeoutMs);
  }

  private sealPending(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timeoutDue = false;
    if (this.pending.length === 0) return;
    this.sealed.push(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
  }

  private isQueued(txId: string): boolean {
    const has = (batch: PendingTx[]): boolean => batch.some((t) => t.parsed?.txId === txId);
    return has(this.pending) || this.sealed.some(has);
  }

  /** Starts the committer when it is idle and a batch is ready. */
  private pump(): void {
    if (this.committing !== undefined) return;
    if (this.sealed.length === 0 && this.timeoutDue) this.sealPending();
    const batch = this.sealed.shift();
    if (batch === undefined) return;
    this.committing = this.commitBatch(batch).finally(() => {
      this.committing = undefined;
      this.pump();
    });
  }

  private async commitBatch(batch: PendingTx[]): Promise<void> {
    const ledger = this.opts.ledger;
    try {
      const number = ledger.height();
      const block = this.assemble(number, batch);
      const validation = await this.validator.validateBlock(number, batch);
      setMetadata(block, common.BlockMetadataIndex.TRANSACTIONS_FILTER, validation.codes);
      await ledger.commit(block, validation.parsed);
      validation.parsed.forEach((tx, i) => {
        const code = validation.codes[i] ?? peer.TxValidationCode.NOT_VALIDATED;
        // The first occurrence of a tx id answers for it (a later duplicate was answered already).
        if (code === peer.TxValidationCode.DUPLICATE_TXID) return;
        const set = this.waiters.get(tx.txId);
        if (set !== undefined) for (const w of [...set]) w.resolve({ code, blockNumber: number });
      });
    } catch (e) {
      // Nothing of the block is on disk (one atomic batch); its waiters learn why.
      const error = e instanceof Error ? e : new Error(String(e));
      for (const tx of batch) {
        const set = this.waiters.get(tx.parsed?.txId ?? '');
        if (set !== undefined) for (const w of [...set]) w.reject(error);
      }
    }
  }

  /** The next block as the orderer's block writer makes it: chained header, data, signed metadata. */
  private assemble(number: number, batch: PendingTx[]): common.Block {
    const data = batch.map((t) => t.envelope);
    const header = new common.BlockHeader();
    header.setNumber(number);
    header.setPreviousHash(blockHeaderHash(this.opts.ledger.lastHeader()));
    header.setDataHash(blockDataHash(data));
    const block = new common.Block();
    block.setHeader(header);
    const blockData = new common.BlockData();
    blockData.setDataList(data);
    block.setData(blockData);

    const lastConfig = new common.LastConfig();
    lastConfig.setIndex(0);
    const ordererMetadata = new common.OrdererBlockMetadata();
    ordererMetadata.setLastConfig(lastConfig);
    ordererMetadata.setConsenterMetadata(new common.Metadata().serializeBinary());
    const signatureValue = ordererMetadata.serializeBinary();
    const signatureHeader = new common.SignatureHeader();
    signatureHeader.setCreator(this.creator);
    signatureHeader.setNonce(randomBytes(24));
    const signatureHeaderBytes = signatureHeader.serializeBinary();
    const headerBytes = blockHeaderBytes({
      number: BigInt(number),
      previousHash: header.getPreviousHash_asU8(),
      dataHash: header.getDataHash_asU8(),
    });
    const signature = new common.MetadataSignature();
    signature.setSignatureHeader(signatureHeaderBytes);
    signature.setSignature(signDer(this.opts.signer.keyPem, Buffer.concat([signatureValue, signatureHeaderBytes, headerBytes])));
    const signatures = new common.Metadata();
    signatures.setValue(signatureValue);
    signatures.setSignaturesList([signature]);
    setMetadata(block, common.BlockMetadataIndex.SIGNATURES, signatures.serializeBinary());

    const lastConfigMetadata = new common.Metadata();
    lastConfigMetadata.setValue(lastConfig.serializeBinary());
    setMetadata(block, common.BlockMetadataIndex.LAST_CONFIG, lastConfigMetadata.serializeBinary());
    setMetadata(block, common.BlockMetadataIndex.TRANSACTIONS_FILTER, new Uint8Array(data.length));
    return block;
  }
}
