/**
 * The Fabric Gateway gRPC service (`gateway.Gateway`) one peer offers, as
 * internal/pkg/gateway does it: Evaluate on one peer, Endorse on enough peers for the
 * chaincode's policy (or the orgs the client names), Submit to the orderer, CommitStatus and
 * ChaincodeEvents from the committed blocks. Status codes and messages follow Fabric's, so the
 * fabric-gateway client raises the same errors it raises against a real peer.
 */
import type * as grpc from '@grpc/grpc-js';
import { gateway, peer } from '@hyperledger/fabric-protos';
import { AuthenticationError, BroadcastError, type SimChannel } from './channel';
import { rpcError, status, type EndpointErrorDetail } from './grpc-status';
import { chooseEndorsers } from './policy';
import { ProposalRejectedError, type SimPeer } from './peer';
import { prepareTransaction, resultFromResponsePayload, unpackProposal, type UnpackedProposal } from './proposal';
import { startBlock, writeAll } from './streaming';

interface PeerCallFailure {
  ok: false;
  code: status;
  message: string;
  /** Whether another peer may answer instead (Fabric retries these in Evaluate). */
  retry: boolean;
}
type PeerCallResult = { ok: true; response: peer.ProposalResponse } | PeerCallFailure;

/** Fabric's responseStatus: how the gateway reads a peer's ProcessProposal outcome. */
async function callPeer(target: SimPeer, up: UnpackedProposal): Promise<PeerCallResult> {
  let response: peer.ProposalResponse;
  try {
    response = await target.processProposal(up.signedProposal, up);
  } catch (err) {
    if (err instanceof ProposalRejectedError) return { ok: false, code: status.FAILED_PRECONDITION, message: err.message, retry: false };
    return { ok: false, code: status.UNAVAILABLE, message: (err as Error).message, retry: true };
  }
  const st = response.getResponse()?.getStatus() ?? 0;
  const message = response.getResponse()?.getMessage() ?? '';
  if (st < 200 || st >= 400) {
    if (response.getPayload_asU8().length === 0 && st === 500) return { ok: false, code: status.ABORTED, message, retry: true };
    return { ok: false, code: status.UNKNOWN, message: `chaincode response ${st}, ${message}`, retry: false };
  }
  return { ok: true, response };
}

const detailOf = (p: SimPeer, message: string): EndpointErrorDetail => ({ address: p.endpoint, mspId: p.mspId, message });

export interface GatewayServiceOptions {
  /** The peer this gateway runs in; its organization is preferred. */
  local: SimPeer;
  /** Every peer of the channel, by MSP id. */
  peers: ReadonlyMap<string, SimPeer>;
  channel: SimChannel;
}

/** The handlers of `gateway.Gateway` for one peer. */
export function createGatewayService(opts: GatewayServiceOptions): grpc.UntypedServiceImplementation {
  const { local, peers, channel } = opts;

  function unpackOrThrow(signedProposal: peer.SignedProposal | undefined, context: string): UnpackedProposal {
    if (signedProposal === undefined || signedProposal.getProposalBytes_asU8().length === 0) {
      throw rpcError(status.INVALID_ARGUMENT, `${context}the proposed transaction must contain a signed proposal`);
    }
    try {
      return unpackProposal(signedProposal);
    } catch (err) {
      throw rpcError(status.INVALID_ARGUMENT, `${context}${(err as Error).message}`);
    }
  }

  function requireChannel(channelId: string): void {
    if (channelId !== channel.id) throw rpcError(status.FAILED_PRECONDITION, `channel '${channelId}' not found`);
  }

  /** Peers of the named orgs (local first), or of every org when none is named. */
  function peersOf(orgs: string[]): SimPeer[] {
    const wanted = orgs.length > 0 ? orgs : [...peers.keys()];
    const found = wanted.map((mspId) => peers.get(mspId)).filter((p): p is SimPeer => p !== undefined);
    return found.sort((a, b) => Number(b === local) - Number(a === local));
  }

  async function evaluate(request: gateway.EvaluateRequest): Promise<gateway.EvaluateResponse> {
    const signedProposal = request.getProposedTransaction();
    const up = unpackOrThrow(signedProposal, 'failed to unpack transaction proposal: ');
    requireChannel(up.channelId);
    let targets = request.getTargetOrganizationsList();
    if (targets.length === 0 && up.transient.size > 0) targets = [local.mspId];
    const candidates = targets.length > 0 ? peersOf(targets) : [local];
    if (candidates.length === 0) {
      throw rpcError(status.FAILED_PRECONDITION, `no peers available to evaluate chaincode ${up.chaincodeName} in channel ${up.channelId}`);
    }
    const details: EndpointErrorDetail[] = [];
    let last: PeerCallFailure | undefined;
    for (const candidate of candidates) {
      const result = await callPeer(candidate, up);
      if (result.ok) {
        const response = result.response.getResponse() ?? new peer.Response();
        const payload = result.response.getPayload_asU8();
        if (payload.length > 0) response.setPayload(resultFromResponsePayload(payload));
        const reply = new gateway.EvaluateResponse();
        reply.setResult(response);
        return reply;
      }
      details.push(detailOf(candidate, result.message));
      last = result;
      if (!result.retry) throw rpcError(result.code, `evaluate call to endorser returned error: ${result.message}`, details);
    }
    throw rpcError(last?.code ?? status.ABORTED, 'failed to evaluate transaction, see attached details for more info', details);
  }

  async function endorse(request: gateway.EndorseRequest): Promise<gateway.EndorseResponse> {
    const up = unpackOrThrow(request.getProposedTransaction(), '');
    requireChannel(up.channelId);
    const named = request.getEndorsingOrganizationsList();
    const responses = new Map<SimPeer, peer.ProposalResponse>();
    const inFlightFailures = new Map<SimPeer, PeerCallFailure>();
    const details: EndpointErrorDetail[] = [];
    let plan: SimPeer[];

    if (named.length > 0) {
      // The client chose the endorsers and answers for the policy (checked at commit).
      plan = peersOf(named);
      const missing = named.filter((mspId) => !peers.has(mspId));
      if (missing.length > 0) throw rpcError(status.UNAVAILABLE, `failed to find any endorsing peers for org(s): ${missing.join(', ')}`);
    } else {
      // Fabric's gateway endorses on its own org's peer first, then asks discovery for the rest
      // of a layout containing that org. With one known policy the layout is known up front,
      // so all chosen peers run at once; errors are reported as Fabric reports them.
      const chosen = chooseEndorsers(channel.policy, peersOf([]).map((p) => p.mspId));
      const firstPeer = chosen?.includes(local.mspId) === false ? peers.get(chosen[0] ?? '') ?? local : local;
      const others = chosen === undefined ? [] : peersOf(chosen).filter((p) => p !== firstPeer);
      const pending = new Map(others.map((p) => [p, callPeer(p, up)]));
      for (const result of pending.values()) result.catch(() => undefined);
      const first = await callPeer(firstPeer, up);
      if (!first.ok) {
        throw rpcError(status.ABORTED, 'failed to endorse transaction, see attached details for more info', [detailOf(firstPeer, first.message)]);
      }
      responses.set(firstPeer, first.response);
      if (chosen === undefined) {
        throw rpcError(
          status.FAILED_PRECONDITION,
          `no combination of peers can be derived which satisfy the endorsement policy of chaincode ${up.chaincodeName}`,
        );
      }
      for (const [p, result] of pending) {
        const r = await result;
        if (r.ok) responses.set(p, r.response);
        else inFlightFailures.set(p, r);
      }
      plan = [firstPeer, ...others];
    }

    const results = await Promise.all(
      plan.map(async (p) => {
        const known = responses.get(p);
        if (known !== undefined) return { peer: p, result: { ok: true, response: known } as const };
        return { peer: p, result: inFlightFailures.get(p) ?? (await callPeer(p, up)) };
      }),
    );
    let responsePayload: Uint8Array | undefined;
    const endorsements: peer.Endorsement[] = [];
    for (const { peer: p, result } of results) {
      if (!result.ok) {
        details.push(detailOf(p, result.message));
        continue;
      }
      const payload = result.response.getPayload_asU8();
      if (responsePayload === undefined) responsePayload = payload;
      else if (!Buffer.from(responsePayload).equals(payload)) {
        details.push(detailOf(p, 'ProposalResponsePayloads do not match'));
        continue;
      }
      const endorsement = result.response.getEndorsement();
      if (endorsement !== undefined) endorsements.push(endorsement);
    }
    if (details.length > 0 || responsePayload === undefined) {
      throw rpcError(status.ABORTED, 'failed to collect enough transaction endorsements, see attached details for more info', details);
    }
    const reply = new gateway.EndorseResponse();
    reply.setPreparedTransaction(prepareTransaction(up, responsePayload, endorsements));
    return reply;
  }

  async function submit(request: gateway.SubmitRequest): Promise<gateway.SubmitResponse> {
    const envelope = request.getPreparedTransaction();
    if (envelope === undefined) throw rpcError(status.INVALID_ARGUMENT, 'a prepared transaction is required');
    if (envelope.getSignature_asU8().length === 0) throw rpcError(status.INVALID_ARGUMENT, 'prepared transaction must be signed');
    requireChannel(request.getChannelId());
    try {
      await channel.broadcast(envelope.serializeBinary());
    } catch (err) {
      if (err instanceof BroadcastError && err.status !== 'SERVICE_UNAVAILABLE') {
        throw rpcError(status.ABORTED, `received unsuccessful response from orderer: status=${err.status}, info=${err.message}`);
      }
      throw rpcError(status.UNAVAILABLE, 'no orderers could successfully process transaction', [
        { address: 'orderer', mspId: 'OrdererMSP', message: (err as Error).message },
      ]);
    }
    return new gateway.SubmitResponse();
  }

  async function commitStatus(
    signed: gateway.SignedCommitStatusRequest,
    signal: AbortSignal,
  ): Promise<gateway.CommitStatusResponse> {
    const bytes = signed.getRequest_asU8();
    if (bytes.length === 0) throw rpcError(status.INVALID_ARGUMENT, 'a commit status request is required');
    let request: gateway.CommitStatusRequest;
    try {
      request = gateway.CommitStatusRequest.deserializeBinary(bytes);
    } catch (err) {
      throw rpcError(status.INVALID_ARGUMENT, `invalid status request: ${(err as Error).message}`);
    }
    authenticateOrThrow(request.getIdentity_asU8(), bytes, signed.getSignature_asU8());
    requireChannel(request.getChannelId());
    const committed = await channel.waitForCommit(request.getTransactionId(), signal);
    const reply = new gateway.CommitStatusResponse();
    reply.setResult(committed.code as peer.TxValidationCodeMap[keyof peer.TxValidationCodeMap]);
    reply.setBlockNumber(committed.blockNumber);
    return reply;
  }

  function authenticateOrThrow(identity: Uint8Array, data: Uint8Array, signature: Uint8Array): void {
    try {
      channel.authenticate(identity, data, signature);
    } catch (err) {
      if (err instanceof AuthenticationError) throw rpcError(status.PERMISSION_DENIED, err.message);
      throw err;
    }
  }

  async function chaincodeEvents(
    call: grpc.ServerWritableStream<gateway.SignedChaincodeEventsRequest, gateway.ChaincodeEventsResponse>,
    signal: AbortSignal,
  ): Promise<void> {
    const bytes = call.request.getRequest_asU8();
    if (bytes.length === 0) throw rpcError(status.INVALID_ARGUMENT, 'a chaincode events request is required');
    let request: gateway.ChaincodeEventsRequest;
    try {
      request = gateway.ChaincodeEventsRequest.deserializeBinary(bytes);
    } catch (err) {
      throw rpcError(status.INVALID_ARGUMENT, `invalid chaincode events request: ${(err as Error).message}`);
    }
    authenticateOrThrow(request.getIdentity_asU8(), bytes, call.request.getSignature_asU8());
    if (request.getChannelId() !== channel.id) throw rpcError(status.NOT_FOUND, `channel '${request.getChannelId()}' not found`);

    const chaincodeId = request.getChaincodeId();
    const afterTxId = request.getAfterTransactionId();
    let start: number | undefined;
    if (afterTxId !== '') start = (await channel.ledger.getTx(afterTxId))?.blockNumber;
    start ??= startBlock(request.getStartPosition(), channel.ledger.height());
    // Fabric skips events up to and including the checkpointed transaction, across blocks.
    let passedCheckpoint = afterTxId === '';

    for await (const block of channel.commits.follow(start, signal)) {
      const events: peer.ChaincodeEvent[] = [];
      for (const tx of block.txs) {
        if (tx.event === undefined || tx.code !== peer.TxValidationCode.VALID) continue;
        if (!passedCheckpoint) {
          if (tx.event.getTxId() === afterTxId) passedCheckpoint = true;
          continue;
        }
        if (tx.event.getChaincodeId() === chaincodeId) events.push(tx.event);
      }
      if (events.length === 0) continue;
      const response = new gateway.ChaincodeEventsResponse();
      response.setBlockNumber(block.number);
      response.setEventsList(events);
      await writeAll(call, [response], signal);
    }
  }

  return {
    evaluate: unary(evaluate),
    endorse: unary(endorse),
    submit: unary(submit),
    commitStatus: unaryWithSignal(commitStatus),
    chaincodeEvents: serverStream(chaincodeEvents),
  };
}

function toServiceError(err: unknown): grpc.ServerErrorResponse {
  if (typeof (err as { code?: unknown }).code === 'number' && err instanceof Error) return err;
  return rpcError(status.INTERNAL, (err as Error).message);
}

function unary<Req, Res>(handler: (request: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    handler(call.request).then(
      (response) => {
        callback(null, response);
      },
      (err: unknown) => {
        callback(toServiceError(err));
      },
    );
  };
}

function unaryWithSignal<Req, Res>(handler: (request: Req, signal: AbortSignal) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const controller = new AbortController();
    call.on('cancelled', () => {
      controller.abort();
    });
    handler(call.request, controller.signal).then(
      (response) => {
        callback(null, response);
      },
      (err: unknown) => {
        if (controller.signal.aborted) callback(rpcError(status.CANCELLED, 'call cancelled'));
        else callback(toServiceError(err));
      },
    );
  };
}

/** Runs a server-streaming handler until it ends, fails, or the client cancels. */
export function serverStream<Req, Res>(
  handler: (call: grpc.ServerWritableStream<Req, Res>, signal: AbortSignal) => Promise<void>,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    const controller = new AbortController();
    call.on('cancelled', () => {
      controller.abort();
    });
    call.on('close', () => {
      controller.abort();
    });
    handler(call, controller.signal).then(
      () => {
        if (!controller.signal.aborted) call.end();
      },
      (err: unknown) => {
        if (!controller.signal.aborted) call.emit('error', toServiceError(err));
      },
    );
  };
}

export { toServiceError };
