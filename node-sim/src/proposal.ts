/**
 * Transaction proposals as a Fabric peer reads and answers them: unpacking a SignedProposal,
 * the proposal hash, the ProposalResponsePayload an endorser signs, and the unsigned
 * transaction envelope the gateway prepares from the endorsements (protoutil.CreateSignedTx
 * without the signature).
 */
import { createHash } from 'node:crypto';
import { common, peer } from '@hyperledger/fabric-protos';
import { Writer } from './chaincode/wire';

/** What a peer needs from a proposal, decoded once. */
export interface UnpackedProposal {
  signedProposal: peer.SignedProposal;
  proposal: peer.Proposal;
  header: common.Header;
  channelHeader: common.ChannelHeader;
  signatureHeader: common.SignatureHeader;
  payload: peer.ChaincodeProposalPayload;
  channelId: string;
  txId: string;
  chaincodeName: string;
  /** args[0] is the function name, as fabric-shim expects. */
  args: Uint8Array[];
  transient: Map<string, Uint8Array>;
  /** sha256(channelHeader || signatureHeader || payload without the transient map), as Fabric. */
  proposalHash: Uint8Array;
  timestamp: { seconds: number; nanos: number };
}

/** A proposal that cannot be unpacked or fails a header check; `message` is Fabric's wording. */
export class ProposalError extends Error {
  readonly code: 'PROPOSAL_MALFORMED' | 'PROPOSAL_INVALID';
  constructor(code: 'PROPOSAL_MALFORMED' | 'PROPOSAL_INVALID', message: string) {
    super(message);
    this.name = 'ProposalError';
    this.code = code;
  }
}

function decode<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new ProposalError('PROPOSAL_MALFORMED', `error unmarshalling ${what}: ${(err as Error).message}`);
  }
}

/** Decodes a SignedProposal (core/endorser UnpackProposal). Throws {@link ProposalError}. */
export function unpackProposal(signedProposal: peer.SignedProposal): UnpackedProposal {
  const proposalBytes = signedProposal.getProposalBytes_asU8();
  if (proposalBytes.length === 0) throw new ProposalError('PROPOSAL_MALFORMED', 'empty proposal bytes');
  const proposal = decode('Proposal', () => peer.Proposal.deserializeBinary(proposalBytes));
  const header = decode('Header', () => common.Header.deserializeBinary(proposal.getHeader_asU8()));
  const channelHeader = decode('ChannelHeader', () => common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8()));
  const signatureHeader = decode('SignatureHeader', () =>
    common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8()),
  );
  const extension = decode('ChaincodeHeaderExtension', () =>
    peer.ChaincodeHeaderExtension.deserializeBinary(channelHeader.getExtension_asU8()),
  );
  const chaincodeName = extension.getChaincodeId()?.getName() ?? '';
  if (chaincodeName === '') throw new ProposalError('PROPOSAL_MALFORMED', 'ChaincodeHeaderExtension.ChaincodeId.Name is empty');
  const payload = decode('ChaincodeProposalPayload', () => peer.ChaincodeProposalPayload.deserializeBinary(proposal.getPayload_asU8()));
  const invocation = decode('ChaincodeInvocationSpec', () => peer.ChaincodeInvocationSpec.deserializeBinary(payload.getInput_asU8()));
  const input = invocation.getChaincodeSpec()?.getInput();
  if (input === undefined) throw new ProposalError('PROPOSAL_MALFORMED', 'chaincode input did not contain any input');

  const transient = new Map<string, Uint8Array>();
  payload.getTransientmapMap().forEach((value, key) => {
    transient.set(key, typeof value === 'string' ? Buffer.from(value, 'base64') : value);
  });
  const timestamp = channelHeader.getTimestamp();
  return {
    signedProposal,
    proposal,
    header,
    channelHeader,
    signatureHeader,
    payload,
    channelId: channelHeader.getChannelId(),
    txId: channelHeader.getTxId(),
    chaincodeName,
    args: input.getArgsList_asU8(),
    transient,
    proposalHash: proposalHash(header, payload),
    timestamp: { seconds: timestamp?.getSeconds() ?? 0, nanos: timestamp?.getNanos() ?? 0 },
  };
}

function payloadWithoutTransient(payload: peer.ChaincodeProposalPayload): Uint8Array {
  const stripped = new peer.ChaincodeProposalPayload();
  stripped.setInput(payload.getInput_asU8());
  return stripped.serializeBinary();
}

function proposalHash(header: common.Header, payload: peer.ChaincodeProposalPayload): Uint8Array {
  return createHash('sha256')
    .update(header.getChannelHeader_asU8())
    .update(header.getSignatureHeader_asU8())
    .update(payloadWithoutTransient(payload))
    .digest();
}

/** hex(sha256(nonce || creator)) — protoutil.ComputeTxID. */
export function computeTxId(nonce: Uint8Array, creator: Uint8Array): string {
  return createHash('sha256').update(nonce).update(creator).digest('hex');
}

/** Header checks of UnpackedProposal.Validate that need no identity; Fabric's messages. */
export function checkProposalHeaders(up: UnpackedProposal): void {
  const type = up.channelHeader.getType();
  if (type !== common.HeaderType.ENDORSER_TRANSACTION) {
    throw new ProposalError('PROPOSAL_INVALID', `invalid header type ${headerTypeName(type)}`);
  }
  if (up.channelHeader.getEpoch() !== 0) throw new ProposalError('PROPOSAL_INVALID', 'epoch is non-zero');
  const nonce = up.signatureHeader.getNonce_asU8();
  const creator = up.signatureHeader.getCreator_asU8();
  if (nonce.length === 0) throw new ProposalError('PROPOSAL_INVALID', 'nonce is empty');
  if (creator.length === 0) throw new ProposalError('PROPOSAL_INVALID', 'creator is empty');
  const expected = computeTxId(nonce, creator);
  if (up.txId !== expected) {
    throw new ProposalError('PROPOSAL_INVALID', `incorrectly computed txid '${up.txId}' -- expected '${expected}'`);
  }
  if (up.signedProposal.getSignature_asU8().length === 0) throw new ProposalError('PROPOSAL_INVALID', 'empty signature bytes');
}

function headerTypeName(type: number): string {
  const entry = Object.entries(common.HeaderType).find(([, value]) => value === type);
  return entry?.[0] ?? String(type);
}

/** The chaincode outcome an endorser puts into its ProposalResponsePayload. */
export interface ChaincodeOutcome {
  response: { status: number; message: string; payload: Uint8Array };
  /** rwset.TxReadWriteSet bytes. */
  results: Uint8Array;
  event?: { eventName: string; payload: Uint8Array };
}

/**
 * ProposalResponsePayload bytes (protoutil.GetBytesProposalResponsePayload), written directly
 * in the wire format — every endorsement makes one, and the generated classes built five
 * message objects for it. Field by field what `peer.ProposalResponsePayload` with a
 * `peer.ChaincodeAction` extension serializes to: fields in number order, proto3 defaults
 * omitted, the response and chaincode id always present (they are set sub-messages).
 */
export function proposalResponsePayload(
  up: UnpackedProposal,
  outcome: ChaincodeOutcome,
  chaincodeVersion: string,
): Uint8Array {
  const { response, results, event } = outcome;
  const w = new Writer(128 + results.length + response.payload.length + response.message.length + (event?.payload.length ?? 0));
  w.bytesField(1, up.proposalHash);
  w.begin(2); // extension: ChaincodeAction
  w.bytesField(1, results);
  if (event !== undefined) {
    // events: ChaincodeEvent bytes (never empty: it names the chaincode)
    w.begin(2).stringField(1, up.chaincodeName).stringField(2, up.txId).stringField(3, event.eventName).bytesField(4, event.payload).end();
  }
  w.begin(3).int32Field(1, response.status).stringField(2, response.message).bytesField(3, response.payload).end();
  w.begin(4).stringField(2, up.chaincodeName).stringField(3, chaincodeVersion).end();
  w.end();
  return w.finish();
}

/**
 * The unsigned transaction envelope built from endorsements (the gateway's prepareTransaction):
 * the transient map is stripped from the proposal payload, and the client signs the payload.
 */
export function prepareTransaction(
  up: UnpackedProposal,
  responsePayload: Uint8Array,
  endorsements: peer.Endorsement[],
): common.Envelope {
  const endorsedAction = new peer.ChaincodeEndorsedAction();
  endorsedAction.setProposalResponsePayload(responsePayload);
  endorsedAction.setEndorsementsList(endorsements);
  const actionPayload = new peer.ChaincodeActionPayload();
  actionPayload.setChaincodeProposalPayload(payloadWithoutTransient(up.payload));
  actionPayload.setAction(endorsedAction);
  const transactionAction = new peer.TransactionAction();
  transactionAction.setHeader(up.header.getSignatureHeader_asU8());
  transactionAction.setPayload(actionPayload.serializeBinary());
  const transaction = new peer.Transaction();
  transaction.setActionsList([transactionAction]);
  const payload = new common.Payload();
  payload.setHeader(up.header);
  payload.setData(transaction.serializeBinary());
  const envelope = new common.Envelope();
  envelope.setPayload(payload.serializeBinary());
  return envelope;
}

/** The chaincode's own result inside a ProposalResponsePayload (what Evaluate returns). */
export function resultFromResponsePayload(responsePayload: Uint8Array): Uint8Array {
  const prp = peer.ProposalResponsePayload.deserializeBinary(responsePayload);
  const action = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
  return action.getResponse()?.getPayload_asU8() ?? new Uint8Array(0);
}
