/**
 * The gateway's ledger client — with its signer (./signer), the only module that uses
 * `@hyperledger/fabric-gateway`.
 *
 * It talks to a Fabric peer's Gateway service (node-sim or a real peer: configuration only)
 * over gRPC with TLS, as the organization's client identity. Every call has a deadline; a
 * submit whose commit failed on an MVCC conflict is endorsed and submitted again, a commit
 * status that timed out is asked again for the same transaction id; contract errors are never
 * retried.
 */
import { createPrivateKey } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { CommitError, connect } from '@hyperledger/fabric-gateway';
import type { Gateway, Network } from '@hyperledger/fabric-gateway';
import { common } from '@hyperledger/fabric-protos';
import type { LedgerConfig } from '../config';
import { LedgerError, toLedgerError } from './errors';
import { fabricSigner } from './signer';

export { LedgerError } from './errors';

/** A chaincode event, its payload parsed from JSON. */
export interface LedgerEvent {
  eventName: string;
  payload: unknown;
  txId: string;
  blockNumber: bigint;
}

/** The ledger as the gateway uses it. */
export interface LedgerClient {
  /** Endorses, submits and waits for the commit of `contract:tx`; the result parsed from JSON. */
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the result type
  submit<T>(contract: string, tx: string, ...args: string[]): Promise<{ result: T; txId: string; blockNumber: number }>;
  /** Evaluates `contract:tx` on a peer (no commit); the result parsed from JSON. */
   
  evaluate<T>(contract: string, tx: string, ...args: string[]): Promise<T>;
  chaincodeEvents(opts: { startBlock?: bigint }): AsyncIterable<LedgerEvent>;
  /** Blocks (common.Block bytes) from `startBlock` on, as the peer delivers them; never ends by itself. */
  blocks(startBlock: bigint): AsyncIterable<Uint8Array>;
  /** The channel's height and current block hash (qscc GetChainInfo). */
  chainInfo(): Promise<{ height: number; currentBlockHash: string }>;
  /** One block, common.Block bytes (qscc GetBlockByNumber). */
  block(blockNumber: number): Promise<Uint8Array>;
  close(): void;
}

/** Deadlines in milliseconds per kind of call. */
export interface LedgerDeadlines { evaluate: number; endorse: number; submit: number; commitStatus: number; events: number }

const DEFAULT_DEADLINES: LedgerDeadlines = { evaluate: 10_000, endorse: 30_000, submit: 10_000, commitStatus: 60_000, events: 60_000 };
const MAX_ATTEMPTS = 3;

/**
 * Connects to the peer in `cfg` as the identity in `cfg.certPem`/`cfg.keyPem`.
 * The gRPC connection is made lazily; a peer that is down shows up as `LEDGER_UNAVAILABLE`.
 */
export function createLedgerClient(cfg: LedgerConfig & { mspId: string; deadlines?: Partial<LedgerDeadlines> }): Promise<LedgerClient> {
  const deadlines = { ...DEFAULT_DEADLINES, ...cfg.deadlines };
  const grpcClient = new grpc.Client(cfg.peerEndpoint, grpc.credentials.createSsl(Buffer.from(cfg.tlsCaCertPem)), {
    'grpc.ssl_target_name_override': cfg.hostnameOverride,
    'grpc.max_receive_message_length': 100 * 1024 * 1024,
    'grpc.max_send_message_length': 100 * 1024 * 1024,
  });
  const after = (ms: number) => (): grpc.CallOptions => ({ deadline: Date.now() + ms });
  const gateway = connect({
    client: grpcClient,
    identity: { mspId: cfg.mspId, credentials: Buffer.from(cfg.certPem) },
    ...fabricSigner(createPrivateKey(cfg.keyPem)),
    evaluateOptions: after(deadlines.evaluate),
    endorseOptions: after(deadlines.endorse),
    submitOptions: after(deadlines.submit),
    commitStatusOptions: after(deadlines.commitStatus),
    chaincodeEventsOptions: after(deadlines.events),
  });
  return Promise.resolve(new FabricLedgerClient(gateway, grpcClient, cfg.channel, cfg.chaincode));
}

const decoder = new TextDecoder();

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the result type
function parseResult<T>(bytes: Uint8Array, tx: string): T {
  if (bytes.length === 0) return undefined as T;
  const text = decoder.decode(bytes);
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new LedgerError('LEDGER_RESULT_INVALID', `${tx} returned a result that is not JSON`, { cause: e });
  }
}

class FabricLedgerClient implements LedgerClient {
  readonly #gateway: Gateway;
  readonly #grpc: grpc.Client;
  readonly #network: Network;
  readonly #channel: string;
  readonly #chaincode: string;

  constructor(gateway: Gateway, grpcClient: grpc.Client, channel: string, chaincode: string) {
    this.#gateway = gateway;
    this.#grpc = grpcClient;
    this.#network = gateway.getNetwork(channel);
    this.#channel = channel;
    this.#chaincode = chaincode;
  }

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the result type
  async submit<T>(contract: string, tx: string, ...args: string[]): Promise<{ result: T; txId: string; blockNumber: number }> {
    const name = `${contract}:${tx}`;
    for (let attempt = 1; ; attempt++) {
      let txId: string | undefined;
      try {
        const submitted = await this.#network.getContract(this.#chaincode, contract).submitAsync(tx, { arguments: args });
        txId = submitted.getTransactionId();
        const status = await this.#commitStatus(submitted, name);
        if (!status.successful) {
          throw new CommitError({ code: status.code, transactionId: status.transactionId, message: `${name} failed to commit` });
        }
        return { result: parseResult<T>(submitted.getResult(), name), txId, blockNumber: Number(status.blockNumber) };
      } catch (e) {
        const err = toLedgerError(e, { tx: name, txId });
        // Re-endorsing is safe only when the first attempt cannot have committed.
        const retry = err.code === 'MVCC_READ_CONFLICT' || err.code === 'PHANTOM_READ_CONFLICT' || (err.retryable && txId === undefined);
        if (!retry || attempt >= MAX_ATTEMPTS) throw err;
        // A short random pause, so that transactions that conflicted do not meet again.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 25 * attempt));
      }
    }
  }

   
  async evaluate<T>(contract: string, tx: string, ...args: string[]): Promise<T> {
    const name = `${contract}:${tx}`;
    try {
      const bytes = await this.#network.getContract(this.#chaincode, contract).evaluateTransaction(tx, ...args);
      return parseResult<T>(bytes, name);
    } catch (e) {
      throw toLedgerError(e, { tx: name });
    }
  }

  async *chaincodeEvents(opts: { startBlock?: bigint }): AsyncIterable<LedgerEvent> {
    const events = await this.#network.getChaincodeEvents(this.#chaincode, opts.startBlock === undefined ? undefined : { startBlock: opts.startBlock });
    try {
      for await (const e of events) {
        let payload: unknown;
        try {
          payload = e.payload.length === 0 ? undefined : JSON.parse(decoder.decode(e.payload));
        } catch {
          payload = decoder.decode(e.payload);
        }
        yield { eventName: e.eventName, payload, txId: e.transactionId, blockNumber: e.blockNumber };
      }
    } catch (e) {
      throw toLedgerError(e, { tx: 'ChaincodeEvents' });
    } finally {
      events.close();
    }
  }

  async *blocks(startBlock: bigint): AsyncIterable<Uint8Array> {
    const blocks = await this.#network.getBlockEvents({ startBlock });
    try {
      for await (const block of blocks) yield block.serializeBinary();
    } catch (e) {
      throw toLedgerError(e, { tx: 'Deliver' });
    } finally {
      blocks.close();
    }
  }

  async chainInfo(): Promise<{ height: number; currentBlockHash: string }> {
    try {
      const bytes = await this.#network.getContract('qscc').evaluateTransaction('GetChainInfo', this.#channel);
      const info = common.BlockchainInfo.deserializeBinary(bytes);
      return { height: info.getHeight(), currentBlockHash: Buffer.from(info.getCurrentblockhash_asU8()).toString('hex') };
    } catch (e) {
      throw toLedgerError(e, { tx: 'qscc:GetChainInfo' });
    }
  }

  async block(blockNumber: number): Promise<Uint8Array> {
    try {
      return await this.#network.getContract('qscc').evaluateTransaction('GetBlockByNumber', this.#channel, String(blockNumber));
    } catch (e) {
      throw toLedgerError(e, { tx: 'qscc:GetBlockByNumber' });
    }
  }

  close(): void {
    this.#gateway.close();
    this.#grpc.close();
  }

  async #commitStatus(submitted: Awaited<ReturnType<ReturnType<Network['getContract']>['submitAsync']>>, name: string): ReturnType<typeof submitted.getStatus> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await submitted.getStatus();
      } catch (e) {
        const err = toLedgerError(e, { tx: name, txId: submitted.getTransactionId() });
        // Same transaction id: asking again cannot commit it twice.
        if (err.code !== 'LEDGER_TIMEOUT' || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }
}
