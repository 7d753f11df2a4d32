import 'reflect-metadata';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  defaultDomain,
  ensureOrdererMaterial,
  ensureOrgMaterial,
  issueIdentity,
  orgPaths,
  type OrgMaterial,
} from '../../src/msp/material';

let dataDir: string;
let gov: OrgMaterial;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'node-sim-material-'));
  gov = await ensureOrgMaterial(dataDir, 'GovMSP');
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function subjectOf(pem: string): string[] {
  return new X509Certificate(pem).subject.split('\n');
}

describe('ensureOrgMaterial', () => {
  it('derives the domain and node host from the MSP id', () => {
    expect(defaultDomain('GovMSP')).toBe('gov.credex.local');
    expect(defaultDomain('Bank2MSP')).toBe('bank2.credex.local');
    expect(gov.domain).toBe('gov.credex.local');
    expect(gov.nodeHost).toBe('peer0.gov.credex.local');
    expect(gov.dir).toBe(join(dataDir, 'crypto', 'GovMSP'));
  });

  it('makes a self-signed signing CA and a separate TLS CA', () => {
    const ca = new X509Certificate(gov.caCertPem);
    const tlsCa = new X509Certificate(gov.tlsCaCertPem);
    for (const c of [ca, tlsCa]) {
      expect(c.ca).toBe(true);
      expect(c.checkIssued(c)).toBe(true);
      expect(c.verify(c.publicKey)).toBe(true);
      expect(c.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    }
    expect(ca.subject).toContain('CN=ca.gov.credex.local');
    expect(tlsCa.subject).toContain('CN=tlsca.gov.credex.local');
    expect(ca.fingerprint256).not.toBe(tlsCa.fingerprint256);
    for (const pem of [gov.caCertPem, gov.tlsCaCertPem]) {
      const c = new x509.X509Certificate(pem);
      const usage = c.getExtension(x509.KeyUsagesExtension);
      expect(usage?.critical).toBe(true);
      expect((usage?.usages ?? 0) & x509.KeyUsageFlags.keyCertSign).toBe(x509.KeyUsageFlags.keyCertSign);
      const constraints = c.getExtension(x509.BasicConstraintsExtension);
      expect(constraints?.ca).toBe(true);
    }
  });

  it('issues signing certificates with NodeOU roles from the signing CA', () => {
    const ca = new X509Certificate(gov.caCertPem);
    const expected = [
      [gov.peer, 'peer', 'peer0.gov.credex.local'],
      [gov.admin, 'admin', 'Admin@gov.credex.local'],
      [gov.client, 'client', 'User1@gov.credex.local'],
    ] as const;
    for (const [identity, ou, cn] of expected) {
      expect(identity.mspId).toBe('GovMSP');
      const cert = new X509Certificate(identity.certPem);
      expect(cert.ca).toBe(false);
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(subjectOf(identity.certPem)).toEqual(expect.arrayContaining([`OU=${ou}`, `CN=${cn}`, 'O=gov.credex.local']));
      expect(identity.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    }
  });

  it('links every certificate to its issuer by key identifier (SHA-1 of the public key bits)', () => {
    const keyId = (pem: string): string =>
      createHash('sha1').update(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }).subarray(-65)).digest('hex');
    const ski = (pem: string): string | undefined => new x509.X509Certificate(pem).getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    const aki = (pem: string): string | undefined => new x509.X509Certificate(pem).getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
    for (const pem of [gov.caCertPem, gov.tlsCaCertPem, gov.peer.certPem, gov.admin.certPem, gov.client.certPem, gov.peerTls.certPem]) {
      expect(ski(pem)).toBe(keyId(pem));
    }
    for (const pem of [gov.peer.certPem, gov.admin.certPem, gov.client.certPem]) expect(aki(pem)).toBe(ski(gov.caCertPem));
    expect(aki(gov.peerTls.certPem)).toBe(ski(gov.tlsCaCertPem));
  });

  it('issues the TLS server certificate from the TLS CA with SANs for localhost and the node host', () => {
    const cert = new X509Certificate(gov.peerTls.certPem);
    expect(cert.verify(new X509Certificate(gov.tlsCaCertPem).publicKey)).toBe(true);
    expect(cert.verify(new X509Certificate(gov.caCertPem).publicKey)).toBe(false);
    expect(cert.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, DNS:peer0.gov.credex.local');
    expect(cert.checkHost('peer0.gov.credex.local')).toBe('peer0.gov.credex.local');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
  });

  it('writes the cryptogen layout with NodeOUs config and private keys readable only by the owner', async () => {
    const p = orgPaths(gov.dir, 'GovMSP', gov.domain);
    expect(await readFile(p.nodeCert, 'utf8')).toBe(gov.peer.certPem);
    expect(await readFile(p.adminKey, 'utf8')).toBe(gov.admin.keyPem);
    expect(await readFile(p.clientCert, 'utf8')).toBe(gov.client.certPem);
    expect(await readFile(p.nodeTlsCa, 'utf8')).toBe(gov.tlsCaCertPem);
    expect(await readFile(join(p.mspDir, 'cacerts', 'ca.gov.credex.local-cert.pem'), 'utf8')).toBe(gov.caCertPem);
    expect(await readFile(join(p.mspDir, 'tlscacerts', 'tlsca.gov.credex.local-cert.pem'), 'utf8')).toBe(gov.tlsCaCertPem);
    const config = await readFile(join(p.nodeMspDir, 'config.yaml'), 'utf8');
    expect(config).toContain('Enable: true');
    for (const ou of ['Client', 'Peer', 'Admin', 'Orderer']) {
      expect(config).toContain(`${ou}OUIdentifier:\n    Certificate: cacerts/ca.gov.credex.local-cert.pem\n    OrganizationalUnitIdentifier: ${ou.toLowerCase()}\n`);
    }
    expect((await stat(p.caKey)).mode & 0o777).toBe(0o600);
    expect((await stat(p.nodeTlsKey)).mode & 0o777).toBe(0o600);
  });

  it('loads the same material on later calls', async () => {
    const again = await ensureOrgMaterial(dataDir, 'GovMSP');
    expect(again).toEqual(gov);
  });

  it('generates concurrent first calls for the same MSP into one set of keys', async () => {
    const [a, b] = await Promise.all([ensureOrgMaterial(dataDir, 'CoreMSP'), ensureOrgMaterial(dataDir, 'CoreMSP')]);
    expect(a).toEqual(b);
    expect(await ensureOrgMaterial(dataDir, 'CoreMSP')).toEqual(a);
  });

  it('honours a given domain and refuses a different one later', async () => {
    const bank = await ensureOrgMaterial(dataDir, 'BankMSP', { domain: 'icbc.example.cn' });
    expect(bank.nodeHost).toBe('peer0.icbc.example.cn');
    expect(subjectOf(bank.peer.certPem)).toContain('O=icbc.example.cn');
    await expect(ensureOrgMaterial(dataDir, 'BankMSP', { domain: 'other.example.cn' })).rejects.toMatchObject({
      code: 'CRYPTO_MATERIAL_INVALID',
    });
    expect(await ensureOrgMaterial(dataDir, 'BankMSP')).toEqual(bank);
  });

  it('refuses a folder that is incomplete or missing files, instead of overwriting it', async () => {
    await mkdir(join(dataDir, 'crypto', 'HalfMSP'), { recursive: true });
    await writeFile(join(dataDir, 'crypto', 'HalfMSP', 'stray.pem'), 'x');
    await expect(ensureOrgMaterial(dataDir, 'HalfMSP')).rejects.toMatchObject({ code: 'CRYPTO_MATERIAL_INVALID' });
    expect(await readFile(join(dataDir, 'crypto', 'HalfMSP', 'stray.pem'), 'utf8')).toBe('x');

    const audit = await ensureOrgMaterial(dataDir, 'AuditMSP');
    await rm(orgPaths(audit.dir, 'AuditMSP', audit.domain).clientKey);
    await expect(ensureOrgMaterial(dataDir, 'AuditMSP')).rejects.toMatchObject({ code: 'CRYPTO_MATERIAL_INVALID' });
  });

  it('rejects MSP ids that are not plain names, and OrdererMSP', async () => {
    await expect(ensureOrgMaterial(dataDir, '../evil')).rejects.toMatchObject({ code: 'CRYPTO_MATERIAL_INVALID' });
    await expect(ensureOrgMaterial(dataDir, '')).rejects.toMatchObject({ code: 'CRYPTO_MATERIAL_INVALID' });
    await expect(ensureOrgMaterial(dataDir, 'OrdererMSP')).rejects.toMatchObject({ code: 'CRYPTO_MATERIAL_INVALID' });
  });
});

describe('ensureOrdererMaterial', () => {
  it('makes OrdererMSP with an orderer node identity (OU=orderer)', async () => {
    const orderer = await ensureOrdererMaterial(dataDir);
    expect(orderer.mspId).toBe('OrdererMSP');
    expect(orderer.nodeHost).toBe('orderer.credex.local');
    expect(subjectOf(orderer.peer.certPem)).toEqual(expect.arrayContaining(['OU=orderer', 'CN=orderer.credex.local']));
    expect(new X509Certificate(orderer.peerTls.certPem).checkHost('orderer.credex.local')).toBe('orderer.credex.local');
    expect(await ensureOrdererMaterial(dataDir)).toEqual(orderer);
  });
});

describe('issueIdentity', () => {
  it('issues a certificate with the given role and validity from the org CA', async () => {
    const notBefore = new Date('2020-01-01T00:00:00Z');
    const notAfter = new Date('2021-01-01T00:00:00Z');
    const id = await issueIdentity(gov, { cn: 'old-client', role: 'client', notBefore, notAfter });
    const cert = new X509Certificate(id.certPem);
    expect(id.mspId).toBe('GovMSP');
    expect(cert.verify(new X509Certificate(gov.caCertPem).publicKey)).toBe(true);
    expect(Date.parse(cert.validFrom)).toBe(notBefore.getTime());
    expect(Date.parse(cert.validTo)).toBe(notAfter.getTime());
    expect(subjectOf(id.certPem)).toEqual(expect.arrayContaining(['OU=client', 'CN=old-client']));
  });

  it('reads the CA key from disk in a fresh process', async () => {
    vi.resetModules();
    const fresh = await import('../../src/msp/material');
    const loaded = await fresh.ensureOrgMaterial(dataDir, 'GovMSP');
    const id = await fresh.issueIdentity(loaded, { cn: 'auditor-bot', role: 'admin' });
    expect(new X509Certificate(id.certPem).verify(new X509Certificate(gov.caCertPem).publicKey)).toBe(true);
  });
});
