import { createPrivateKey, sign, verify as nodeVerify, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash, signers } from '@hyperledger/fabric-gateway';
import { msp } from '@hyperledger/fabric-protos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeEcdsaSignatureDer, isLowS, P256_N, parseEcdsaSignatureDer } from '../../src/msp/ecdsa';
import { ensureOrgMaterial, issueIdentity, type OrgMaterial } from '../../src/msp/material';
import { createMspRegistry, MspError, serializeIdentity, signDer, type MspRegistry } from '../../src/msp/msp';
import { creatorOf, expiredIdentity, foreignIdentity } from '../fixtures/identities';

let dataDir: string;
let gov: OrgMaterial;
let bank: OrgMaterial;
let registry: MspRegistry;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'node-sim-msp-'));
  [gov, bank] = await Promise.all([ensureOrgMaterial(dataDir, 'GovMSP'), ensureOrgMaterial(dataDir, 'BankMSP')]);
  registry = createMspRegistry([gov, bank]);
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MspError);
    const err = e as MspError;
    expect(err.message.startsWith(`${err.code}: `)).toBe(true);
    return err.code;
  }
  return undefined;
}

describe('serializeIdentity', () => {
  it('writes msp.SerializedIdentity with the MSP id and the PEM certificate', () => {
    const sid = msp.SerializedIdentity.deserializeBinary(serializeIdentity('GovMSP', gov.client.certPem));
    expect(sid.getMspid()).toBe('GovMSP');
    expect(Buffer.from(sid.getIdBytes_asU8()).toString('utf8')).toBe(gov.client.certPem);
  });
});

describe('MspRegistry.deserialize', () => {
  it('maps the NodeOU of each identity to its role', () => {
    const cases = [
      [gov.peer, 'peer', 'peer0.gov.credex.local'],
      [gov.admin, 'admin', 'Admin@gov.credex.local'],
      [gov.client, 'client', 'User1@gov.credex.local'],
      [bank.peer, 'peer', 'peer0.bank.credex.local'],
    ] as const;
    for (const [identity, role, cn] of cases) {
      const id = registry.deserialize(serializeIdentity(identity.mspId, identity.certPem));
      expect(id).toMatchObject({ mspId: identity.mspId, role, commonName: cn, certPem: identity.certPem });
      expect(id.publicKey.asymmetricKeyType).toBe('ec');
    }
  });

  it('maps an orderer OU to the orderer role', async () => {
    const orderer = await issueIdentity(gov, { cn: 'orderer-like', role: 'orderer' });
    expect(registry.deserialize(serializeIdentity('GovMSP', orderer.certPem)).role).toBe('orderer');
  });

  it('rejects an MSP that is not a channel member with UNKNOWN_MSP', () => {
    expect(codeOf(() => registry.deserialize(serializeIdentity('EvilMSP', gov.client.certPem)))).toBe('UNKNOWN_MSP');
  });

  it('rejects a certificate of another org claimed for this MSP with UNTRUSTED_CERT', () => {
    expect(codeOf(() => registry.deserialize(serializeIdentity('GovMSP', bank.client.certPem)))).toBe('UNTRUSTED_CERT');
  });

  it('rejects a certificate from an unknown CA with the same names with UNTRUSTED_CERT', async () => {
    const impostor = await foreignIdentity('GovMSP');
    try {
      expect(new X509Certificate(impostor.certPem).subject).toBe(new X509Certificate(gov.client.certPem).subject);
      expect(codeOf(() => registry.deserialize(creatorOf(impostor)))).toBe('UNTRUSTED_CERT');
    } finally {
      await impostor.cleanup();
    }
  });

  it('rejects a TLS certificate (issued by the TLS CA) with UNTRUSTED_CERT', () => {
    expect(codeOf(() => registry.deserialize(serializeIdentity('GovMSP', gov.peerTls.certPem)))).toBe('UNTRUSTED_CERT');
  });

  it('rejects an expired and a not yet valid certificate with CERT_EXPIRED', async () => {
    const expired = await expiredIdentity(gov);
    const future = await issueIdentity(gov, {
      cn: 'future',
      role: 'client',
      notBefore: new Date(Date.now() + 86_400_000),
      notAfter: new Date(Date.now() + 2 * 86_400_000),
    });
    expect(codeOf(() => registry.deserialize(serializeIdentity('GovMSP', expired.certPem)))).toBe('CERT_EXPIRED');
    expect(codeOf(() => registry.deserialize(serializeIdentity('GovMSP', future.certPem)))).toBe('CERT_EXPIRED');
  });

  it('checks validity against the injected clock, also for identities it has cached', () => {
    let now = new Date();
    const clocked = createMspRegistry([gov], { now: () => now });
    const sid = serializeIdentity('GovMSP', gov.client.certPem);
    expect(clocked.deserialize(sid).role).toBe('client');
    now = new Date(Date.now() + 20 * 365 * 86_400_000);
    expect(codeOf(() => clocked.deserialize(sid))).toBe('CERT_EXPIRED');
    now = new Date();
    expect(clocked.deserialize(sid).role).toBe('client');
  });

  it('returns the cached identity for the same bytes and stays bounded', () => {
    const small = createMspRegistry([gov], { cacheSize: 1 });
    const a = serializeIdentity('GovMSP', gov.client.certPem);
    const b = serializeIdentity('GovMSP', gov.admin.certPem);
    const first = small.deserialize(a);
    expect(small.deserialize(a)).toBe(first);
    small.deserialize(b); // evicts a
    const again = small.deserialize(a);
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });

  it('rejects malformed input with BAD_IDENTITY', () => {
    expect(codeOf(() => registry.deserialize(Uint8Array.from([0xff, 0xff, 0xff])))).toBe('BAD_IDENTITY');
    expect(codeOf(() => registry.deserialize(serializeIdentity('GovMSP', 'not a certificate')))).toBe('BAD_IDENTITY');
    const der = Buffer.from(gov.client.certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const sid = new msp.SerializedIdentity();
    sid.setMspid('GovMSP');
    sid.setIdBytes(der); // Fabric requires PEM
    expect(codeOf(() => registry.deserialize(sid.serializeBinary()))).toBe('BAD_IDENTITY');
  });

  it('rejects the CA certificate itself as an identity with BAD_IDENTITY', () => {
    expect(codeOf(() => registry.deserialize(serializeIdentity('GovMSP', gov.caCertPem)))).toBe('BAD_IDENTITY');
  });

  it('rejects a certificate without a NodeOU with BAD_IDENTITY', () => {
    // The TLS CA issues the one certificate without an OU; trust it as the MSP's CA to reach the OU check.
    const tlsTrusting = createMspRegistry([{ mspId: 'GovMSP', caCertPem: gov.tlsCaCertPem }]);
    expect(codeOf(() => tlsTrusting.deserialize(serializeIdentity('GovMSP', gov.peerTls.certPem)))).toBe('BAD_IDENTITY');
  });

  it('refuses a non-CA certificate as an MSP root', () => {
    expect(codeOf(() => createMspRegistry([{ mspId: 'GovMSP', caCertPem: gov.client.certPem }]))).toBe('BAD_IDENTITY');
  });
});

describe('signDer and MspRegistry.verify', () => {
  const message = new TextEncoder().encode('proposal bytes');

  it('accepts a signature by the identity over the message', () => {
    const id = registry.deserialize(serializeIdentity('GovMSP', gov.client.certPem));
    expect(registry.verify(id, message, signDer(gov.client.keyPem, message))).toBe(true);
  });

  it('always produces strict DER with low S', () => {
    for (let i = 0; i < 64; i++) {
      const sig = parseEcdsaSignatureDer(signDer(gov.peer.keyPem, Uint8Array.of(i)));
      expect(sig).toBeDefined();
      expect(isLowS(sig!)).toBe(true);
    }
  });

  it('rejects a tampered message, a tampered signature and another key', () => {
    const id = registry.deserialize(serializeIdentity('GovMSP', gov.client.certPem));
    const sig = signDer(gov.client.keyPem, message);
    const tamperedMessage = Uint8Array.from(message);
    tamperedMessage[0] = (tamperedMessage[0] ?? 0) ^ 1;
    expect(registry.verify(id, tamperedMessage, sig)).toBe(false);
    const tamperedSig = Uint8Array.from(sig);
    const last = tamperedSig.length - 1;
    tamperedSig[last] = (tamperedSig[last] ?? 0) ^ 1;
    expect(registry.verify(id, message, tamperedSig)).toBe(false);
    expect(registry.verify(id, message, signDer(gov.admin.keyPem, message))).toBe(false);
    expect(registry.verify(id, message, new Uint8Array(0))).toBe(false);
  });

  it('rejects the high-S twin of a valid signature, which plain ECDSA accepts', () => {
    const id = registry.deserialize(serializeIdentity('GovMSP', gov.client.certPem));
    const low = parseEcdsaSignatureDer(signDer(gov.client.keyPem, message))!;
    const high = encodeEcdsaSignatureDer({ r: low.r, s: P256_N - low.s });
    expect(nodeVerify('sha256', message, { key: id.publicKey, dsaEncoding: 'der' }, high)).toBe(true);
    expect(registry.verify(id, message, high)).toBe(false);
  });

  it('rejects a valid signature in non-strict DER', () => {
    const id = registry.deserialize(serializeIdentity('GovMSP', gov.client.certPem));
    const sig = signDer(gov.client.keyPem, message);
    const trailing = Uint8Array.from([...sig, 0]);
    expect(registry.verify(id, message, trailing)).toBe(false);
    // r with a superfluous leading zero byte
    const { r, s } = parseEcdsaSignatureDer(sig)!;
    const rBytes = Buffer.from(r.toString(16).padStart(64, '0'), 'hex');
    const padded = Buffer.concat([Buffer.of(0), rBytes[0]! & 0x80 ? Buffer.of(0) : Buffer.alloc(0), rBytes]);
    const sBytes = Buffer.from(encodeEcdsaSignatureDer({ r: 1n, s }).subarray(5));
    const loose = Buffer.concat([Buffer.of(0x30, 2 + padded.length + sBytes.length, 0x02, padded.length), padded, sBytes]);
    expect(registry.verify(id, message, loose)).toBe(false);
  });

  it('normalises a high-S signature from the key to low S', () => {
    // Sign until node:crypto happens to return a high-S signature, then check signDer's form of the same message.
    let found = false;
    for (let i = 0; i < 200 && !found; i++) {
      const m = Uint8Array.of(i, 1, 2);
      const raw = parseEcdsaSignatureDer(sign('sha256', m, { key: gov.client.keyPem, dsaEncoding: 'der' }))!;
      if (!isLowS(raw)) found = true;
      const ours = signDer(gov.client.keyPem, m);
      const id = registry.deserialize(serializeIdentity('GovMSP', gov.client.certPem));
      expect(registry.verify(id, m, ours)).toBe(true);
    }
    expect(found).toBe(true);
  });

  it('accepts what the fabric-gateway client signer produces, and signDer signatures verify like them', async () => {
    const id = registry.deserialize(serializeIdentity('GovMSP', gov.client.certPem));
    const clientSign = signers.newPrivateKeySigner(createPrivateKey(gov.client.keyPem));
    for (let i = 0; i < 32; i++) {
      const m = Uint8Array.of(i, 42);
      const clientSig = await clientSign(hash.sha256(m));
      expect(isLowS(parseEcdsaSignatureDer(clientSig)!)).toBe(true);
      expect(registry.verify(id, m, clientSig)).toBe(true);
    }
  });

  it('reports a key that is not a PEM private key', () => {
    expect(codeOf(() => signDer('nope', message))).toBe('CRYPTO_MATERIAL_INVALID');
  });
});

describe('ecdsa DER helpers', () => {
  it('round-trips r and s, with a 0x00 prefix only when the top bit is set', () => {
    const pairs = [
      { r: 1n, s: 1n },
      { r: 0x80n, s: 0x7fn },
      { r: P256_N - 1n, s: P256_N >> 1n },
    ];
    for (const p of pairs) expect(parseEcdsaSignatureDer(encodeEcdsaSignatureDer(p))).toEqual(p);
    expect([...encodeEcdsaSignatureDer({ r: 0x80n, s: 0x7fn })]).toEqual([0x30, 0x07, 0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0x7f]);
  });

  it('rejects zero, out-of-range and negative values', () => {
    expect(parseEcdsaSignatureDer(encodeEcdsaSignatureDer({ r: 0n, s: 1n }))).toBeUndefined();
    expect(parseEcdsaSignatureDer(encodeEcdsaSignatureDer({ r: 1n, s: P256_N }))).toBeUndefined();
    expect(parseEcdsaSignatureDer(Uint8Array.of(0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x01))).toBeUndefined();
  });
});
