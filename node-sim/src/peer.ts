/**
 * One organization's peer: its identity, its own chaincode process, and ProcessProposal as
 * core/endorser does it — check the proposal, simulate it against the committed state, and
 * sign the ProposalResponsePayload with the peer's key.
 */
import { msp, peer } from '@hyperledger/fabric-protos';
import type { SimChannel } from './channel';
import { encodeTxRwSet } from './chaincode/rwset';
import type { ChaincodeRuntime } from './chaincode/types';
import type { Identity } from './msp/material';
import { MspError, serializeIdentity, signDer, type ValidatedIdentity } from './msp/msp';
import { checkProposalHeaders, ProposalError, proposalResponsePayload, unpackProposal, type UnpackedProposal } from './proposal';
import { invokeQscc, QSCC } from './qscc';
import type { SignatureMemo } from './validator';

/** shim.ERROR: from here on the peer returns the response payload but no endorsement. */
const SHIM_ERROR = 500;
/** shim.ERRORTHRESHOLD: anything below is an endorsable result. */
const SHIM_ERROR_THRESHOLD = 400;

/**
 * A proposal the peer refuses before simulating (Fabric's ProcessProposal returning both a
 * 500 response and an error): the gRPC layer reports it as a client error.
 */
export class ProposalRejectedError extends Error {
  readonly code = 'PROPOSAL_REJECTED';
  readonly response: peer.ProposalResponse;
  constructor(message: string) {
    super(message);
    this.name = 'ProposalRejectedError';
    this.response = errorResponse(message);
  }
}

function errorResponse(message: string): peer.ProposalResponse {
  const response = new peer.Response();
  response.setStatus(500);
  response.setMessage(message);
  const result = new peer.ProposalResponse();
  result.setResponse(response);
  return result;
}

export interface SimPeer {
  readonly mspId: string;
  /** Host name of the peer (`peer0.<domain>`), also its TLS name. */
  readonly name: string;
  /** `host:port` once listening. */
  endpoint: string;
  readonly identity: Identity;
  /** msp.SerializedIdentity of the peer, the `endorser` of its endorsements. */
  readonly serializedIdentity: Uint8Array;
  readonly runtime: ChaincodeRuntime;
  /**
   * core/endorser ProcessProposal. Resolves with the ProposalResponse (a chaincode or simulation
   * failure is a response with status >= 400); throws {@link ProposalRejectedError} when the
   * proposal itself is refused (malformed, bad signature, unknown creator, replayed tx id).
   * `unpacked` is the same proposal already decoded by this process's gateway (it decodes the
   * proposal once for all endorsing peers); every check still runs on it.
   */
  processProposal(signedProposal: peer.SignedProposal, unpacked?: UnpackedProposal): Promise<peer.ProposalResponse>;
}

export function createSimPeer(opts: {
  mspId: string;
  name: string;
  identity: Identity;
  runtime: ChaincodeRuntime;
  channel: SimChannel;
  /** Where the peer records the endorsement signatures it makes, so commit-time validation need not verify them again. */
  ownSignatures?: SignatureMemo;
}): SimPeer {
  const { channel, runtime, identity } = opts;
  const serializedIdentity = serializeIdentity(identity.mspId, identity.certPem);
  // Proposals being processed by this peer, so a concurrent replay is refused too.
  const inProcess = new Set<string>();

  async function preProcess(signedProposal: peer.SignedProposal, unpacked: UnpackedProposal | undefined): Promise<UnpackedProposal> {
    let up: UnpackedProposal;
    try {
      up = unpacked?.signedProposal === signedProposal ? unpacked : unpackProposal(signedProposal);
    } catch (err) {
      throw new ProposalRejectedError((err as Error).message);
    }
    if (up.channelId !== channel.id) return up; // answered with "channel not found" below
    try {
      checkProposalHeaders(up);
    } catch (err) {
      if (err instanceof ProposalError) throw new ProposalRejectedError(`error validating proposal: ${err.message}`);
      throw err;
    }
    validateCreator(up);
    if (up.chaincodeName !== QSCC && (inProcess.has(up.txId) || (await channel.isKnownTx(up.txId)))) {
      const creator = Buffer.from(up.signatureHeader.getCreator_asU8()).toString('hex');
      throw new ProposalRejectedError(`duplicate transaction found [${up.txId}]. Creator [${creator}]`);
    }
    return up;
  }

  function validateCreator(up: UnpackedProposal): ValidatedIdentity {
    let creator: ValidatedIdentity;
    try {
      creator = channel.msp.deserialize(up.signatureHeader.getCreator_asU8());
    } catch (err) {
      const code = err instanceof MspError ? err.code : undefined;
      if (code === 'UNTRUSTED_CERT' || code === 'CERT_EXPIRED') {
        // Fabric deserializes the identity of a known MSP first and names it when validation fails.
        const mspId = msp.SerializedIdentity.deserializeBinary(up.signatureHeader.getCreator_asU8()).getMspid();
        throw new ProposalRejectedError(`error validating proposal: access denied: channel [${up.channelId}] creator org [${mspId}]`);
      }
      throw new ProposalRejectedError(
        `error validating proposal: access denied: channel [${up.channelId}] creator org unknown, creator is malformed`,
      );
    }
    if (!channel.verifyShared(creator, up.signedProposal.getProposalBytes_asU8(), up.signedProposal.getSignature_asU8())) {
      throw new ProposalRejectedError(`error validating proposal: access denied: channel [${up.channelId}] creator org [${creator.mspId}]`);
    }
    return creator;
  }

  function endorse(up: UnpackedProposal, response: peer.Response, prp: Uint8Array): peer.ProposalResponse {
    const endorsement = new peer.Endorsement();
    endorsement.setEndorser(serializedIdentity);
    const signed = Buffer.concat([prp, serializedIdentity]);
    const signature = signDer(identity.keyPem, signed);
    opts.ownSignatures?.remember(signed, signature);
    endorsement.setSignature(signature);
    const result = new peer.ProposalResponse();
    result.setVersion(1);
    result.setResponse(response);
    result.setPayload(prp);
    result.setEndorsement(endorsement);
    const interest = new peer.ChaincodeInterest();
    const call = new peer.ChaincodeCall();
    call.setName(up.chaincodeName);
    interest.setChaincodesList([call]);
    result.setInterest(interest);
    return result;
  }

  async function simulate(up: UnpackedProposal): Promise<peer.ProposalResponse> {
    if (up.chaincodeName === QSCC) {
      const outcome = await invokeQscc(channel.ledger, channel.id, up.args);
      const response = toResponse(outcome);
      if (outcome.status >= SHIM_ERROR_THRESHOLD) return responseOnly(response);
      const prp = proposalResponsePayload(up, { response: outcome, results: new Uint8Array(0) }, 'syscc');
      return endorse(up, response, prp);
    }
    if (up.chaincodeName !== channel.chaincodeName) {
      return errorResponse(
        `make sure the chaincode ${up.chaincodeName} has been successfully defined on channel ${up.channelId} and try again: chaincode definition for '${up.chaincodeName}' not found`,
      );
    }
    let result;
    try {
      result = await runtime.execute({
        channelId: up.channelId,
        txId: up.txId,
        signedProposal: signedProposalBytes(up),
        args: up.args,
        transient: up.transient,
        state: channel.state,
        timestamp: up.timestamp,
      });
    } catch (err) {
      return errorResponse(`error in simulation: ${(err as Error).message}`);
    }
    const response = toResponse(result.response);
    if (result.response.status >= SHIM_ERROR_THRESHOLD && result.response.status < SHIM_ERROR) return responseOnly(response);
    const outcome = {
      response: result.response,
      results: encodeTxRwSet(up.chaincodeName, result.rwset),
      ...(result.event === undefined ? {} : { event: result.event }),
    };
    const prp = proposalResponsePayload(up, outcome, channel.chaincodeVersion);
    if (result.response.status >= SHIM_ERROR) {
      const failed = responseOnly(response);
      failed.setPayload(prp);
      return failed;
    }
    return endorse(up, response, prp);
  }

  async function processProposal(signedProposal: peer.SignedProposal, unpacked?: UnpackedProposal): Promise<peer.ProposalResponse> {
    const up = await preProcess(signedProposal, unpacked);
    if (up.channelId !== channel.id) return errorResponse(`channel '${up.channelId}' not found`);
    inProcess.add(up.txId);
    try {
      return await simulate(up);
    } finally {
      inProcess.delete(up.txId);
    }
  }

  return {
    mspId: opts.mspId,
    name: opts.name,
    endpoint: '',
    identity,
    serializedIdentity,
    runtime,
    processProposal,
  };
}

// The SignedProposal bytes handed to the chaincode, encoded once for all peers endorsing the same unpacked proposal.
const encodedProposals = new WeakMap<UnpackedProposal, Uint8Array>();
function signedProposalBytes(up: UnpackedProposal): Uint8Array {
  let bytes = encodedProposals.get(up);
  if (bytes === undefined) {
    bytes = up.signedProposal.serializeBinary();
    encodedProposals.set(up, bytes);
  }
  return bytes;
}

function toResponse(r: { status: number; message: string; payload: Uint8Array }): peer.Response {
  const response = new peer.Response();
  response.setStatus(r.status);
  response.setMessage(r.message);
  response.setPayload(r.payload);
  return response;
}

function responseOnly(response: peer.Response): peer.ProposalResponse {
  const result = new peer.ProposalResponse();
  result.setResponse(response);
  return result;
}
