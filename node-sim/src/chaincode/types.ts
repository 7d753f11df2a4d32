/** Types shared between chaincode support (part B) and the ledger and peers (C1, C2). */

/** A committed key's version: the block and the transaction within it that last wrote it. */
export interface Version {
  blockNum: number;
  txNum: number;
}

/** Committed world state of the channel, as the peer's state database holds it. */
export interface StateReader {
  get(ns: string, key: string): Promise<{ value: Uint8Array; version: Version } | undefined>;
  /** Sorted by key (UTF-8 byte order); `endKey` exclusive; '' means open-ended. */
  range(ns: string, startKey: string, endKey: string): AsyncIterable<{ key: string; value: Uint8Array; version: Version }>;
  history(
    ns: string,
    key: string,
  ): AsyncIterable<{ txId: string; value: Uint8Array; isDelete: boolean; timestamp: { seconds: number; nanos: number } }>;
}

export interface RangeQueryRecord {
  startKey: string;
  /** The query's end key when exhausted, else the last key read (as Fabric records it). */
  endKey: string;
  itrExhausted: boolean;
  reads: { key: string; version: Version }[];
}

/** What a simulation read and wrote, in one namespace. */
export interface RwSet {
  /** Sorted by key; version undefined = the key was absent. */
  reads: { key: string; version?: Version }[];
  rangeQueries: RangeQueryRecord[];
  /** Sorted by key, last write wins. */
  writes: { key: string; isDelete: boolean; value?: Uint8Array }[];
}

export interface SimulationResult {
  response: { status: number; message: string; payload: Uint8Array };
  rwset: RwSet;
  event?: { eventName: string; payload: Uint8Array };
}

export interface ExecuteRequest {
  channelId: string;
  txId: string;
  /** protos.SignedProposal bytes, handed to the chaincode as a peer does. */
  signedProposal: Uint8Array;
  args: Uint8Array[];
  /**
   * The chaincode reads transient data from the proposal itself (as on a peer). When this map
   * is not empty it replaces the proposal payload's transient map before the chaincode sees it.
   */
  transient: Map<string, Uint8Array>;
  isInit?: boolean;
  state: StateReader;
  timestamp: { seconds: number; nanos: number };
}

export interface ChaincodeRuntime {
  readonly name: string;
  /** Server up, chaincode process started, registered, and READY sent. */
  start(): Promise<void>;
  execute(req: ExecuteRequest): Promise<SimulationResult>;
  /** Kills the process and closes the server. */
  stop(): Promise<void>;
}

export interface ChaincodeRuntimeOptions {
  chaincodeName: string;
  chaincodeVersion: string;
  chaincodeDir: string;
  peerName: string;
  /** The peer's MSP id, given to the chaincode as CORE_PEER_LOCALMSPID. */
  mspId?: string;
  /** Extra environment for the chaincode process (overrides the defaults). */
  env?: Record<string, string>;
  /** How long start() waits for the chaincode to register (default 60 s). */
  startTimeoutMs?: number;
  /** How long one execution may take (default 30 s, Fabric's executetimeout). */
  executeTimeoutMs?: number;
}
