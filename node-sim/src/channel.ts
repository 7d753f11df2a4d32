/**
 * The channel as the peers share it: one committed ledger, one ordering service, the channel's
 * MSPs and the chaincode's endorsement policy. Every peer endorses against this ledger's state
 * and serves events from its blocks, as peers that committed the same blocks would.
 */
import { createHash } from 'node:crypto';
import type { StateReader } from './chaincode/types';
import type { CommitFeed } from './commits';
import { parseEnvelope } from './ledger/envelope';
import type { Ledger } from './ledger/ledger';
import type { MspRegistry, ValidatedIdentity } from './msp/msp';
import type { Orderer } from './orderer';
import type { Policy } from './policy';

export interface SimChannel {
  readonly id: string;
  readonly orgs: readonly string[];
  readonly chaincodeName: string;
  readonly chaincodeVersion: string;
  readonly policy: Policy;
  readonly ledger: Ledger;
  /** Committed state for simulation (the ledger's, behind a per-block read cache). */
  readonly state: StateReader;
  readonly msp: MspRegistry;
  readonly commits: CommitFeed;
  /** Resolves with the transaction's validation code and block once it is committed (at once if it is). */
  waitForCommit(txId: string, signal?: AbortSignal): Promise<{ code: number; blockNumber: number }>;
  /**
   * Whether `signature` is the identity's signature of `data`. Every endorsing peer checks the
   * client's proposal signature; in one process the same check is computed once and shared.
   */
  verifyShared(identity: ValidatedIdentity, data: Uint8Array, signature: Uint8Array): boolean;
  /** Whether a transaction id was already committed or is waiting for ordering (replay check). */
  isKnownTx(txId: string): Promise<boolean>;
  /**
   * Checks a signed transaction envelope and hands it to the orderer.
   *
   * @throws BroadcastError with Fabric's broadcast status (BAD_REQUEST, FORBIDDEN, SERVICE_UNAVAILABLE)
   */
  broadcast(envelope: Uint8Array): Promise<void>;
  /** Checks `signature` over `data` by the serialized identity; returns it or throws an identity/signature error. */
  authenticate(creator: Uint8Array, data: Uint8Array, signature: Uint8Array): ValidatedIdentity;
}

/** Status of a broadcast the orderer refused (common.Status names). */
export type BroadcastStatus = 'BAD_REQUEST' | 'FORBIDDEN' | 'SERVICE_UNAVAILABLE';

export class BroadcastError extends Error {
  readonly status: BroadcastStatus;
  constructor(status: BroadcastStatus, info: string) {
    super(info);
    this.name = 'BroadcastError';
    this.status = status;
  }
}

/** The creator or its signature was refused. */
export class AuthenticationError extends Error {
  readonly code = 'ACCESS_DENIED';
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'AuthenticationError';
  }
}

export function createSimChannel(opts: {
  id: string;
  orgs: string[];
  chaincodeName: string;
  chaincodeVersion: string;
  policy: Policy;
  ledger: Ledger;
  state: StateReader;
  msp: MspRegistry;
  orderer: Orderer;
  commits: CommitFeed;
}): SimChannel {
  const { ledger, msp, orderer } = opts;
  // Accepted by the orderer, not yet committed.
  const ordering = new Set<string>();

  function authenticate(creator: Uint8Array, data: Uint8Array, signature: Uint8Array): ValidatedIdentity {
    let identity: ValidatedIdentity;
    try {
      identity = msp.deserialize(creator);
    } catch (err) {
      throw new AuthenticationError(`the creator is not a valid member of the channel: ${(err as Error).message}`, err);
    }
    if (!msp.verify(identity, data, signature)) {
      throw new AuthenticationError(`the signature of ${identity.mspId} identity '${identity.commonName}' is not valid`);
    }
    return identity;
  }

  const verified = new Map<string, { digest: string; cert: string; ok: boolean }>();
  function verifyShared(identity: ValidatedIdentity, data: Uint8Array, signature: Uint8Array): boolean {
    const key = Buffer.from(signature).toString('base64');
    const digest = createHash('sha256').update(data).digest('base64');
    const memo = verified.get(key);
    if (memo?.digest === digest && memo.cert === identity.certPem) return memo.ok;
    const ok = msp.verify(identity, data, signature);
    if (verified.size >= 10_000) verified.clear();
    verified.set(key, { digest, cert: identity.certPem, ok });
    return ok;
  }

  // Every endorsing peer checks the same new tx id at about the same time: one ledger read serves them all.
  const lookups = new Map<string, Promise<boolean>>();
  async function isKnownTx(txId: string): Promise<boolean> {
    if (ordering.has(txId)) return true;
    let lookup = lookups.get(txId);
    if (lookup === undefined) {
      lookup = ledger.hasTx(txId).finally(() => lookups.delete(txId));
      lookups.set(txId, lookup);
    }
    return lookup;
  }

  async function broadcast(envelopeBytes: Uint8Array): Promise<void> {
    // Read once: the tx id for the bookkeeping here, the rest for the orderer's checks.
    const parsed = parseEnvelope(envelopeBytes);
    const txId = parsed.txId;
    ordering.add(txId);
    try {
      await orderer.broadcast(envelopeBytes, parsed);
    } catch (err) {
      ordering.delete(txId);
      throw new BroadcastError(broadcastStatus((err as { code?: unknown }).code), (err as Error).message);
    }
    opts.commits.onCommitted(txId, () => ordering.delete(txId));
  }

  return {
    id: opts.id,
    orgs: opts.orgs,
    chaincodeName: opts.chaincodeName,
    chaincodeVersion: opts.chaincodeVersion,
    policy: opts.policy,
    ledger,
    state: opts.state,
    msp,
    commits: opts.commits,
    isKnownTx,
    verifyShared,
    waitForCommit: (txId, signal) => opts.commits.waitForTx(txId, signal, { notYetCommitted: ordering.has(txId) }),
    broadcast,
    authenticate,
  };
}

/** The orderer's refusal codes as common.Status names, as a Fabric orderer answers Broadcast. */
function broadcastStatus(code: unknown): BroadcastStatus {
  switch (code) {
    case 'ORDERER_UNKNOWN_CREATOR':
    case 'ORDERER_BAD_SIGNATURE':
      return 'FORBIDDEN';
    case 'ORDERER_STOPPED':
      return 'SERVICE_UNAVAILABLE';
    default:
      return 'BAD_REQUEST';
  }
}
