/**
 * The channel's MSPs as a Fabric peer sees them: a serialized identity (`msp.SerializedIdentity`
 * with a PEM certificate) is valid when its MSP is a channel member, its certificate was issued
 * by that MSP's CA, it is within its validity period, and it carries exactly one NodeOU role.
 * Signatures are ECDSA-SHA256 in strict DER, low-S only.
 */
import { createPrivateKey, sign, verify as verifySignature, X509Certificate, type KeyObject } from 'node:crypto';
import { msp } from '@hyperledger/fabric-protos';
import { encodeEcdsaSignatureDer, isLowS, parseEcdsaSignatureDer, toLowS } from './ecdsa';
import { MspError } from './errors';
import type { Role } from './material';

export { MspError, type MspErrorCode } from './errors';

/** An identity whose certificate chains to its MSP's CA and was valid when checked. */
export interface ValidatedIdentity {
  mspId: string;
  certPem: string;
  role: Role;
  commonName: string;
  publicKey: KeyObject;
}

/** The MSPs of a channel. */
export interface MspRegistry {
  /**
   * Parses and validates `msp.SerializedIdentity` bytes.
   *
   * @throws MspError UNKNOWN_MSP (not a channel member), UNTRUSTED_CERT (not issued by the
   *   MSP's CA), CERT_EXPIRED (outside its validity, or its CA's), BAD_IDENTITY (unparsable, not
   *   an ECDSA P-256 leaf certificate, or not exactly one NodeOU role)
   */
  deserialize(serializedIdentity: Uint8Array): ValidatedIdentity;
  /** Whether `signatureDer` is this identity's ECDSA-SHA256 signature of `message`, in strict DER with low S. */
  verify(id: ValidatedIdentity, message: Uint8Array, signatureDer: Uint8Array): boolean;
}

/** Options of {@link createMspRegistry}. */
export interface MspRegistryOptions {
  /** The clock validity is checked against; default `() => new Date()`. */
  now?: () => Date;
  /** How many deserialized identities to keep; default 10,000. */
  cacheSize?: number;
}

const ROLES: readonly Role[] = ['client', 'peer', 'admin', 'orderer'];

interface TrustedCa {
  cert: X509Certificate;
  notBefore: number;
  notAfter: number;
}

interface CachedIdentity {
  identity: ValidatedIdentity;
  // The validity window of the certificate and its CA together.
  notBefore: number;
  notAfter: number;
}

function parseCertificate(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

function subjectAttributes(cert: X509Certificate, name: string): string[] {
  const prefix = `${name}=`;
  return cert.subject
    .split('\n')
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length));
}

function roleOf(cert: X509Certificate, mspId: string): Role {
  const roles = subjectAttributes(cert, 'OU').filter((ou): ou is Role => (ROLES as readonly string[]).includes(ou));
  const [role] = roles;
  if (role === undefined || roles.length !== 1) {
    throw new MspError(
      'BAD_IDENTITY',
      `certificate of ${mspId} must carry exactly one NodeOU (client, peer, admin or orderer) as subject OU`,
      { mspId, subject: cert.subject },
    );
  }
  return role;
}

function checkValidity(mspId: string, notBefore: number, notAfter: number, now: number): void {
  if (now < notBefore || now > notAfter) {
    throw new MspError(
      'CERT_EXPIRED',
      `certificate of ${mspId} is ${now < notBefore ? 'not yet valid' : 'expired'}`,
      { mspId, notBefore: new Date(notBefore).toISOString(), notAfter: new Date(notAfter).toISOString() },
    );
  }
}

class Registry implements MspRegistry {
  private readonly cas: Map<string, TrustedCa>;
  private readonly cache = new Map<string, CachedIdentity>();
  private readonly now: () => Date;
  private readonly cacheSize: number;

  constructor(cas: Map<string, TrustedCa>, opts: MspRegistryOptions) {
    this.cas = cas;
    this.now = opts.now ?? ((): Date => new Date());
    this.cacheSize = Math.max(1, opts.cacheSize ?? 10_000);
  }

  deserialize(serializedIdentity: Uint8Array): ValidatedIdentity {
    const key = Buffer.from(serializedIdentity.buffer, serializedIdentity.byteOffset, serializedIdentity.byteLength).toString('latin1');
    const now = this.now().getTime();
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      checkValidity(cached.identity.mspId, cached.notBefore, cached.notAfter, now);
      return cached.identity;
    }
    const entry = this.validate(serializedIdentity);
    checkValidity(entry.identity.mspId, entry.notBefore, entry.notAfter, now);
    if (this.cache.size >= this.cacheSize) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
    this.cache.set(key, entry);
    return entry.identity;
  }

  verify(id: ValidatedIdentity, message: Uint8Array, signatureDer: Uint8Array): boolean {
    const sig = parseEcdsaSignatureDer(signatureDer);
    if (sig === undefined || !isLowS(sig)) return false;
    return verifySignature('sha256', message, { key: id.publicKey, dsaEncoding: 'der' }, signatureDer);
  }

  private validate(serializedIdentity: Uint8Array): CachedIdentity {
    let mspId: string;
    let certPem: string;
    try {
      const sid = msp.SerializedIdentity.deserializeBinary(serializedIdentity);
      mspId = sid.getMspid();
      certPem = Buffer.from(sid.getIdBytes_asU8()).toString('utf8');
    } catch (e) {
      throw new MspError('BAD_IDENTITY', 'not a msp.SerializedIdentity', undefined, e);
    }
    const ca = this.cas.get(mspId);
    if (ca === undefined) throw new MspError('UNKNOWN_MSP', `MSP '${mspId}' is not a member of this channel`, { mspId });
    const cert = certPem.includes('-----BEGIN CERTIFICATE-----') ? parseCertificate(certPem) : undefined;
    if (cert === undefined) throw new MspError('BAD_IDENTITY', `identity of ${mspId} is not a PEM X.509 certificate`, { mspId });
    if (!cert.checkIssued(ca.cert) || !cert.verify(ca.cert.publicKey)) {
      throw new MspError('UNTRUSTED_CERT', `certificate was not issued by the CA of ${mspId}`, {
        mspId,
        issuer: cert.issuer,
      });
    }
    if (cert.ca) {
      throw new MspError('BAD_IDENTITY', `a CA certificate cannot be used as an identity of ${mspId}`, { mspId });
    }
    const publicKey = cert.publicKey;
    if (publicKey.asymmetricKeyType !== 'ec' || publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new MspError('BAD_IDENTITY', `identity of ${mspId} must have an ECDSA P-256 key`, { mspId });
    }
    const role = roleOf(cert, mspId);
    const commonName = subjectAttributes(cert, 'CN')[0] ?? '';
    return {
      identity: { mspId, certPem, role, commonName, publicKey },
      notBefore: Math.max(Date.parse(cert.validFrom), ca.notBefore),
      notAfter: Math.min(Date.parse(cert.validTo), ca.notAfter),
    };
  }
}

/**
 * Creates the registry of a channel's MSPs, each trusted through its (root) CA certificate.
 *
 * @throws MspError BAD_IDENTITY when a CA certificate is unparsable or not a CA
 */
export function createMspRegistry(
  orgs: { mspId: string; caCertPem: string }[],
  opts: MspRegistryOptions = {},
): MspRegistry {
  const cas = new Map<string, TrustedCa>();
  for (const { mspId, caCertPem } of orgs) {
    const cert = parseCertificate(caCertPem);
    if (cert?.ca !== true) throw new MspError('BAD_IDENTITY', `CA certificate of ${mspId} is not a CA certificate`, { mspId });
    cas.set(mspId, { cert, notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo) });
  }
  return new Registry(cas, opts);
}

/** `msp.SerializedIdentity` bytes of a certificate, as the Fabric client sends its creator. */
export function serializeIdentity(mspId: string, certPem: string): Uint8Array {
  const sid = new msp.SerializedIdentity();
  sid.setMspid(mspId);
  sid.setIdBytes(Buffer.from(certPem, 'utf8'));
  return sid.serializeBinary();
}

const privateKeys = new Map<string, KeyObject>();
const PRIVATE_KEY_CACHE_SIZE = 256;

function privateKey(keyPem: string): KeyObject {
  let key = privateKeys.get(keyPem);
  if (key === undefined) {
    try {
      key = createPrivateKey(keyPem);
    } catch (e) {
      throw new MspError('CRYPTO_MATERIAL_INVALID', 'not a PEM private key', undefined, e);
    }
    if (privateKeys.size >= PRIVATE_KEY_CACHE_SIZE) privateKeys.clear();
    privateKeys.set(keyPem, key);
  }
  return key;
}

/**
 * Signs with ECDSA-SHA256 and returns the DER signature in low-S form, as Fabric (and the
 * fabric-gateway client) produce it.
 *
 * @throws MspError CRYPTO_MATERIAL_INVALID when `keyPem` is not a private key
 */
export function signDer(keyPem: string, message: Uint8Array): Uint8Array {
  const der = sign('sha256', message, { key: privateKey(keyPem), dsaEncoding: 'der' });
  const sig = parseEcdsaSignatureDer(der);
  if (sig === undefined) throw new MspError('CRYPTO_MATERIAL_INVALID', 'key is not an ECDSA P-256 key');
  return isLowS(sig) ? new Uint8Array(der) : encodeEcdsaSignatureDer(toLowS(sig));
}
