/**
 * The peer side of fabric-shim's chaincode protocol for one peer: serves
 * `protos.ChaincodeSupport/Register` on 127.0.0.1, launches the chaincode package, and runs
 * many transactions at once over its one stream, each in its own simulation.
 */
import { killChaincode, launchChaincode, type Launched } from './launcher';
import {
  MsgType,
  decodeChaincodeIdName,
  decodeChaincodeMessage,
  decodeResponse,
  decodeStateRequest,
  encodeChaincodeInput,
  encodeChaincodeMessage,
  msgTypeName,
  withTransient,
  type ChaincodeMessage,
} from './messages';
import { TxSimulation } from './simulator';
import { listenChaincodeSupport, type ChaincodeStream, type ChaincodeSupportServer } from './support-server';
import type { ChaincodeRuntime, ChaincodeRuntimeOptions, ExecuteRequest, SimulationResult } from './types';

export type ChaincodeRuntimeErrorCode =
  | 'CHAINCODE_START_FAILED'
  | 'CHAINCODE_NOT_RUNNING'
  | 'CHAINCODE_EXITED'
  | 'CHAINCODE_TIMEOUT'
  | 'TX_IN_PROGRESS';

export class ChaincodeRuntimeError extends Error {
  constructor(
    readonly code: ChaincodeRuntimeErrorCode,
    message: string,
    readonly context: { chaincode: string; peer: string; txId?: string; output?: string } ,
  ) {
    super(`${code}: ${message}`);
    this.name = 'ChaincodeRuntimeError';
  }
}

const MAX_MESSAGE_BYTES = 100 * 1024 * 1024; // Fabric peer's default

interface TxContext {
  sim: TxSimulation;
  channelId: string;
  txId: string;
  resolve: (r: SimulationResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

type Status = 'new' | 'starting' | 'ready' | 'failed' | 'stopped';

class Runtime implements ChaincodeRuntime {
  readonly name: string;
  private readonly ccid: string;
  private status: Status = 'new';
  private server: ChaincodeSupportServer | undefined;
  private launched: Launched | undefined;
  private stream: ChaincodeStream | undefined;
  private failure: ChaincodeRuntimeError | undefined;
  private startPromise: Promise<void> | undefined;
  private onRegistered: (() => void) | undefined;
  private abortStart: ((err: Error) => void) | undefined;
  private relaunching: Promise<void> | undefined;
  private readonly txs = new Map<string, TxContext>();

  constructor(private readonly opts: ChaincodeRuntimeOptions) {
    this.name = opts.chaincodeName;
    this.ccid = `${opts.chaincodeName}:${opts.chaincodeVersion}`;
  }

  start(): Promise<void> {
    this.startPromise ??= this.doStart();
    return this.startPromise;
  }

  private async doStart(): Promise<void> {
    this.status = 'starting';
    const server = await listenChaincodeSupport(
      (call) => {
        this.onRegister(call);
      },
      { maxMessageBytes: MAX_MESSAGE_BYTES },
    );
    this.server = server;
    if (this.stopped()) {
      throw new ChaincodeRuntimeError('CHAINCODE_NOT_RUNNING', `chaincode ${this.ccid} on ${this.opts.peerName} was stopped while starting`, this.ctx());
    }

    const inherited = Object.keys(process.env).filter((k) => k.startsWith('CORE_'));
    const env: Record<string, string> = {
      CORE_CHAINCODE_ID_NAME: this.ccid,
      CORE_PEER_TLS_ENABLED: 'false',
      // fabric-shim logs every transaction at INFO; on the hot path that costs more than the work.
      CORE_CHAINCODE_LOGGING_LEVEL: 'WARNING',
      ...(this.opts.mspId ? { CORE_PEER_LOCALMSPID: this.opts.mspId } : {}),
      ...this.opts.env,
    };
    for (const k of inherited) if (!(k in env)) env[k] = '';

    const registered = new Promise<void>((resolve, reject) => {
      this.onRegistered = resolve;
      this.abortStart = reject;
      let launched: Launched;
      try {
        launched = launchChaincode({ chaincodeDir: this.opts.chaincodeDir, peerAddress: `127.0.0.1:${String(server.port)}`, env });
      } catch (err) {
        reject(this.startError((err as Error).message));
        return;
      }
      this.launched = launched;
      launched.child.once('error', (err) => {
        reject(this.startError(`cannot run ${launched.command}: ${err.message}`));
      });
      launched.child.once('exit', (code, signal) => {
        if (this.launched !== launched) return; // an earlier process, already replaced
        const how = signal ? `signal ${signal}` : `code ${String(code)}`;
        if (this.status === 'starting') {
          reject(this.startError(`chaincode process exited with ${how} before registering (${launched.command})`));
        } else if (this.status === 'ready') {
          this.fail('CHAINCODE_EXITED', `chaincode process ${this.ccid} exited with ${how}`);
        }
      });
    });
    const timeoutMs = this.opts.startTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(this.startError(`chaincode did not register within ${String(timeoutMs)} ms`));
      }, timeoutMs);
    });
    try {
      await Promise.race([registered, timeout]);
    } catch (err) {
      if (!this.stopped()) {
        this.status = 'failed';
        this.failure = err as ChaincodeRuntimeError;
      }
      await this.shutdown();
      throw err;
    } finally {
      clearTimeout(timer);
      this.abortStart = undefined;
      this.onRegistered = undefined;
    }
  }

  // A method, so TypeScript does not narrow `status` across awaits.
  private stopped(): boolean {
    return this.status === 'stopped';
  }

  private ctx(txId?: string): ChaincodeRuntimeError['context'] {
    return {
      chaincode: this.ccid,
      peer: this.opts.peerName,
      ...(txId === undefined ? {} : { txId }),
      ...(this.launched ? { output: this.launched.outputTail() } : {}),
    };
  }

  private startError(message: string): ChaincodeRuntimeError {
    const tail = this.launched?.outputTail() ?? '';
    const full = `${this.opts.peerName}: ${message}${tail ? `\n--- chaincode output (tail) ---\n${tail}` : ''}`;
    return new ChaincodeRuntimeError('CHAINCODE_START_FAILED', full, this.ctx());
  }

  private onRegister(call: ChaincodeStream): void {
    let registered = false;
    call.on('data', (bytes: Buffer) => {
      let msg: ChaincodeMessage;
      try {
        msg = decodeChaincodeMessage(bytes);
      } catch (err) {
        this.send(call, { type: MsgType.ERROR, payload: Buffer.from((err as Error).message), txid: '', channelId: '' });
        return;
      }
      if (registered) {
        this.onMessage(call, msg);
        return;
      }
      const error = this.checkRegister(msg);
      if (error) {
        this.send(call, { type: MsgType.ERROR, payload: Buffer.from(error), txid: msg.txid, channelId: msg.channelId });
        call.end();
        return;
      }
      registered = true;
      this.stream = call;
      this.status = 'ready';
      this.send(call, { type: MsgType.REGISTERED, payload: Buffer.alloc(0), txid: '', channelId: '' });
      this.send(call, { type: MsgType.READY, payload: Buffer.alloc(0), txid: '', channelId: '' });
      this.onRegistered?.();
    });
    const gone = (): void => {
      if (this.stream !== call) return;
      this.stream = undefined;
      if (this.status === 'ready') {
        this.fail('CHAINCODE_EXITED', `chaincode ${this.ccid} closed its stream`);
      }
    };
    call.on('end', gone);
    call.on('error', gone);
    call.on('close', gone);
  }

  private checkRegister(msg: ChaincodeMessage): string | undefined {
    if (msg.type !== MsgType.REGISTER) {
      return `chaincode sent ${msgTypeName(msg.type)} before REGISTER`;
    }
    if (this.status !== 'starting' || this.stream) {
      return `chaincode ${this.ccid} is already registered with ${this.opts.peerName}`;
    }
    const name = decodeChaincodeIdName(msg.payload);
    if (name !== this.ccid) {
      return `chaincode registered as "${name}", but ${this.opts.peerName} launched "${this.ccid}"`;
    }
    return undefined;
  }

  /** The runtime can no longer execute: every pending execution fails with the reason. */
  private fail(code: ChaincodeRuntimeErrorCode, reason: string): void {
    if (this.status === 'failed' || this.status === 'stopped') return;
    this.status = 'failed';
    this.failure = new ChaincodeRuntimeError(code, reason, this.ctx());
    for (const [key, tx] of this.txs) {
      this.txs.delete(key);
      clearTimeout(tx.timer);
      tx.reject(new ChaincodeRuntimeError(code, `${reason} while executing transaction ${tx.txId}`, this.ctx(tx.txId)));
    }
  }

  async execute(req: ExecuteRequest): Promise<SimulationResult> {
    if (this.status === 'failed' && this.failure?.code === 'CHAINCODE_EXITED') await this.relaunch();
    return this.executeNow(req);
  }

  private executeNow(req: ExecuteRequest): Promise<SimulationResult> {
    const stream = this.stream;
    if (this.status !== 'ready' || !stream) {
      return Promise.reject(
        this.failure ?? new ChaincodeRuntimeError('CHAINCODE_NOT_RUNNING', `chaincode ${this.ccid} is not running on ${this.opts.peerName}`, this.ctx(req.txId)),
      );
    }
    const key = `${req.channelId}\u0000${req.txId}`;
    if (this.txs.has(key)) {
      return Promise.reject(
        new ChaincodeRuntimeError('TX_IN_PROGRESS', `txid: ${req.txId}(${req.channelId}) exists`, this.ctx(req.txId)),
      );
    }
    const isInit = req.isInit === true;
    const proposal = req.transient.size > 0 ? withTransient(req.signedProposal, req.transient) : req.signedProposal;
    return new Promise<SimulationResult>((resolve, reject) => {
      const timeoutMs = this.opts.executeTimeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        if (this.txs.get(key) !== tx) return;
        this.txs.delete(key);
        void tx.sim.finish().catch(() => undefined);
        reject(new ChaincodeRuntimeError('CHAINCODE_TIMEOUT', `timeout expired while executing transaction ${req.txId}`, this.ctx(req.txId)));
      }, timeoutMs);
      const tx: TxContext = { sim: new TxSimulation(this.name, req.txId, req.state), channelId: req.channelId, txId: req.txId, resolve, reject, timer };
      this.txs.set(key, tx);
      this.send(stream, {
        type: isInit ? MsgType.INIT : MsgType.TRANSACTION,
        payload: encodeChaincodeInput(req.args, isInit),
        txid: req.txId,
        channelId: req.channelId,
        proposal,
        timestamp: req.timestamp,
      });
    });
  }

  private send(stream: ChaincodeStream, msg: ChaincodeMessage): void {
    // A reply to a chaincode that has gone has no one to read it; its executions fail elsewhere.
    if (stream.destroyed || stream.writableEnded) return;
    try {
      stream.write(encodeChaincodeMessage(msg));
    } catch {
      // the stream closed between the check and the write
    }
  }

  private onMessage(stream: ChaincodeStream, msg: ChaincodeMessage): void {
    switch (msg.type) {
      case MsgType.COMPLETED:
      case MsgType.ERROR:
        void this.complete(msg);
        return;
      case MsgType.KEEPALIVE:
        return;
      default:
        void this.answer(stream, msg);
    }
  }

  private async complete(msg: ChaincodeMessage): Promise<void> {
    const key = `${msg.channelId}\u0000${msg.txid}`;
    const tx = this.txs.get(key);
    if (!tx) return; // timed out, or not ours
    this.txs.delete(key);
    clearTimeout(tx.timer);
    try {
      const rwset = await tx.sim.finish();
      if (msg.type === MsgType.ERROR) {
        const message = `transaction returned with failure: ${Buffer.from(msg.payload).toString('utf8')}`;
        tx.resolve({ response: { status: 500, message, payload: new Uint8Array(0) }, rwset });
        return;
      }
      const response = decodeResponse(msg.payload);
      tx.resolve(msg.event ? { response, rwset, event: msg.event } : { response, rwset });
    } catch (err) {
      tx.reject(err as Error);
    }
  }

  private async answer(stream: ChaincodeStream, msg: ChaincodeMessage): Promise<void> {
    let payload: Uint8Array;
    try {
      payload = await this.handle(msg);
    } catch (err) {
      const text = `${msgTypeName(msg.type)} failed: transaction ID: ${msg.txid}: ${(err as Error).message}`;
      this.send(stream, { type: MsgType.ERROR, payload: Buffer.from(text), txid: msg.txid, channelId: msg.channelId });
      return;
    }
    this.send(stream, { type: MsgType.RESPONSE, payload, txid: msg.txid, channelId: msg.channelId });
  }

  private async handle(msg: ChaincodeMessage): Promise<Uint8Array> {
    const type = msg.type;
    const tx = this.txs.get(`${msg.channelId}\u0000${msg.txid}`);
    if (!tx) throw new Error('no ledger context');
    const sim = tx.sim;
    switch (type) {
      case MsgType.INVOKE_CHAINCODE:
        throw new Error(`chaincode-to-chaincode invocation is not supported by node-sim`);
      case MsgType.WRITE_BATCH_STATE:
      case MsgType.GET_STATE_MULTIPLE:
        throw new Error(`${msgTypeName(type)} is not supported by node-sim (fabric-shim uses it only when the peer offers it)`);
      case MsgType.REGISTER:
      case MsgType.REGISTERED:
      case MsgType.READY:
      case MsgType.INIT:
      case MsgType.TRANSACTION:
      case MsgType.RESPONSE:
        throw new Error(`unexpected ${msgTypeName(type)} from the chaincode`);
    }
    const req = decodeStateRequest(type, msg.payload);
    if (req.collection !== '' || type === MsgType.GET_PRIVATE_DATA_HASH || type === MsgType.PURGE_PRIVATE_DATA) {
      throw new Error(`private data collection "${req.collection}" is not defined for chaincode ${this.name} (node-sim has no collections)`);
    }
    switch (type) {
      case MsgType.GET_STATE:
        return (await sim.getState(req.key)) ?? EMPTY;
      case MsgType.PUT_STATE:
        sim.putState(req.key, req.value);
        return EMPTY;
      case MsgType.DEL_STATE:
        sim.delState(req.key);
        return EMPTY;
      case MsgType.GET_STATE_BY_RANGE:
        return sim.getStateByRange(req.startKey, req.endKey, req.metadata);
      case MsgType.QUERY_STATE_NEXT:
        return sim.queryStateNext(req.id);
      case MsgType.QUERY_STATE_CLOSE:
        return sim.queryStateClose(req.id);
      case MsgType.GET_HISTORY_FOR_KEY:
        return sim.getHistoryForKey(req.key);
      case MsgType.GET_STATE_METADATA:
        await sim.getStateMetadata(req.key);
        return EMPTY; // an empty StateMetadataResult: node-sim keeps no key-level metadata
      case MsgType.PUT_STATE_METADATA:
        throw new Error('key-level endorsement policies (state metadata) are not supported by node-sim');
      case MsgType.GET_QUERY_RESULT:
        throw new Error(req.metadata.length > 0 ? 'ExecuteQueryWithMetadata not supported for leveldb' : 'ExecuteQuery not supported for leveldb');
      default:
        throw new Error(`unknown message type ${msgTypeName(type)}`);
    }
  }

  async stop(): Promise<void> {
    if (this.status === 'stopped') return;
    const wasRunning = this.status !== 'new';
    this.fail('CHAINCODE_NOT_RUNNING', `chaincode ${this.ccid} on ${this.opts.peerName} was stopped`);
    this.status = 'stopped';
    this.abortStart?.(new ChaincodeRuntimeError('CHAINCODE_NOT_RUNNING', `chaincode ${this.ccid} on ${this.opts.peerName} was stopped while starting`, this.ctx()));
    // Let a start in progress see the stop and settle before the server goes away under it.
    await this.startPromise?.catch(() => undefined);
    await this.relaunching?.catch(() => undefined);
    if (wasRunning) await this.shutdown();
  }

  /**
   * A peer launches a chaincode again when it is invoked after its process died; so does this
   * runtime, once, for all executions waiting on it.
   */
  private relaunch(): Promise<void> {
    this.relaunching ??= (async () => {
      await this.shutdown();
      if (this.stopped()) return;
      this.failure = undefined;
      this.startPromise = this.doStart();
      await this.startPromise;
    })().finally(() => {
      this.relaunching = undefined;
    });
    return this.relaunching;
  }

  private async shutdown(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    if (stream) {
      try {
        stream.end();
      } catch {
        // the stream may already be gone
      }
    }
    if (this.launched) await killChaincode(this.launched);
    const server = this.server;
    this.server = undefined;
    if (server) await server.close(1000);
  }
}

const EMPTY = new Uint8Array(0);

/** A chaincode runtime for one peer; nothing runs until start(). */
export function createChaincodeRuntime(opts: ChaincodeRuntimeOptions): ChaincodeRuntime {
  return new Runtime(opts);
}
