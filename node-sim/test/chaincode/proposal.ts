/** Builds real protos.SignedProposal bytes for tests, with the generated fabric-protos classes. */
import { createHash, randomBytes } from 'node:crypto';
import { common, msp, peer } from '@hyperledger/fabric-protos';
import timestampPb from 'google-protobuf/google/protobuf/timestamp_pb';

// google-protobuf's generated CommonJS hides its named exports from Node's ESM loader.
const { Timestamp } = timestampPb;

export interface TestProposal {
  txId: string;
  signedProposal: Uint8Array;
  timestamp: { seconds: number; nanos: number };
}

export function buildProposal(opts: {
  channelId: string;
  chaincodeName: string;
  mspId: string;
  certPem: string;
  args: string[];
  transient?: Map<string, Uint8Array>;
  seconds?: number;
}): TestProposal {
  const creator = new msp.SerializedIdentity();
  creator.setMspid(opts.mspId);
  creator.setIdBytes(Buffer.from(opts.certPem));
  const creatorBytes = creator.serializeBinary();
  const nonce = randomBytes(24);
  const txId = createHash('sha256').update(nonce).update(creatorBytes).digest('hex');
  const timestamp = { seconds: opts.seconds ?? 1_700_000_123, nanos: 456_000_000 };

  const ts = new Timestamp();
  ts.setSeconds(timestamp.seconds);
  ts.setNanos(timestamp.nanos);
  const ccId = new peer.ChaincodeID();
  ccId.setName(opts.chaincodeName);
  const ext = new peer.ChaincodeHeaderExtension();
  ext.setChaincodeId(ccId);
  const channelHeader = new common.ChannelHeader();
  channelHeader.setType(common.HeaderType.ENDORSER_TRANSACTION);
  channelHeader.setChannelId(opts.channelId);
  channelHeader.setTxId(txId);
  channelHeader.setTimestamp(ts);
  channelHeader.setExtension$(ext.serializeBinary());
  const signatureHeader = new common.SignatureHeader();
  signatureHeader.setCreator(creatorBytes);
  signatureHeader.setNonce(nonce);
  const header = new common.Header();
  header.setChannelHeader(channelHeader.serializeBinary());
  header.setSignatureHeader(signatureHeader.serializeBinary());

  const input = new peer.ChaincodeInput();
  input.setArgsList(opts.args.map((a) => Buffer.from(a)));
  const spec = new peer.ChaincodeSpec();
  spec.setType(peer.ChaincodeSpec.Type.NODE);
  spec.setChaincodeId(ccId);
  spec.setInput(input);
  const invocation = new peer.ChaincodeInvocationSpec();
  invocation.setChaincodeSpec(spec);
  const payload = new peer.ChaincodeProposalPayload();
  payload.setInput(invocation.serializeBinary());
  for (const [k, v] of opts.transient ?? []) payload.getTransientmapMap().set(k, v);

  const proposal = new peer.Proposal();
  proposal.setHeader(header.serializeBinary());
  proposal.setPayload(payload.serializeBinary());
  const signed = new peer.SignedProposal();
  signed.setProposalBytes(proposal.serializeBinary());
  signed.setSignature(randomBytes(70)); // the chaincode never verifies it; the peer did
  return { txId, signedProposal: signed.serializeBinary(), timestamp };
}
