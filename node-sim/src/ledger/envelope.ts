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
  const fail = (code: number, reason: string): ParsedEnvelope => {
    parsed.code = code;
    parsed.reason = reason;
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
  try {
    const channelHeader = common.ChannelHeader.deserializeBinary(channelHeaderBytes);
    parsed.txId = channelHeader.getTxId();
    parsed.channelId = channelHeader.getChannelId();
    parsed.headerType = channelHeader.getType();
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
  if (parsed.headerType !== common.HeaderType.ENDORSER_TRANSACTION) return parsed;

  if (parsed.txId !== computeTxId(parsed.nonce, parsed.creator)) {
    return fail(Code.BAD_PROPOSAL_TXID, 'tx id is not sha256(nonce || creator)');
  }
  try {
    parsed.action = readEndorsedAction(payload.getData_asU8(), channelHeaderBytes, signatureHeaderBytes);
  } catch (e) {
    const known = e instanceof EnvelopeCodeError;
    return fail(known ? e.code : Code.BAD_PAYLOAD, known ? e.message : 'transaction does not decode');
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

function readEndorsedAction(
  data: Uint8Array,
  channelHeader: Uint8Array,
  signatureHeader: Uint8Array,
): EndorsedAction {
  const actions = peer.Transaction.deserializeBinary(data).getActionsList();
  const first = actions[0];
  if (first === undefined) throw new EnvelopeCodeError(Code.NIL_TXACTION, 'transaction has no action');
  if (actions.length !== 1) {
    throw new EnvelopeCodeError(Code.INVALID_ENDORSER_TRANSACTION, 'transaction must have exactly one action');
  }
  const actionPayload = peer.ChaincodeActionPayload.deserializeBinary(first.getPayload_asU8());
  const endorsed = actionPayload.getAction();
  if (endorsed === undefined) throw new EnvelopeCodeError(Code.NIL_TXACTION, 'action has no endorsed action');

  const prpBytes = endorsed.getProposalResponsePayload_asU8();
  const prp = peer.ProposalResponsePayload.deserializeBinary(prpBytes);
  const expectedHash = proposalHash(channelHeader, signatureHeader, actionPayload.getChaincodeProposalPayload_asU8());
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
