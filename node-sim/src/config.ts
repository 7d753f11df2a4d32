/**
 * Options of a node-sim network and their defaults. Library code takes these as an options
 * object; only `main.ts` reads the environment and the command line.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The chaincode the channel runs. */
export interface SimChaincodeOptions {
  /** Chaincode name on the channel; default `credex`. */
  name?: string;
  /** Chaincode version (the package label a peer would use); default `1.0`. */
  version?: string;
  /** Folder of the chaincode package (its `npm start` runs the contract); default the repository's `chaincode/`. */
  dir?: string;
  /** Fabric policy expression; default `MAJORITY Endorsement`. */
  endorsementPolicy?: string;
}

/** How the orderer cuts blocks. */
export interface SimBatchOptions {
  /** Transactions per block at most; default 100. */
  maxMessageCount?: number;
  /** Milliseconds a pending transaction waits for more before the block is cut; default 20. */
  batchTimeoutMs?: number;
}

/** Options of {@link import('./network').startSimNetwork}. */
export interface SimNetworkOptions {
  /** Folder for crypto material, connection profiles and the ledger; created when absent. */
  dataDir: string;
  /** MSP ids of the channel's organizations, one peer each; default GovMSP, BankMSP, CoreMSP, AuditMSP. */
  orgs?: string[];
  /** Channel name; default `credex`. */
  channel?: string;
  chaincode?: SimChaincodeOptions;
  batch?: SimBatchOptions;
  /** TLS on the peers' gRPC endpoints; default true. */
  tls?: boolean;
  /** Fixed port per MSP id; a missing entry gets an ephemeral port. */
  ports?: Record<string, number>;
  /** Listen host; always a loopback address. Default `127.0.0.1`. */
  host?: string;
  /** Receives one line per notable event (start, stop, chaincode output). Default: silent. */
  log?: (line: string) => void;
}

/** {@link SimNetworkOptions} with every default filled in. */
export interface ResolvedSimOptions {
  dataDir: string;
  orgs: string[];
  channel: string;
  chaincode: Required<SimChaincodeOptions>;
  batch: Required<SimBatchOptions>;
  tls: boolean;
  ports: Record<string, number>;
  host: string;
  log: (line: string) => void;
}

export const DEFAULT_ORGS: readonly string[] = ['GovMSP', 'BankMSP', 'CoreMSP', 'AuditMSP'];

/** The repository's chaincode package, found from this file rather than from the working directory. */
export const DEFAULT_CHAINCODE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../chaincode');

/** Fills in defaults and rejects what cannot work, with a stable code. */
export function resolveSimOptions(options: SimNetworkOptions): ResolvedSimOptions {
  const orgs = options.orgs ?? [...DEFAULT_ORGS];
  if (orgs.length === 0) throw new SimConfigError('at least one organization is required');
  if (new Set(orgs).size !== orgs.length) throw new SimConfigError(`duplicate MSP id in ${orgs.join(', ')}`);
  for (const mspId of orgs) {
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(mspId)) throw new SimConfigError(`invalid MSP id '${mspId}'`);
  }
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    throw new SimConfigError(`node-sim listens on loopback only, not '${host}'`);
  }
  const batch = {
    maxMessageCount: options.batch?.maxMessageCount ?? 100,
    batchTimeoutMs: options.batch?.batchTimeoutMs ?? 20,
  };
  if (!Number.isInteger(batch.maxMessageCount) || batch.maxMessageCount < 1) {
    throw new SimConfigError('batch.maxMessageCount must be a positive integer');
  }
  if (!(batch.batchTimeoutMs >= 0)) throw new SimConfigError('batch.batchTimeoutMs must be >= 0');
  return {
    dataDir: path.resolve(options.dataDir),
    orgs,
    channel: options.channel ?? 'credex',
    chaincode: {
      name: options.chaincode?.name ?? 'credex',
      version: options.chaincode?.version ?? '1.0',
      dir: path.resolve(options.chaincode?.dir ?? DEFAULT_CHAINCODE_DIR),
      endorsementPolicy: options.chaincode?.endorsementPolicy ?? 'MAJORITY Endorsement',
    },
    batch,
    tls: options.tls ?? true,
    ports: options.ports ?? {},
    host,
    log: options.log ?? (() => undefined),
  };
}

/** A network option that cannot work. */
export class SimConfigError extends Error {
  readonly code = 'SIM_CONFIG_INVALID';
  constructor(text: string) {
    super(`SIM_CONFIG_INVALID: ${text}`);
    this.name = 'SimConfigError';
  }
}
