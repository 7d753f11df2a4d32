/**
 * Crypto material of node-sim's organizations: real X.509 ECDSA P-256 certificates, laid out on
 * disk like Fabric's `cryptogen` output, generated once into `<dataDir>/crypto/<mspId>/` and
 * loaded on later starts.
 *
 * Each organization has a signing CA and a separate TLS CA (both self-signed), a peer (or, for
 * the orderer organization, an orderer) node identity, an admin and a client user. Signing
 * certificates carry Fabric's NodeOU roles as subject OU (`client`, `peer`, `admin`,
 * `orderer`), as `cryptogen` does with `EnableNodeOUs: true`.
 */
import { createHash, KeyObject, randomBytes, webcrypto } from 'node:crypto';
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs a Reflect polyfill loaded first
import * as x509 from '@peculiar/x509';
import { MspError } from './errors';

x509.cryptoProvider.set(webcrypto);

/** A NodeOU role, the subject OU of a signing certificate. */
export type Role = 'client' | 'peer' | 'admin' | 'orderer';

/** A signing identity: certificate and PKCS#8 private key, both PEM. */
export interface Identity {
  mspId: string;
  certPem: string;
  keyPem: string;
}

/** Everything node-sim needs of one organization. */
export interface OrgMaterial {
  mspId: string;
  /** DNS domain of the organization, e.g. `gov.credex.local`. */
  domain: string;
  /** Self-signed root of the organization's signing identities. */
  caCertPem: string;
  /** Self-signed root of the organization's TLS certificates. */
  tlsCaCertPem: string;
  /** The node identity: the peer (OU=peer); for the orderer organization the orderer (OU=orderer). */
  peer: Identity;
  admin: Identity;
  client: Identity;
  /** TLS server (and client) certificate of the node; SANs: localhost, 127.0.0.1, {@link nodeHost}. */
  peerTls: { certPem: string; keyPem: string };
  /** Host name of the node, its certificates' CN and the TLS host name override (`peer0.<domain>`). */
  nodeHost: string;
  /** `<dataDir>/crypto/<mspId>` */
  dir: string;
}

/** Paths (absolute) of the files of an organization's material, in the `cryptogen` layout. */
export interface OrgPaths {
  caCert: string;
  caKey: string;
  tlsCaCert: string;
  tlsCaKey: string;
  /** The organization's MSP folder (cacerts, tlscacerts, config.yaml). */
  mspDir: string;
  nodeMspDir: string;
  nodeCert: string;
  nodeKey: string;
  nodeTlsCert: string;
  nodeTlsKey: string;
  nodeTlsCa: string;
  adminMspDir: string;
  adminCert: string;
  adminKey: string;
  clientMspDir: string;
  clientCert: string;
  clientKey: string;
}

const ORDERER_MSP_ID = 'OrdererMSP';
const MATERIAL_INDEX = 'material.json';
const MATERIAL_FORMAT = 1;
const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;
// Certificates start a little in the past so that a peer whose clock is slightly behind accepts them.
const BACKDATE_MS = 3600 * 1000;

/** Default domain of an MSP id: `GovMSP` → `gov.credex.local`. */
export function defaultDomain(mspId: string): string {
  if (mspId === ORDERER_MSP_ID) return 'credex.local';
  const base = mspId.replace(/MSP$/, '').toLowerCase();
  return `${base === '' ? mspId.toLowerCase() : base}.credex.local`;
}

/** Host name of an organization's node. */
function nodeHostOf(mspId: string, domain: string): string {
  return mspId === ORDERER_MSP_ID ? `orderer.${domain}` : `peer0.${domain}`;
}

/** The `cryptogen` layout of an organization's folder. */
export function orgPaths(dir: string, mspId: string, domain: string): OrgPaths {
  const nodeHost = nodeHostOf(mspId, domain);
  const nodeDir = join(dir, mspId === ORDERER_MSP_ID ? 'orderers' : 'peers', nodeHost);
  const adminDir = join(dir, 'users', `Admin@${domain}`, 'msp');
  const clientDir = join(dir, 'users', `User1@${domain}`, 'msp');
  return {
    caCert: join(dir, 'ca', `ca.${domain}-cert.pem`),
    caKey: join(dir, 'ca', 'priv_sk'),
    tlsCaCert: join(dir, 'tlsca', `tlsca.${domain}-cert.pem`),
    tlsCaKey: join(dir, 'tlsca', 'priv_sk'),
    mspDir: join(dir, 'msp'),
    nodeMspDir: join(nodeDir, 'msp'),
    nodeCert: join(nodeDir, 'msp', 'signcerts', `${nodeHost}-cert.pem`),
    nodeKey: join(nodeDir, 'msp', 'keystore', 'priv_sk'),
    nodeTlsCert: join(nodeDir, 'tls', 'server.crt'),
    nodeTlsKey: join(nodeDir, 'tls', 'server.key'),
    nodeTlsCa: join(nodeDir, 'tls', 'ca.crt'),
    adminMspDir: adminDir,
    adminCert: join(adminDir, 'signcerts', `Admin@${domain}-cert.pem`),
    adminKey: join(adminDir, 'keystore', 'priv_sk'),
    clientMspDir: clientDir,
    clientCert: join(clientDir, 'signcerts', `User1@${domain}-cert.pem`),
    clientKey: join(clientDir, 'keystore', 'priv_sk'),
  };
}

interface Ca {
  cert: x509.X509Certificate;
  key: CryptoKey;
  /** Hex subject key identifier of the CA, the authority key identifier of what it issues. */
  keyId: string;
}

interface KeyedCert {
  certPem: string;
  keyPem: string;
}

// Signing keys of CAs created or loaded in this process, by CA certificate PEM.
const caKeys = new Map<string, Promise<CryptoKey>>();

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // a positive INTEGER without a leading zero byte
  return bytes.toString('hex');
}

function subject(domain: string, cn: string, ou?: string): x509.JsonName {
  const name: x509.JsonName = [{ C: ['CN'] }, { O: [domain] }];
  if (ou !== undefined) name.push({ OU: [ou] });
  name.push({ CN: [cn] });
  return name;
}

/**
 * RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits (for P-256 the 65-byte
 * uncompressed point ending the SPKI). Computed here because @peculiar/x509's async helper
 * costs more than the rest of a certificate.
 */
function keyIdentifier(publicKey: CryptoKey): string {
  const spki = KeyObject.from(publicKey).export({ type: 'spki', format: 'der' });
  return createHash('sha1').update(spki.subarray(spki.length - 65)).digest('hex');
}

async function newKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify']);
}

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function createCa(domain: string, cn: string, now: Date): Promise<Ca & KeyedCert> {
  const keys = await newKeyPair();
  const keyId = keyIdentifier(keys.publicKey);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: subject(domain, cn),
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + TEN_YEARS_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectKeyIdentifierExtension(keyId),
    ],
  });
  const certPem = cert.toString('pem');
  caKeys.set(certPem, Promise.resolve(keys.privateKey));
  return { cert, key: keys.privateKey, keyId, certPem, keyPem: await pkcs8Pem(keys.privateKey) };
}

interface LeafOptions {
  domain: string;
  cn: string;
  ou?: Role;
  tlsHosts?: string[];
  notBefore: Date;
  notAfter: Date;
}

async function issueLeaf(ca: Ca, opts: LeafOptions): Promise<KeyedCert> {
  const keys = await newKeyPair();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.SubjectKeyIdentifierExtension(keyIdentifier(keys.publicKey)),
    new x509.AuthorityKeyIdentifierExtension(ca.keyId),
  ];
  if (opts.tlsHosts === undefined) {
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true));
  } else {
    extensions.push(
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(
        opts.tlsHosts.map((host) => ({ type: /^[\d.]+$/.test(host) ? 'ip' : 'dns', value: host })),
      ),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: subject(opts.domain, opts.cn, opts.ou),
    issuer: ca.cert.subjectName,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions,
  });
  return { certPem: cert.toString('pem'), keyPem: await pkcs8Pem(keys.privateKey) };
}

function nodeOusConfig(caCertFile: string): string {
  const ou = (name: Role): string =>
    `  ${name[0]?.toUpperCase() ?? ''}${name.slice(1)}OUIdentifier:\n` +
    `    Certificate: cacerts/${caCertFile}\n` +
    `    OrganizationalUnitIdentifier: ${name}\n`;
  return `NodeOUs:\n  Enable: true\n${ou('client')}${ou('peer')}${ou('admin')}${ou('orderer')}`;
}

async function put(path: string, content: string, secret = false): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content, { mode: secret ? 0o600 : 0o644 });
}

interface MaterialIndex {
  format: number;
  mspId: string;
  domain: string;
}

async function generate(dir: string, mspId: string, domain: string): Promise<void> {
  const now = new Date();
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const notAfter = new Date(now.getTime() + TEN_YEARS_MS);
  const nodeHost = nodeHostOf(mspId, domain);
  const [ca, tlsCa] = await Promise.all([createCa(domain, `ca.${domain}`, now), createCa(domain, `tlsca.${domain}`, now)]);
  const [node, admin, client, nodeTls] = await Promise.all([
    issueLeaf(ca, { domain, cn: nodeHost, ou: mspId === ORDERER_MSP_ID ? 'orderer' : 'peer', notBefore, notAfter }),
    issueLeaf(ca, { domain, cn: `Admin@${domain}`, ou: 'admin', notBefore, notAfter }),
    issueLeaf(ca, { domain, cn: `User1@${domain}`, ou: 'client', notBefore, notAfter }),
    issueLeaf(tlsCa, { domain, cn: nodeHost, tlsHosts: ['localhost', '127.0.0.1', nodeHost], notBefore, notAfter }),
  ]);

  const p = orgPaths(dir, mspId, domain);
  const caFile = `ca.${domain}-cert.pem`;
  const tlsCaFile = `tlsca.${domain}-cert.pem`;
  const mspFolder = (mspDir: string): Promise<void>[] => [
    put(join(mspDir, 'cacerts', caFile), ca.certPem),
    put(join(mspDir, 'tlscacerts', tlsCaFile), tlsCa.certPem),
    put(join(mspDir, 'config.yaml'), nodeOusConfig(caFile)),
  ];
  await Promise.all([
    put(p.caCert, ca.certPem),
    put(p.caKey, ca.keyPem, true),
    put(p.tlsCaCert, tlsCa.certPem),
    put(p.tlsCaKey, tlsCa.keyPem, true),
    ...mspFolder(p.mspDir),
    ...mspFolder(p.nodeMspDir),
    put(p.nodeCert, node.certPem),
    put(p.nodeKey, node.keyPem, true),
    put(p.nodeTlsCert, nodeTls.certPem),
    put(p.nodeTlsKey, nodeTls.keyPem, true),
    put(p.nodeTlsCa, tlsCa.certPem),
    ...mspFolder(p.adminMspDir),
    put(p.adminCert, admin.certPem),
    put(p.adminKey, admin.keyPem, true),
    ...mspFolder(p.clientMspDir),
    put(p.clientCert, client.certPem),
    put(p.clientKey, client.keyPem, true),
  ]);
  // Written last: its presence means the folder is complete.
  const index: MaterialIndex = { format: MATERIAL_FORMAT, mspId, domain };
  await put(join(dir, MATERIAL_INDEX), `${JSON.stringify(index, null, 2)}\n`);
}

async function readIndex(dir: string): Promise<MaterialIndex | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, MATERIAL_INDEX), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const index = JSON.parse(text) as Partial<MaterialIndex>;
  if (index.format !== MATERIAL_FORMAT || typeof index.mspId !== 'string' || typeof index.domain !== 'string') {
    throw new MspError('CRYPTO_MATERIAL_INVALID', `unreadable ${MATERIAL_INDEX} in ${dir}`, { dir });
  }
  return { format: index.format, mspId: index.mspId, domain: index.domain };
}

async function load(dir: string, index: MaterialIndex): Promise<OrgMaterial> {
  const { mspId, domain } = index;
  const p = orgPaths(dir, mspId, domain);
  const read = async (path: string): Promise<string> => {
    try {
      return await readFile(path, 'utf8');
    } catch (e) {
      throw new MspError('CRYPTO_MATERIAL_INVALID', `cannot read ${path}; remove ${dir} to regenerate`, { dir }, e);
    }
  };
  const [caCertPem, tlsCaCertPem, nodeCert, nodeKey, adminCert, adminKey, clientCert, clientKey, tlsCert, tlsKey] =
    await Promise.all([
      read(p.caCert),
      read(p.tlsCaCert),
      read(p.nodeCert),
      read(p.nodeKey),
      read(p.adminCert),
      read(p.adminKey),
      read(p.clientCert),
      read(p.clientKey),
      read(p.nodeTlsCert),
      read(p.nodeTlsKey),
    ]);
  return {
    mspId,
    domain,
    caCertPem,
    tlsCaCertPem,
    peer: { mspId, certPem: nodeCert, keyPem: nodeKey },
    admin: { mspId, certPem: adminCert, keyPem: adminKey },
    client: { mspId, certPem: clientCert, keyPem: clientKey },
    peerTls: { certPem: tlsCert, keyPem: tlsKey },
    nodeHost: nodeHostOf(mspId, domain),
    dir,
  };
}

async function ensure(dataDir: string, mspId: string, domain: string | undefined): Promise<OrgMaterial> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(mspId)) {
    throw new MspError('CRYPTO_MATERIAL_INVALID', `MSP id '${mspId}' is not a plain name`, { mspId });
  }
  const dir = join(dataDir, 'crypto', mspId);
  let index = await readIndex(dir);
  if (index === undefined) {
    // Generate next to the final folder and rename it into place, so that a crash leaves no
    // half-written organization and two concurrent starts agree on one set of keys.
    const tmp = join(dataDir, 'crypto', `.tmp-${mspId}-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await generate(tmp, mspId, domain ?? defaultDomain(mspId));
      try {
        await rename(tmp, dir);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    index = await readIndex(dir);
    if (index === undefined) {
      throw new MspError('CRYPTO_MATERIAL_INVALID', `${dir} exists but has no ${MATERIAL_INDEX}; remove it to regenerate`, { dir });
    }
  }
  if (index.mspId !== mspId) {
    throw new MspError('CRYPTO_MATERIAL_INVALID', `${dir} holds material of ${index.mspId}, not ${mspId}`, { dir });
  }
  if (domain !== undefined && index.domain !== domain) {
    throw new MspError('CRYPTO_MATERIAL_INVALID', `${dir} was generated for domain ${index.domain}, not ${domain}`, { dir });
  }
  return load(dir, index);
}

/**
 * Returns the material of a peer organization, generating it into `<dataDir>/crypto/<mspId>/`
 * on the first call and loading it afterwards.
 *
 * @param opts.domain - the organization's domain; default {@link defaultDomain}(mspId)
 * @throws MspError CRYPTO_MATERIAL_INVALID when the folder holds other or unreadable material
 */
export async function ensureOrgMaterial(
  dataDir: string,
  mspId: string,
  opts: { domain?: string } = {},
): Promise<OrgMaterial> {
  if (mspId === ORDERER_MSP_ID) {
    throw new MspError('CRYPTO_MATERIAL_INVALID', `${ORDERER_MSP_ID} is the orderer organization; use ensureOrdererMaterial`);
  }
  return ensure(dataDir, mspId, opts.domain);
}

/**
 * Returns the material of the ordering organization `OrdererMSP` (domain `credex.local`, node
 * `orderer.credex.local` with OU=orderer, in {@link OrgMaterial.peer}).
 */
export async function ensureOrdererMaterial(dataDir: string): Promise<OrgMaterial> {
  return ensure(dataDir, ORDERER_MSP_ID, undefined);
}

function caSigningKey(org: OrgMaterial): Promise<CryptoKey> {
  let key = caKeys.get(org.caCertPem);
  if (key === undefined) {
    key = readFile(orgPaths(org.dir, org.mspId, org.domain).caKey, 'utf8').then((pem) =>
      webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pem), EC_ALGORITHM, false, ['sign']),
    );
    key.catch(() => caKeys.delete(org.caCertPem));
    caKeys.set(org.caCertPem, key);
  }
  return key;
}

/**
 * Issues a new signing identity from the organization's CA (not written to disk), e.g. a
 * second client, or an expired certificate for a test.
 *
 * @param opts.notBefore - default: one hour ago
 * @param opts.notAfter - default: in ten years
 */
export async function issueIdentity(
  org: OrgMaterial,
  opts: { cn: string; role: Role; notBefore?: Date; notAfter?: Date },
): Promise<Identity> {
  const now = Date.now();
  const cert = new x509.X509Certificate(org.caCertPem);
  const keyId = cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  if (keyId === undefined) throw new MspError('CRYPTO_MATERIAL_INVALID', `CA of ${org.mspId} has no subject key identifier`);
  const ca: Ca = { cert, key: await caSigningKey(org), keyId };
  const issued = await issueLeaf(ca, {
    domain: org.domain,
    cn: opts.cn,
    ou: opts.role,
    notBefore: opts.notBefore ?? new Date(now - BACKDATE_MS),
    notAfter: opts.notAfter ?? new Date(now + TEN_YEARS_MS),
  });
  return { mspId: org.mspId, ...issued };
}
