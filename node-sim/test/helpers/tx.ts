/**
 * Builds real, signed endorser transaction envelopes the way a Fabric client, endorsing peers
 * and the gateway together produce them: proposal header (creator, nonce, tx id =
 * sha256(nonce || creator)), ChaincodeAction with the rwset, ProposalResponsePayload bound to
 * the proposal by its hash, one endorsement per endorser over (payload || endorser), and the
 * creator's signature over the envelope payload.
 */
import { randomBytes } from 'node:crypto';
import timestampPb from 'google-protobuf/google/protobuf/timestamp_pb';
import { common, peer } from '@hyperledger/fabric-protos';
import { encodeTxRwSet } from '../../src/chaincode/rwset';
import type { RwSet } from '../../src/chaincode/types';
import { computeTxId, proposalHash } from '../../src/ledger/envelope';
import type { Identity } from '../../src/msp/material';
import { serializeIdentity, signDer } from '../../src/msp/msp';
import type { SignatureMemo } from '../../src/validator';

export interface EndorsedTxOptions {
  channelId: string;
  chaincodeName: string;
  /** The client identity that signs the proposal and the envelope. */
  creator: Identity;
  /** Peer identities, one endorsement each. */
  endorsers: Identity[];
  rwset: RwSet;
  /** Namespace of the rwset; default the chaincode name. */
  namespace?: string;
  /** Fixes the nonce (and so the tx id), e.g. to build a duplicate. */
  nonce?: Uint8Array;
  args?: string[];
  response?: { status: number; message: string; payload: Uint8Array };
  event?: { eventName: string; payload: Uint8Array };
  timestamp?: Date;
  /** Corrupts the creator's envelope signature. */
  badCreatorSignature?: boolean;
  /** Corrupts the endorsement signature of these endorser indexes. */
  badEndorsementSignatures?: number[];
  /** Puts a wrong proposal hash into the proposal response payload. */
  badProposalHash?: boolean;
  /** Records each endorsement signature made here, as node-sim's peers do. */
  ownSignatures?: SignatureMemo;
}

export interface BuiltTx {
  txId: string;
  envelope: Uint8Array;
}

function flipLastByte(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[out.length - 1] = (out[out.length - 1] ?? 0) ^ 0x01;
  return out;
}

/** A complete, signed `common.Envelope` of an endorser transaction. */
export function buildEndorsedTx(opts: EndorsedTxOptions): BuiltTx {
  const creator = serializeIdentity(opts.creator.mspId, opts.creator.certPem);
  const nonce = opts.nonce ?? randomBytes(24);
  const txId = computeTxId(nonce, creator);

  const chaincodeId = new peer.ChaincodeID();
  chaincodeId.setName(opts.chaincodeName);
  const headerExtension = new peer.ChaincodeHeaderExtension();
  headerExtension.setChaincodeId(chaincodeId);
  const channelHeader = new common.ChannelHeader();
  channelHeader.setType(common.HeaderType.ENDORSER_TRANSACTION);
  channelHeader.setChannelId(opts.channelId);
  channelHeader.setTxId(txId);
  channelHeader.setTimestamp(timestampPb.Timestamp.fromDate(opts.timestamp ?? new Date()));
  channelHeader.setExtension$(headerExtension.serializeBinary());
  const channelHeaderBytes = channelHeader.serializeBinary();
  const signatureHeader = new common.SignatureHeader();
  signatureHeader.setCreator(creator);
  signatureHeader.setNonce(nonce);
  const signatureHeaderBytes = signatureHeader.serializeBinary();

  const input = new peer.ChaincodeInput();
  input.setArgsList((opts.args ?? ['invoke']).map((a) => Buffer.from(a)));
  const spec = new peer.ChaincodeSpec();
  spec.setType(peer.ChaincodeSpec.Type.NODE);
  spec.setChaincodeId(chaincodeId);
  spec.setInput(input);
  const invocation = new peer.ChaincodeInvocationSpec();
  invocation.setChaincodeSpec(spec);
  const proposalPayload = new peer.ChaincodeProposalPayload();
  proposalPayload.setInput(invocation.serializeBinary());
  const proposalPayloadBytes = proposalPayload.serializeBinary();

  const response = new peer.Response();
  response.setStatus(opts.response?.status ?? 200);
  response.setMessage(opts.response?.message ?? '');
  response.setPayload(opts.response?.payload ?? new Uint8Array(0));
  const action = new peer.ChaincodeAction();
  action.setResults(encodeTxRwSet(opts.namespace ?? opts.chaincodeName, opts.rwset));
  if (opts.event !== undefined) {
    const event = new peer.ChaincodeEvent();
    event.setChaincodeId(opts.chaincodeName);
    event.setTxId(txId);
    event.setEventName(opts.event.eventName);
    event.setPayload(opts.event.payload);
    action.setEvents(event.serializeBinary());
  }
  action.setResponse(response);
  const actionChaincodeId = new peer.ChaincodeID();
  actionChaincodeId.setName(opts.chaincodeName);
  actionChaincodeId.setVersion('1.0');
  action.setChaincodeId(actionChaincodeId);
  const prp = new peer.ProposalResponsePayload();
  const hash = proposalHash(channelHeaderBytes, signatureHeaderBytes, proposalPayloadBytes);
  prp.setProposalHash(opts.badProposalHash === true ? flipLastByte(hash) : hash);
  prp.setExtension$(action.serializeBinary());
  const prpBytes = prp.serializeBinary();

  const endorsements = opts.endorsers.map((endorser, i) => {
    const endorserBytes = serializeIdentity(endorser.mspId, endorser.certPem);
    const signed = Buffer.concat([prpBytes, endorserBytes]);
    const signature = signDer(endorser.keyPem, signed);
    opts.ownSignatures?.remember(signed, signature);
    const e = new peer.Endorsement();
    e.setEndorser(endorserBytes);
    e.setSignature(opts.badEndorsementSignatures?.includes(i) === true ? flipLastByte(signature) : signature);
    return e;
  });
  const endorsed = new peer.ChaincodeEndorsedAction();
  endorsed.setProposalResponsePayload(prpBytes);
  endorsed.setEndorsementsList(endorsements);
  const actionPayload = new peer.ChaincodeActionPayload();
  actionPayload.setChaincodeProposalPayload(proposalPayloadBytes);
  actionPayload.setAction(endorsed);
  const txAction = new peer.TransactionAction();
  txAction.setHeader(signatureHeaderBytes);
  txAction.setPayload(actionPayload.serializeBinary());
  const transaction = new peer.Transaction();
  transaction.setActionsList([txAction]);

  const header = new common.Header();
  header.setChannelHeader(channelHeaderBytes);
  header.setSignatureHeader(signatureHeaderBytes);
  const payload = new common.Payload();
  payload.setHeader(header);
  payload.setData(transaction.serializeBinary());
  const payloadBytes = payload.serializeBinary();
  const signature = signDer(opts.creator.keyPem, payloadBytes);
  const envelope = new common.Envelope();
  envelope.setPayload(payloadBytes);
  envelope.setSignature(opts.badCreatorSignature === true ? flipLastByte(signature) : signature);
  return { txId, envelope: envelope.serializeBinary() };
}

/** A RwSet of plain writes (sorted by key, as simulation produces them). */
export function writesOf(entries: Record<string, string | null>): RwSet {
  return {
    reads: [],
    rangeQueries: [],
    writes: Object.keys(entries)
      .sort()
      .map((key) => {
        const value = entries[key];
        return value === null || value === undefined
          ? { key, isDelete: true }
          : { key, isDelete: false, value: Buffer.from(value) };
      }),
  };
}
