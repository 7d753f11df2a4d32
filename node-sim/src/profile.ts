/**
 * Connection profiles of node-sim's organizations, written into `<dataDir>/profiles/` each time
 * the network starts (the peer ports may change between starts).
 *
 * Two files per organization:
 * - `<mspId>.json` — node-sim's own flat profile, what the credex gateway's
 *   `ledger.connectionProfile` reads: everything the `@hyperledger/fabric-gateway` client needs
 *   for one peer (endpoint, TLS CA and host name override, MSP id, client certificate and key,
 *   channel, chaincode). Its path is what {@link writeConnectionProfile} returns.
 * - `connection-<org>.json` — a minimal Fabric *common connection profile* (the shape of
 *   test-network's `connection-org1.json`: `client`, `organizations`, `peers`,
 *   `certificateAuthorities`), for tools that read that format. node-sim runs no Fabric CA
 *   server, so its certificate authority entry has the CA certificate but no `url`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { orgPaths, type OrgMaterial } from './msp/material';

/** node-sim's flat connection profile of one organization (`<mspId>.json`). */
export interface ConnectionProfile {
  mspId: string;
  /** `127.0.0.1:<port>` of the organization's peer. */
  peerEndpoint: string;
  /** Whether the endpoint speaks TLS. */
  tls: boolean;
  /** The TLS server name to expect (`grpc.ssl_target_name_override`). */
  hostnameOverride: string;
  /** Absolute paths of PEM files. */
  tlsCaCertPath: string;
  /** The organization's client identity (OU=client). */
  certPath: string;
  keyPath: string;
  /** The organization's admin identity (OU=admin). */
  adminCertPath: string;
  adminKeyPath: string;
  channel: string;
  chaincode: string;
}

/** Options of {@link writeConnectionProfile}. */
export interface ProfileOptions {
  /** default `credex` */
  channel?: string;
  /** default `credex` */
  chaincode?: string;
  /** default `true` */
  tls?: boolean;
}

/** Where an organization's profiles live. */
export function connectionProfilePaths(dataDir: string, org: Pick<OrgMaterial, 'mspId'>): { profile: string; common: string } {
  const dir = join(dataDir, 'profiles');
  return { profile: join(dir, `${org.mspId}.json`), common: join(dir, `connection-${orgName(org.mspId).toLowerCase()}.json`) };
}

/** `GovMSP` → `Gov`, as test-network names `Org1MSP` → `Org1`. */
function orgName(mspId: string): string {
  const name = mspId.replace(/MSP$/, '');
  return name === '' ? mspId : name;
}

/** The flat profile of an organization whose peer listens at `endpoint`. */
export function connectionProfile(org: OrgMaterial, endpoint: string, opts: ProfileOptions = {}): ConnectionProfile {
  const p = orgPaths(org.dir, org.mspId, org.domain);
  return {
    mspId: org.mspId,
    peerEndpoint: endpoint,
    tls: opts.tls ?? true,
    hostnameOverride: org.nodeHost,
    tlsCaCertPath: p.nodeTlsCa,
    certPath: p.clientCert,
    keyPath: p.clientKey,
    adminCertPath: p.adminCert,
    adminKeyPath: p.adminKey,
    channel: opts.channel ?? 'credex',
    chaincode: opts.chaincode ?? 'credex',
  };
}

/** A minimal Fabric common connection profile of an organization with one peer. */
export function commonConnectionProfile(org: OrgMaterial, endpoint: string, opts: ProfileOptions = {}): Record<string, unknown> {
  const name = orgName(org.mspId);
  const caName = `ca.${org.domain}`;
  return {
    name: `credex-${name.toLowerCase()}`,
    version: '1.0.0',
    client: { organization: name, connection: { timeout: { peer: { endorser: '300' } } } },
    organizations: { [name]: { mspid: org.mspId, peers: [org.nodeHost], certificateAuthorities: [caName] } },
    peers: {
      [org.nodeHost]: {
        url: `${(opts.tls ?? true) ? 'grpcs' : 'grpc'}://${endpoint}`,
        tlsCACerts: { pem: org.tlsCaCertPem },
        grpcOptions: { 'ssl-target-name-override': org.nodeHost, hostnameOverride: org.nodeHost },
      },
    },
    certificateAuthorities: { [caName]: { caName, tlsCACerts: { pem: [org.caCertPem] } } },
  };
}

async function writeJson(path: string, value: unknown): Promise<void> {
  // Readers (a gateway starting next to the network) never see a half-written file.
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, path);
}

/**
 * Writes both profiles of an organization whose peer listens at `endpoint` (`127.0.0.1:<port>`).
 *
 * @returns the path of the flat profile `<dataDir>/profiles/<mspId>.json`
 */
export async function writeConnectionProfile(
  dataDir: string,
  org: OrgMaterial,
  endpoint: string,
  opts: ProfileOptions = {},
): Promise<string> {
  const paths = connectionProfilePaths(dataDir, org);
  await mkdir(join(dataDir, 'profiles'), { recursive: true });
  await Promise.all([
    writeJson(paths.profile, connectionProfile(org, endpoint, opts)),
    writeJson(paths.common, commonConnectionProfile(org, endpoint, opts)),
  ]);
  return paths.profile;
}
