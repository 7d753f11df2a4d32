/**
 * The channel as the peers share it: one committed ledger, one ordering service, the channel's
 * MSPs and the chaincode's endorsement policy. Every peer endorses against this ledger's state
 * and serves events from its blocks, as peers that committed the same blocks would.
 */
import { common } from '@hyperledger/fabric-protos';
import type { CommitFeed } from './commits';
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
  readonly msp: MspRegistry;
  readonly commits: CommitFeed;
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

  async function broadcast(envelopeBytes: Uint8Array): Promise<void> {
    let txId: string;
    try {
      const envelope = common.Envelope.deserializeBinary(envelopeBytes);
      const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
      const header = payload.getHeader();
      if (header === undefined) throw new Error('missing header in envelope');
      const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
      const signatureHeader = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
      if (channelHeader.getChannelId() !== opts.id) throw new Error(`channel '${channelHeader.getChannelId()}' not found`);
      txId = channelHeader.getTxId();
      try {
        authenticate(signatureHeader.getCreator_asU8(), envelope.getPayload_asU8(), envelope.getSignature_asU8());
      } catch (err) {
        throw new BroadcastError('FORBIDDEN', `implicit policy evaluation failed: ${(err as Error).message}`);
      }
    } catch (err) {
      if (err instanceof BroadcastError) throw err;
      throw new BroadcastError('BAD_REQUEST', (err as Error).message);
    }
    ordering.add(txId);
    try {
      await orderer.broadcast(envelopeBytes);
    } catch (err) {
      ordering.delete(txId);
      const code = (err as { code?: unknown }).code;
      const status: BroadcastStatus = code === 'FORBIDDEN' ? 'FORBIDDEN' : code === 'SERVICE_UNAVAILABLE' || code === 'ORDERER_STOPPED' ? 'SERVICE_UNAVAILABLE' : 'BAD_REQUEST';
      throw new BroadcastError(status, (err as Error).message);
    }
    void opts.commits.waitForTx(txId).finally(() => ordering.delete(txId));
  }

  return {
    id: opts.id,
    orgs: opts.orgs,
    chaincodeName: opts.chaincodeName,
    chaincodeVersion: opts.chaincodeVersion,
    policy: opts.policy,
    ledger,
    msp,
    commits: opts.commits,
    isKnownTx: async (txId) => ordering.has(txId) || (await ledger.hasTx(txId)),
    broadcast,
    authenticate,
  };
}
