import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureOrgMaterial, type OrgMaterial } from '../src/msp/material';
import { connectionProfilePaths, writeConnectionProfile, type ConnectionProfile } from '../src/profile';

let dataDir: string;
let gov: OrgMaterial;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'node-sim-profile-'));
  gov = await ensureOrgMaterial(dataDir, 'GovMSP');
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8'));
}

describe('writeConnectionProfile', () => {
  it('writes the flat profile with files that hold the org client identity and TLS CA', async () => {
    const path = await writeConnectionProfile(dataDir, gov, '127.0.0.1:7051');
    expect(path).toBe(join(dataDir, 'profiles', 'GovMSP.json'));
    const profile = (await readJson(path)) as ConnectionProfile;
    expect(profile).toMatchObject({
      mspId: 'GovMSP',
      peerEndpoint: '127.0.0.1:7051',
      tls: true,
      hostnameOverride: 'peer0.gov.credex.local',
      channel: 'credex',
      chaincode: 'credex',
    });
    expect(await readFile(profile.tlsCaCertPath, 'utf8')).toBe(gov.tlsCaCertPem);
    expect(await readFile(profile.certPath, 'utf8')).toBe(gov.client.certPem);
    expect(await readFile(profile.keyPath, 'utf8')).toBe(gov.client.keyPem);
    expect(await readFile(profile.adminCertPath, 'utf8')).toBe(gov.admin.certPem);
    expect(await readFile(profile.adminKeyPath, 'utf8')).toBe(gov.admin.keyPem);
    // The TLS CA in the profile is the one that issued the peer's server certificate for that host name.
    const server = new X509Certificate(gov.peerTls.certPem);
    expect(server.verify(new X509Certificate(await readFile(profile.tlsCaCertPath, 'utf8')).publicKey)).toBe(true);
    expect(server.checkHost(profile.hostnameOverride)).toBe(profile.hostnameOverride);
  });

  it('writes a Fabric common connection profile next to it', async () => {
    await writeConnectionProfile(dataDir, gov, '127.0.0.1:7051');
    const { common } = connectionProfilePaths(dataDir, gov);
    expect(common).toBe(join(dataDir, 'profiles', 'connection-gov.json'));
    const ccp = (await readJson(common)) as {
      client: { organization: string };
      organizations: Record<string, { mspid: string; peers: string[]; certificateAuthorities: string[] }>;
      peers: Record<string, { url: string; tlsCACerts: { pem: string }; grpcOptions: Record<string, string> }>;
      certificateAuthorities: Record<string, { tlsCACerts: { pem: string[] } }>;
    };
    expect(ccp.client.organization).toBe('Gov');
    expect(ccp.organizations.Gov).toEqual({
      mspid: 'GovMSP',
      peers: ['peer0.gov.credex.local'],
      certificateAuthorities: ['ca.gov.credex.local'],
    });
    const peer = ccp.peers['peer0.gov.credex.local']!;
    expect(peer.url).toBe('grpcs://127.0.0.1:7051');
    expect(peer.tlsCACerts.pem).toBe(gov.tlsCaCertPem);
    expect(peer.grpcOptions['ssl-target-name-override']).toBe('peer0.gov.credex.local');
    expect(ccp.certificateAuthorities['ca.gov.credex.local']!.tlsCACerts.pem).toEqual([gov.caCertPem]);
  });

  it('rewrites both files on a later start, with the given options, and leaves no temporary files', async () => {
    await writeConnectionProfile(dataDir, gov, '127.0.0.1:7051');
    const path = await writeConnectionProfile(dataDir, gov, '127.0.0.1:9999', { channel: 'other', chaincode: 'cc2', tls: false });
    expect(await readJson(path)).toMatchObject({ peerEndpoint: '127.0.0.1:9999', channel: 'other', chaincode: 'cc2', tls: false });
    const ccp = (await readJson(connectionProfilePaths(dataDir, gov).common)) as { peers: Record<string, { url: string }> };
    expect(ccp.peers['peer0.gov.credex.local']!.url).toBe('grpc://127.0.0.1:9999');
    expect((await readdir(join(dataDir, 'profiles'))).sort()).toEqual(['GovMSP.json', 'connection-gov.json']);
  });
});
