import { peer } from '@hyperledger/fabric-protos';
import { describe, expect, it } from 'vitest';
import {
  MsgType,
  QueryResponseWriter,
  decodeChaincodeMessage,
  decodeResponse,
  decodeStateRequest,
  encodeChaincodeInput,
  encodeChaincodeMessage,
  withTransient,
} from '../../src/chaincode/messages';
import { buildProposal } from './proposal';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('chaincode protocol messages', () => {
  it('encodes a TRANSACTION that the generated ChaincodeMessage class reads, proposal embedded as is', () => {
    const p = buildProposal({ channelId: 'ch', chaincodeName: 'cc', mspId: 'Org1MSP', certPem: CERT, args: ['f', 'a'] });
    const bytes = encodeChaincodeMessage({
      type: MsgType.TRANSACTION,
      payload: encodeChaincodeInput([Buffer.from('f'), Buffer.from(''), Buffer.from('é')], true),
      txid: p.txId,
      channelId: 'ch',
      proposal: p.signedProposal,
      timestamp: { seconds: 1_700_000_000, nanos: 5 },
    });
    const m = peer.ChaincodeMessage.deserializeBinary(bytes);
    expect(m.getType()).toBe(peer.ChaincodeMessage.Type.TRANSACTION);
    expect(m.getTxid()).toBe(p.txId);
    expect(m.getChannelId()).toBe('ch');
    expect(m.getTimestamp()?.getSeconds()).toBe(1_700_000_000);
    expect(m.getTimestamp()?.getNanos()).toBe(5);
    expect(Buffer.from(m.getProposal()?.serializeBinary() ?? []).equals(Buffer.from(p.signedProposal))).toBe(true);
    const input = peer.ChaincodeInput.deserializeBinary(m.getPayload_asU8());
    expect(input.getArgsList_asU8().map((a) => Buffer.from(a).toString())).toEqual(['f', '', 'é']);
    expect(input.getIsInit()).toBe(true);
  });

  it('decodes what fabric-shim sends: state requests and COMPLETED with response and event', () => {
    const put = new peer.PutState();
    put.setKey('k');
    put.setValue(Buffer.from('v'));
    const msg = new peer.ChaincodeMessage();
    msg.setType(peer.ChaincodeMessage.Type.PUT_STATE);
    msg.setPayload(put.serializeBinary());
    msg.setTxid('tx1');
    msg.setChannelId('ch');
    const m = decodeChaincodeMessage(msg.serializeBinary());
    expect(m).toMatchObject({ type: MsgType.PUT_STATE, txid: 'tx1', channelId: 'ch' });
    const req = decodeStateRequest(m.type, m.payload);
    expect(req.key).toBe('k');
    expect(Buffer.from(req.value).toString()).toBe('v');
    expect(req.collection).toBe('');

    const range = new peer.GetStateByRange();
    range.setStartkey('\u0001');
    range.setEndkey('z');
    const md = new peer.QueryMetadata();
    md.setPagesize(7);
    md.setBookmark('b');
    range.setMetadata(md.serializeBinary());
    const r = decodeStateRequest(MsgType.GET_STATE_BY_RANGE, range.serializeBinary());
    expect([r.startKey, r.endKey]).toEqual(['\u0001', 'z']);
    expect(peer.QueryMetadata.deserializeBinary(r.metadata).getPagesize()).toBe(7);

    const resp = new peer.Response();
    resp.setStatus(-1);
    resp.setMessage('bad');
    resp.setPayload(Buffer.from('p'));
    const ev = new peer.ChaincodeEvent();
    ev.setEventName('E');
    ev.setPayload(Buffer.from('ep'));
    const done = new peer.ChaincodeMessage();
    done.setType(peer.ChaincodeMessage.Type.COMPLETED);
    done.setPayload(resp.serializeBinary());
    done.setChaincodeEvent(ev);
    const d = decodeChaincodeMessage(done.serializeBinary());
    expect(decodeResponse(d.payload)).toEqual({ status: -1, message: 'bad', payload: Buffer.from('p') });
    expect(d.event?.eventName).toBe('E');
    expect(Buffer.from(d.event?.payload ?? []).toString()).toBe('ep');
  });

  it('writes QueryResponses of KVs and key modifications as the shim reads them', () => {
    const w = new QueryResponseWriter();
    w.addKV('ns', 'a', Buffer.from('1'));
    w.addKV('ns', 'b', Buffer.alloc(300, 7));
    const bytes = w.finish(true, 'it-1');
    const qr = peer.QueryResponse.deserializeBinary(bytes);
    expect(qr.getHasMore()).toBe(true);
    expect(qr.getId()).toBe('it-1');
    expect(qr.getResultsList()).toHaveLength(2);

    const h = new QueryResponseWriter();
    h.addKeyModification({ txId: 't', value: Buffer.from('v'), isDelete: true, timestamp: { seconds: 12, nanos: 3 } });
    const hq = peer.QueryResponse.deserializeBinary(h.finish(false, 'it-2', { fetchedRecordsCount: 1, bookmark: 'next' }));
    expect(hq.getHasMore()).toBe(false);
    expect(peer.QueryResponseMetadata.deserializeBinary(hq.getMetadata_asU8()).toObject()).toEqual({ fetchedRecordsCount: 1, bookmark: 'next' });
  });

  it('replaces the transient map of a signed proposal and keeps everything else', () => {
    const p = buildProposal({ channelId: 'ch', chaincodeName: 'cc', mspId: 'Org1MSP', certPem: CERT, args: ['f'], transient: new Map([['old', Buffer.from('x')]]) });
    const out = withTransient(p.signedProposal, new Map([['k2', Buffer.from('v2')], ['k1', Buffer.from('v1')]]));
    const before = peer.SignedProposal.deserializeBinary(p.signedProposal);
    const after = peer.SignedProposal.deserializeBinary(out);
    expect(Buffer.from(after.getSignature_asU8()).equals(Buffer.from(before.getSignature_asU8()))).toBe(true);
    const pb = peer.Proposal.deserializeBinary(before.getProposalBytes_asU8());
    const pa = peer.Proposal.deserializeBinary(after.getProposalBytes_asU8());
    expect(Buffer.from(pa.getHeader_asU8()).equals(Buffer.from(pb.getHeader_asU8()))).toBe(true);
    const cb = peer.ChaincodeProposalPayload.deserializeBinary(pb.getPayload_asU8());
    const ca = peer.ChaincodeProposalPayload.deserializeBinary(pa.getPayload_asU8());
    expect(Buffer.from(ca.getInput_asU8()).equals(Buffer.from(cb.getInput_asU8()))).toBe(true);
    const map = ca.getTransientmapMap();
    expect(map.toArray().map(([k]) => k)).toEqual(['k1', 'k2']);
    expect(Buffer.from(map.get('k1') as Uint8Array).toString()).toBe('v1');
  });

  it('rejects a truncated message with a stable code', () => {
    const bytes = encodeChaincodeMessage({ type: MsgType.GET_STATE, payload: Buffer.from('xyz'), txid: 'tx', channelId: 'ch' });
    expect(() => decodeChaincodeMessage(bytes.subarray(0, bytes.length - 1))).toThrow(/^PROTOBUF_INVALID/);
  });
});
