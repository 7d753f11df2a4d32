/**
 * node-sim over real gRPC with TLS on 127.0.0.1, driven by the unmodified
 * @hyperledger/fabric-gateway client: submit/evaluate, errors, chaincode and block events,
 * qscc, policy failure, replay, unknown CA, and an MVCC race.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointers, EndorseError, GatewayError, type Network } from '@hyperledger/fabric-gateway';
import { X509Certificate, verify } from 'node:crypto';
import { common, gateway as gatewayProtos, msp, peer } from '@hyperledger/fabric-protos';
import { startSimNetwork, verifyBlockChain, type SimNetwork } from '../../src/index';
import { ensureOrgMaterial, issueIdentity } from '../../src/msp/material';
import { signDer } from '../../src/msp/msp';
import { connectTo, KV_CHAINCODE_DIR, take, tempDir, utf8, type Connection } from './helpers';

const VALID = peer.TxValidationCode.VALID;

let sim: SimNetwork;
let removeDir: () => Promise<void>;
let bank: Connection;
let gov: Connection;
let bankNet: Network;

beforeAll(async () => {
  const tmp = await tempDir('node-sim-gw-');
  removeDir = tmp.remove;
  sim = await startSimNetwork({ dataDir: tmp.dir, chaincode: { dir: KV_CHAINCODE_DIR }, batch: { batchTimeoutMs: 10 } });
  bank = connectTo(sim, 'BankMSP');
  gov = connectTo(sim, 'GovMSP');
  bankNet = bank.gateway.getNetwork(sim.channel);
});

afterAll(async () => {
  bank.close();
  gov.close();
  await sim.stop();
  await removeDir();
});

describe('startSimNetwork', () => {
  it('serves one TLS peer per default org and writes a connection profile for each', async () => {
    expect([...sim.orgs.keys()]).toEqual(['GovMSP', 'BankMSP', 'CoreMSP', 'AuditMSP']);
    const endpoints = new Set([...sim.orgs.values()].map((o) => o.peerEndpoint));
    expect(endpoints.size).toBe(4);
    for (const org of sim.orgs.values()) {
      expect(org.peerEndpoint).toMatch(/^127\.0\.0\.1:\d+$/);
      const { readFile } = await import('node:fs/promises');
      const profile = JSON.parse(await readFile(sim.connectionProfilePath(org.mspId), 'utf8')) as Record<string, unknown>;
      expect(profile.mspId).toBe(org.mspId);
      expect(profile.peerEndpoint).toBe(org.peerEndpoint);
    }
  });
});

describe('submit and evaluate', () => {
  it('commits a submitted transaction and evaluates the new state on another org', async () => {
    const contract = bankNet.getContract(sim.chaincodeName);
    const result = await contract.submitTransaction('PutThenGet', 'greeting', 'hello');
    // Simulation reads committed state, not its own write.
    expect(utf8(result)).toBe('');
    const fromGov = gov.gateway.getNetwork(sim.channel).getContract(sim.chaincodeName);
    expect(utf8(await fromGov.evaluateTransaction('Get', 'greeting'))).toBe('hello');
  });

  it('reports the commit status and block number through the client', async () => {
    const contract = bankNet.getContract(sim.chaincodeName);
    const commit = await contract.submitAsync('Put', { arguments: ['status-key', 'v'] });
    const status = await commit.getStatus();
    expect(status.successful).toBe(true);
    expect(status.code).toBe(VALID);
    expect(status.blockNumber).toBeGreaterThan(0n);
    expect(status.transactionId).toBe(commit.getTransactionId());
  });

  it('passes transient data to the chaincode and keeps it out of the transaction', async () => {
    const contract = bankNet.getContract(sim.chaincodeName);
    const secret = 'transient-secret-value';
    const proposal = contract.newProposal('Transient', { arguments: ['t'], transientData: { t: secret } });
    const tx = await proposal.endorse();
    expect(utf8(tx.getResult())).toBe(secret);
    const commit = await tx.submit();
    expect((await commit.getStatus()).successful).toBe(true);
    const qscc = bankNet.getContract('qscc');
    const processed = peer.ProcessedTransaction.deserializeBinary(
      await qscc.evaluateTransaction('GetTransactionByID', sim.channel, tx.getTransactionId()),
    );
    // The committed proposal payload has its input but no transient map (the result may echo it, the input may not).
    const payload = common.Payload.deserializeBinary(processed.getTransactionenvelope()?.getPayload_asU8() ?? new Uint8Array());
    const action = peer.Transaction.deserializeBinary(payload.getData_asU8()).getActionsList()[0];
    const actionPayload = peer.ChaincodeActionPayload.deserializeBinary(action?.getPayload_asU8() ?? new Uint8Array());
    const proposalPayload = peer.ChaincodeProposalPayload.deserializeBinary(actionPayload.getChaincodeProposalPayload_asU8());
    expect(proposalPayload.getInput_asU8().length).toBeGreaterThan(0);
    expect(proposalPayload.getTransientmapMap().getLength()).toBe(0);
    expect(Buffer.from(actionPayload.getChaincodeProposalPayload_asU8()).includes(Buffer.from(secret))).toBe(false);
  });

  it('gives a chaincode error message to the client in the EndorseError details', async () => {
    const contract = bankNet.getContract(sim.chaincodeName);
    const err = await contract.submitTransaction('Fail', 'CONSENT_REVOKED: consent c1 was revoked').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EndorseError);
    const details = (err as EndorseError).details;
    expect(details.length).toBeGreaterThan(0);
    expect(details[0]?.message).toContain('chaincode response 500, CONSENT_REVOKED: consent c1 was revoked');
    expect(details[0]?.mspId).toBe('BankMSP');
  });

  it('fails an evaluate of a chaincode error with the chaincode message', async () => {
    const contract = bankNet.getContract(sim.chaincodeName);
    const err = await contract.evaluateTransaction('Fail', 'NOT_FOUND: nothing here').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).details[0]?.message).toContain('NOT_FOUND: nothing here');
  });
});

describe('chaincode events', () => {
  it('delivers events of valid transactions and resumes after a checkpoint', async () => {
    const contract = bankNet.getContract(sim.chaincodeName);
    const start = (await contract.submitAsync('Event', { arguments: ['Marker', 'start'] })).getStatus();
    const startBlock = (await start).blockNumber;

    const names = ['E1', 'E2', 'E3'];
    for (const name of names) await contract.submitTransaction('Event', name, `payload-${name}`);

    const checkpointer = checkpointers.inMemory();
    const first = await bankNet.getChaincodeEvents(sim.chaincodeName, { startBlock });
    try {
      const events = await take(first, 2);
      expect(events.map((e) => e.eventName)).toEqual(['Marker', 'E1']);
      expect(utf8(events[1]!.payload)).toBe('payload-E1');
      expect(events[1]!.chaincodeName).toBe(sim.chaincodeName);
      await checkpointer.checkpointChaincodeEvent(events[1]!);
    } finally {
      first.close();
    }

    const resumed = await bankNet.getChaincodeEvents(sim.chaincodeName, { checkpoint: checkpointer, startBlock: 0n });
    try {
      const events = await take(resumed, 2);
      expect(events.map((e) => e.eventName)).toEqual(['E2', 'E3']);
    } finally {
      resumed.close();
    }
  });

  it('streams events of blocks committed after the request', async () => {
    const contract = bankNet.getContract(sim.chaincodeName);
    const events = await bankNet.getChaincodeEvents(sim.chaincodeName);
    try {
      const arriving = take(events, 1);
      await contract.submitTransaction('Event', 'Later', 'x');
      const [event] = await arriving;
      expect(event?.eventName).toBe('Later');
    } finally {
      events.close();
    }
  });
});

describe('block events', () => {
  it('delivers full and filtered blocks from block 0 in order', async () => {
    const height = common.BlockchainInfo.deserializeBinary(
      await bankNet.getContract('qscc').evaluateTransaction('GetChainInfo', sim.channel),
    ).getHeight();
    const blocks = await bankNet.getBlockEvents({ startBlock: 0n });
    try {
      const got = await take(blocks, height);
      expect(got.map((b) => Number(b.getHeader()?.getNumber()))).toEqual([...Array(height).keys()]);
      const verification = await verifyBlockChain(got.map((b) => b.serializeBinary()));
      expect(verification).toEqual({ ok: true, height });
    } finally {
      blocks.close();
    }
    const filtered = await bankNet.getFilteredBlockEvents({ startBlock: 1n });
    try {
      const [block] = await take(filtered, 1);
      expect(block?.getNumber()).toBe(1);
      expect(block?.getChannelId()).toBe(sim.channel);
      expect(block?.getFilteredTransactionsList().length).toBeGreaterThan(0);
    } finally {
      filtered.close();
    }
  });
});

describe('qscc', () => {
  it('answers GetChainInfo, GetBlockByNumber and GetTransactionByID with Fabric protobufs', async () => {
    const contract = bankNet.getContract(sim.chaincodeName);
    const commit = await contract.submitAsync('Put', { arguments: ['qscc-key', 'qscc-value'] });
    const { blockNumber } = await commit.getStatus();
    const qscc = bankNet.getContract('qscc');

    const info = common.BlockchainInfo.deserializeBinary(await qscc.evaluateTransaction('GetChainInfo', sim.channel));
    const height = info.getHeight();
    expect(height).toBeGreaterThan(Number(blockNumber));

    const block = common.Block.deserializeBinary(await qscc.evaluateTransaction('GetBlockByNumber', sim.channel, String(blockNumber)));
    expect(BigInt(block.getHeader()?.getNumber() ?? -1)).toBe(blockNumber);

    const processed = peer.ProcessedTransaction.deserializeBinary(
      await qscc.evaluateTransaction('GetTransactionByID', sim.channel, commit.getTransactionId()),
    );
    expect(processed.getValidationcode()).toBe(VALID);
    const payload = common.Payload.deserializeBinary(processed.getTransactionenvelope()?.getPayload_asU8() ?? new Uint8Array());
    const header = common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array());
    expect(header.getTxId()).toBe(commit.getTransactionId());

    // The whole chain, read through qscc, verifies; one changed byte breaks it.
    const all: Uint8Array[] = [];
    for (let n = 0; n < height; n += 1) all.push(await qscc.evaluateTransaction('GetBlockByNumber', sim.channel, String(n)));
    expect(await verifyBlockChain(all)).toEqual({ ok: true, height });
    const lastInfoHash = Buffer.from(info.getCurrentblockhash_asU8());
    expect(lastInfoHash.length).toBe(32);

    const err = await qscc.evaluateTransaction('GetTransactionByID', sim.channel, 'no-such-tx').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
  });
});

describe('endorsement policy and proposal checks', () => {
  it('commits a transaction endorsed by one org under MAJORITY as ENDORSEMENT_POLICY_FAILURE, without its writes', async () => {
    const contract = bankNet.getContract(sim.chaincodeName);
    const proposal = contract.newProposal('Put', { arguments: ['policy-key', 'one-org'], endorsingOrganizations: ['BankMSP'] });
    const tx = await proposal.endorse();
    const commit = await tx.submit();
    const status = await commit.getStatus();
    expect(status.code).toBe(peer.TxValidationCode.ENDORSEMENT_POLICY_FAILURE);
    expect(status.successful).toBe(false);
    expect(utf8(await contract.evaluateTransaction('Get', 'policy-key'))).toBe('');
  });

  it('commits a transaction whose named orgs satisfy MAJORITY', async () => {
    const contract = bankNet.getContract(sim.chaincodeName);
    const proposal = contract.newProposal('Put', {
      arguments: ['policy-key-2', 'three-orgs'],
      endorsingOrganizations: ['BankMSP', 'GovMSP', 'AuditMSP'],
    });
    const status = await (await (await proposal.endorse()).submit()).getStatus();
    expect(status.code).toBe(VALID);
    expect(utf8(await contract.evaluateTransaction('Get', 'policy-key-2'))).toBe('three-orgs');
  });

  it('refuses to endorse a proposal whose transaction id is already committed', async () => {
    const contract = bankNet.getContract(sim.chaincodeName);
    const proposal = contract.newProposal('Put', { arguments: ['replay-key', 'first'] });
    const status = await (await (await proposal.endorse()).submit()).getStatus();
    expect(status.code).toBe(VALID);
    const err = await proposal.endorse().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EndorseError);
    expect((err as EndorseError).details[0]?.message).toContain(`duplicate transaction found [${proposal.getTransactionId()}]`);
  });

  it('marks a resubmitted transaction DUPLICATE_TXID in a later block and keeps the first commit', async () => {
    const contract = bankNet.getContract(sim.chaincodeName);
    const tx = await contract.newProposal('Put', { arguments: ['dup-key', 'once'] }).endorse();
    const first = await (await tx.submit()).getStatus();
    expect(first.code).toBe(VALID);
    const blocks = await bankNet.getFilteredBlockEvents({ startBlock: first.blockNumber + 1n });
    try {
      const again = await tx.submit();
      // Fabric reports the first commit of a transaction id.
      expect((await again.getStatus()).code).toBe(VALID);
      for await (const block of blocks) {
        const dup = block.getFilteredTransactionsList().find((t) => t.getTxid() === tx.getTransactionId());
        if (dup !== undefined) {
          expect(dup.getTxValidationCode()).toBe(peer.TxValidationCode.DUPLICATE_TXID);
          break;
        }
      }
    } finally {
      blocks.close();
    }
  });

  it('rejects an expired identity of a channel member', async () => {
    const bankOrg = await ensureOrgMaterial(sim.dataDir, 'BankMSP');
    const expired = await issueIdentity(bankOrg, {
      cn: 'expired-user',
      role: 'client',
      notBefore: new Date(Date.now() - 48 * 3600_000),
      notAfter: new Date(Date.now() - 24 * 3600_000),
    });
    const conn = connectTo(sim, 'BankMSP', expired);
    try {
      const contract = conn.gateway.getNetwork(sim.channel).getContract(sim.chaincodeName);
      const err = await contract.submitTransaction('Put', 'expired', 'x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EndorseError);
      expect((err as EndorseError).details[0]?.message).toContain('access denied: channel [credex] creator org [BankMSP]');
    } finally {
      conn.close();
    }
    expect(utf8(await bankNet.getContract(sim.chaincodeName).evaluateTransaction('Get', 'expired'))).toBe('');
  });

  it('rejects an identity issued by a CA that is not its MSP’s', async () => {
    const other = await tempDir('node-sim-rogue-');
    try {
      const rogue = await ensureOrgMaterial(other.dir, 'BankMSP');
      const conn = connectTo(sim, 'BankMSP', rogue.client);
      try {
        const contract = conn.gateway.getNetwork(sim.channel).getContract(sim.chaincodeName);
        const evalErr = await contract.evaluateTransaction('Get', 'greeting').catch((e: unknown) => e);
        expect(evalErr).toBeInstanceOf(GatewayError);
        expect((evalErr as GatewayError).message).toContain('access denied: channel [credex] creator org [BankMSP]');
        const submitErr = await contract.submitTransaction('Put', 'rogue', 'x').catch((e: unknown) => e);
        expect(submitErr).toBeInstanceOf(EndorseError);
        expect((submitErr as EndorseError).details[0]?.message).toContain('access denied');
        // Deliver answers a non-member with status FORBIDDEN (403) instead of blocks.
        const blocks = await conn.gateway.getNetwork(sim.channel).getBlockEvents({ startBlock: 0n });
        try {
          const deliverErr = await take(blocks, 1).catch((e: unknown) => e);
          expect((deliverErr as Error).message).toBe(`Unexpected status response: ${common.Status.FORBIDDEN}`);
        } finally {
          blocks.close();
        }
        // ChaincodeEvents and CommitStatus refuse it with PERMISSION_DENIED.
        const events = await conn.gateway.getNetwork(sim.channel).getChaincodeEvents(sim.chaincodeName, { startBlock: 0n });
        try {
          const eventsErr = await take(events, 1).catch((e: unknown) => e);
          expect((eventsErr as GatewayError).code).toBe(7);
        } finally {
          events.close();
        }
      } finally {
        conn.close();
      }
      const unknown = await ensureOrgMaterial(other.dir, 'RogueMSP');
      const conn2 = connectTo(sim, 'BankMSP', unknown.client);
      try {
        const contract = conn2.gateway.getNetwork(sim.channel).getContract(sim.chaincodeName);
        const err = await contract.evaluateTransaction('Get', 'greeting').catch((e: unknown) => e);
        expect((err as GatewayError).message).toContain('creator org unknown');
      } finally {
        conn2.close();
      }
      expect(utf8(await bankNet.getContract(sim.chaincodeName).evaluateTransaction('Get', 'rogue'))).toBe('');
    } finally {
      await other.remove();
    }
  });
});

describe('protos.Endorser', () => {
  it('answers ProcessProposal with a response signed by the peer over payload || endorser', async () => {
    const contract = bankNet.getContract(sim.chaincodeName);
    const proposal = contract.newProposal('Get', { arguments: ['greeting'] });
    const signedProposal = gatewayProtos.ProposedTransaction.deserializeBinary(proposal.getBytes()).getProposal()!;
    const client = sim.orgs.get('BankMSP')!.identities.client;
    signedProposal.setSignature(signDer(client.keyPem, signedProposal.getProposalBytes_asU8()));

    const response = await new Promise<peer.ProposalResponse>((resolve, reject) => {
      bank.client.makeUnaryRequest(
        '/protos.Endorser/ProcessProposal',
        (m: peer.SignedProposal) => Buffer.from(m.serializeBinary()),
        (b: Buffer) => peer.ProposalResponse.deserializeBinary(b),
        signedProposal,
        (err, value) => {
          if (err) reject(err);
          else resolve(value!);
        },
      );
    });
    expect(response.getResponse()?.getStatus()).toBe(200);
    const endorsement = response.getEndorsement()!;
    const endorser = msp.SerializedIdentity.deserializeBinary(endorsement.getEndorser_asU8());
    expect(endorser.getMspid()).toBe('BankMSP');
    const signedBytes = Buffer.concat([response.getPayload_asU8(), endorsement.getEndorser_asU8()]);
    const peerCert = new X509Certificate(Buffer.from(endorser.getIdBytes_asU8()));
    expect(verify('sha256', signedBytes, peerCert.publicKey, endorsement.getSignature_asU8())).toBe(true);
    expect(peerCert.subject).toContain('OU=peer');

    // A proposal signed by someone else is refused with Fabric's message.
    signedProposal.setSignature(signDer(sim.orgs.get('GovMSP')!.identities.client.keyPem, signedProposal.getProposalBytes_asU8()));
    const err = await new Promise<unknown>((resolve) => {
      bank.client.makeUnaryRequest(
        '/protos.Endorser/ProcessProposal',
        (m: peer.SignedProposal) => Buffer.from(m.serializeBinary()),
        (b: Buffer) => peer.ProposalResponse.deserializeBinary(b),
        signedProposal,
        (e) => { resolve(e); },
      );
    });
    expect((err as Error).message).toContain('access denied: channel [credex] creator org [BankMSP]');
  });
});

describe('MVCC', () => {
  it('invalidates a held transaction whose read was overwritten, and applies none of its writes', async () => {
    const contract = bankNet.getContract(sim.chaincodeName);
    await contract.submitTransaction('Put', 'race', 'before');
    const held = await contract.newProposal('Copy', { arguments: ['race', 'race-copy'] }).endorse();
    expect(utf8(held.getResult())).toContain(':before');

    const writer = gov.gateway.getNetwork(sim.channel).getContract(sim.chaincodeName);
    await writer.submitTransaction('Put', 'race', 'after');

    const status = await (await held.submit()).getStatus();
    expect(status.code).toBe(peer.TxValidationCode.MVCC_READ_CONFLICT);
    expect(utf8(await contract.evaluateTransaction('Get', 'race-copy'))).toBe('');
    expect(utf8(await contract.evaluateTransaction('Get', 'race'))).toBe('after');
  });
});
