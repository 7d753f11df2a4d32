import { randomBytes } from 'node:crypto';
import { peer } from '@hyperledger/fabric-protos';
import { describe, expect, it } from 'vitest';
import { proposalResponsePayload, unpackProposal, type ChaincodeOutcome, type UnpackedProposal } from '../src/proposal';
import { buildProposal } from './chaincode/proposal';

/** The same payload built with the generated fabric-protos classes, as protoutil does. */
function referencePayload(up: UnpackedProposal, outcome: ChaincodeOutcome, version: string): Uint8Array {
  const response = new peer.Response();
  response.setStatus(outcome.response.status);
  response.setMessage(outcome.response.message);
  response.setPayload(outcome.response.payload);
  const chaincodeId = new peer.ChaincodeID();
  chaincodeId.setName(up.chaincodeName);
  chaincodeId.setVersion(version);
  const action = new peer.ChaincodeAction();
  action.setResults(outcome.results);
  if (outcome.event !== undefined) {
    const event = new peer.ChaincodeEvent();
    event.setChaincodeId(up.chaincodeName);
    event.setTxId(up.txId);
    event.setEventName(outcome.event.eventName);
    event.setPayload(outcome.event.payload);
    action.setEvents(event.serializeBinary());
  }
  action.setResponse(response);
  action.setChaincodeId(chaincodeId);
  const prp = new peer.ProposalResponsePayload();
  prp.setProposalHash(up.proposalHash);
  prp.setExtension$(action.serializeBinary());
  return prp.serializeBinary();
}

describe('proposalResponsePayload', () => {
  // Unpacking reads the creator as bytes only: no certificate needed here.
  const up = unpackProposal(
    peer.SignedProposal.deserializeBinary(
      buildProposal({ channelId: 'credex', chaincodeName: 'credex', mspId: 'GovMSP', certPem: 'a creator', args: ['f', 'x'] }).signedProposal,
    ),
  );
  const outcomes: [string, ChaincodeOutcome][] = [
    ['success with results, payload and an event', { response: { status: 200, message: '', payload: Buffer.from('{"ok":true}') }, results: randomBytes(700), event: { eventName: 'AccessRegistered', payload: randomBytes(300) } }],
    ['success without results or payload', { response: { status: 200, message: '', payload: new Uint8Array(0) }, results: new Uint8Array(0) }],
    ['a chaincode error with a message (UTF-8)', { response: { status: 500, message: 'CONSENT_REVOKED: ‘x’ — ok', payload: new Uint8Array(0) }, results: randomBytes(40) }],
    ['a negative status, an event without name or payload', { response: { status: -1, message: 'm', payload: randomBytes(2) }, results: randomBytes(200_000), event: { eventName: '', payload: new Uint8Array(0) } }],
  ];

  it.each(outcomes)('writes the bytes the generated classes write: %s', (_, outcome) => {
    const bytes = proposalResponsePayload(up, outcome, '1.0');
    expect(Buffer.from(bytes).equals(Buffer.from(referencePayload(up, outcome, '1.0')))).toBe(true);
    const action = peer.ChaincodeAction.deserializeBinary(peer.ProposalResponsePayload.deserializeBinary(bytes).getExtension_asU8());
    expect(action.getResponse()?.getStatus()).toBe(outcome.response.status);
    expect(action.getResponse()?.getMessage()).toBe(outcome.response.message);
    expect(action.getChaincodeId()?.getName()).toBe('credex');
    expect(Buffer.from(action.getResults_asU8()).equals(Buffer.from(outcome.results))).toBe(true);
  });
});
