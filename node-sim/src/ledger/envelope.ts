/**
 * Reads a transaction envelope (`common.Envelope` bytes) down to what commit-time validation
 * and the ledger need, the way Fabric's protoutil and msgvalidation read it. Structural
 * problems come back as the `TxValidationCode` Fabric gives them, never as an exception.
 */
import { createHash } from 'node:crypto';
import { common, peer } from '@hyperledger/fabric-protos';
import { decodeTxRwSet } from '../chaincode/rwset';
import type { RwSet } from '../chaincode/types';

const Code = peer.TxValidationCode;

/** The endorsed chaincode action inside an endorser transaction. */
export interface EndorsedAction {
  chaincodeName: string;
  /** `ProposalResponsePayload` bytes: what every endorser signed (followed by its identity). */
  proposalResponsePayload: Uint8Array;
  endorsements: { endorser: Uint8Array; signature: Uint8Array }[];
  /** The read-write sets by namespace, from `ChaincodeAction.results`. */
  namespaces: { namespace: string; rwset: RwSet }[];
  /** `ChaincodeEvent` bytes, empty when the chaincode set no event. */
  events: Uint8Array;
  responseStatus: number;
}

/** An envelope as far as it could be read; `code` is `VALID` when its structure is sound. */
export interface ParsedEnvelope {
  /** `TxValidationCode` for structural problems, `VALID` (0) otherwise. */
  code: number;
  reason: string;
  /**
   * Where a problem was found: in the envelope and its headers (checked before the creator's
   * signature, as in Fabric's ValidateTransaction), or in the transaction body (checked after it).
   */
  failedIn?: 'header' | 'body';
  /** From the channel header; '' when the header could not be read. */
  txId: string;
  channelId: string;
  headerType: number;
  timestamp: { seconds: number; nanos: number };
  creator: Uint8Array;
  nonce: Uint8Array;
  /** `Envelope.payload`, the bytes the creator signed. */
  payload: Uint8Array;
  signature: Uint8Array;
  /** Present for a well-formed endorser transaction. */
  action?: EndorsedAction;
}

const EMPTY = new Uint8Array(0);

/** Parses `common.Envelope` bytes; never throws. */
export function parseEnvelope(envelopeBytes: Uint8Array): ParsedEnvelope {
  const parsed: ParsedEnvelope = {
    code: Code.VALID,
    reason: '',
    txId: '',
    channelId: '',
    headerType: -1,
    timestamp: { seconds: 0, nanos: 0 },
    creator: EMPTY,
    nonce: EMPTY,
    payload: EMPTY,
    signature: EMPTY,
  };
  const fail = (code: number, reason: string, failedIn: 'header' | 'body' = 'header'): ParsedEnvelope => {
    parsed.code = code;
    parsed.reason = reason;
    parsed.failedIn = failedIn;
    return parsed;
  };
  if (envelopeBytes.length === 0) return fail(Code.NIL_ENVELOPE, 'empty envelope');

  let payload: common.Payload;
  try {
    const envelope = common.Envelope.deserializeBinary(envelopeBytes);
    parsed.payload = envelope.getPayload_asU8();
    parsed.signature = envelope.getSignature_asU8();
    payload = common.Payload.deserializeBinary(parsed.payload);
  } catch {
    return fail(Code.BAD_PAYLOAD, 'envelope or payload does not decode');
  }
  const header = payload.getHeader();
  if (header === undefined) return fail(Code.BAD_COMMON_HEADER, 'payload has no header');

  const channelHeaderBytes = header.getChannelHeader_asU8();
  const signatureHeaderBytes = header.getSignatureHeader_asU8();
  let epoch: number;
  try {
    const channelHeader = common.ChannelHeader.deserializeBinary(channelHeaderBytes);
    parsed.txId = channelHeader.getTxId();
    parsed.channelId = channelHeader.getChannelId();
    parsed.headerType = channelHeader.getType();
    epoch = channelHeader.getEpoch();
    const ts = channelHeader.getTimestamp();
    if (ts !== undefined) parsed.timestamp = { seconds: ts.getSeconds(), nanos: ts.getNanos() };
  } catch {
    return fail(Code.BAD_CHANNEL_HEADER, 'channel header does not decode');
  }
  try {
    const signatureHeader = common.SignatureHeader.deserializeBinary(signatureHeaderBytes);
    parsed.creator = signatureHeader.getCreator_asU8();
    parsed.nonce = signatureHeader.getNonce_asU8();
  } catch {
    return fail(Code.BAD_COMMON_HEADER, 'signature header does not decode');
  }
  if (parsed.creator.length === 0 || parsed.nonce.length === 0) {
    return fail(Code.BAD_COMMON_HEADER, 'signature header lacks creator or nonce');
  }
  if (epoch !== 0) return fail(Code.BAD_COMMON_HEADER, `channel header epoch must be 0, not ${epoch}`);
  if (parsed.headerType !== common.HeaderType.ENDORSER_TRANSACTION) return parsed;

  if (parsed.txId !== computeTxId(parsed.nonce, parsed.creator)) {
    return fail(Code.BAD_PROPOSAL_TXID, 'tx id is not sha256(nonce || creator)', 'body');
  }
  try {
    parsed.action = readEndorsedAction(payload.getData_asU8(), channelHeaderBytes);
  } catch (e) {
    const known = e instanceof EnvelopeCodeError;
    return fail(known ? e.code : Code.INVALID_ENDORSER_TRANSACTION, known ? e.message : 'transaction does not decode', 'body');
  }
  return parsed;
}

/** Fabric's transaction id: hex sha256 of nonce followed by the serialized creator. */
export function computeTxId(nonce: Uint8Array, creator: Uint8Array): string {
  return createHash('sha256').update(nonce).update(creator).digest('hex');
}

/**
 * Fabric's `GetProposalHash2`: sha256(channel header || signature header || chaincode
 * proposal payload without transient data), what `ProposalResponsePayload.proposal_hash` holds.
 */
export function proposalHash(
  channelHeader: Uint8Array,
  signatureHeader: Uint8Array,
  chaincodeProposalPayload: Uint8Array,
): Uint8Array {
  return createHash('sha256')
    .update(channelHeader)
    .update(signatureHeader)
    .update(chaincodeProposalPayload)
    .digest();
}

class EnvelopeCodeError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Fabric's validateEndorserTransaction, then the chaincode action the validator needs. */
function readEndorsedAction(data: Uint8Array, channelHeader: Uint8Array): EndorsedAction {
  const actions = peer.Transaction.deserializeBinary(data).getActionsList();
  const first = actions[0];
  if (first === undefined || actions.length !== 1) {
    throw new EnvelopeCodeError(Code.INVALID_ENDORSER_TRANSACTION, `a transaction has exactly one action, not ${actions.length}`);
  }
  // The proposal's signature header, as the action carries it.
  const actionHeader = first.getHeader_asU8();
  const actionSignatureHeader = common.SignatureHeader.deserializeBinary(actionHeader);
  if (actionSignatureHeader.getNonce_asU8().length === 0 || actionSignatureHeader.getCreator_asU8().length === 0) {
    throw new EnvelopeCodeError(Code.INVALID_ENDORSER_TRANSACTION, 'action header lacks creator or nonce');
  }
  const actionPayload = peer.ChaincodeActionPayload.deserializeBinary(first.getPayload_asU8());
  const endorsed = actionPayload.getAction();
  if (endorsed === undefined) throw new EnvelopeCodeError(Code.INVALID_ENDORSER_TRANSACTION, 'action has no endorsed action');

  const prpBytes = endorsed.getProposalResponsePayload_asU8();
  const prp = peer.ProposalResponsePayload.deserializeBinary(prpBytes);
  const expectedHash = proposalHash(channelHeader, actionHeader, actionPayload.getChaincodeProposalPayload_asU8());
  if (!Buffer.from(prp.getProposalHash_asU8()).equals(expectedHash)) {
    throw new EnvelopeCodeError(
      Code.INVALID_ENDORSER_TRANSACTION,
      'proposal hash does not match the transaction header and proposal payload',
    );
  }
  let ccAction: peer.ChaincodeAction;
  try {
    ccAction = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
  } catch {
    throw new EnvelopeCodeError(Code.BAD_RESPONSE_PAYLOAD, 'chaincode action does not decode');
  }
  const chaincodeName = ccAction.getChaincodeId()?.getName() ?? '';
  if (chaincodeName === '') throw new EnvelopeCodeError(Code.INVALID_CHAINCODE, 'chaincode action names no chaincode');
  let namespaces: { namespace: string; rwset: RwSet }[];
  try {
    namespaces = decodeTxRwSet(ccAction.getResults_asU8());
  } catch {
    throw new EnvelopeCodeError(Code.BAD_RWSET, 'read-write set does not decode');
  }
  return {
    chaincodeName,
    proposalResponsePayload: prpBytes,
    endorsements: endorsed
      .getEndorsementsList()
      .map((e) => ({ endorser: e.getEndorser_asU8(), signature: e.getSignature_asU8() })),
    namespaces,
    events: ccAction.getEvents_asU8(),
    responseStatus: ccAction.getResponse()?.getStatus() ?? 0,
  };
}
