/**
 * Gateway configuration: one JSON file or the environment, validated at start.
 *
 * Only {@link loadConfig} reads files and the environment; everything else takes the
 * validated {@link GatewayConfig} as an options object.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { credexError, newBoxKeyPair, newSigningKeyPair } from '@credex/core';

/** A key pair, base64url without padding. */
export interface KeyPair {
  publicKey: string;
  secretKey: string;
}

/** Where and as whom the gateway talks to the ledger (a Fabric peer's Gateway service). */
export interface LedgerConfig {
  /** host:port of the peer's gRPC endpoint. */
  peerEndpoint: string;
  /** TLS server name to expect (the peer's hostname in its certificate). */
  hostnameOverride: string;
  tlsCaCertPem: string;
  /** The organization's client identity (X.509) and its private key (PKCS#8 PEM). */
  certPem: string;
  keyPem: string;
  channel: string;
  chaincode: string;
}

/** The validated configuration of one organization's gateway. */
export interface GatewayConfig {
  mspId: string;
  /** Display name registered on chain; defaults to the MSP id. */
  orgName: string;
  /** Role to register (government | bank | core | auditor); the chaincode definition must agree. */
  role?: 'government' | 'bank' | 'core' | 'auditor';
  host: string;
  port: number;
  dataDir: string;
  /** Accepted `Authorization: Bearer <token>` values for the organization's staff. */
  staffTokens: string[];
  /** This gateway's URL as other organizations reach it; registered on chain as gatewayUrl. */
  publicUrl: string;
  ledger: LedgerConfig;
  /** ed25519 request-signing key and x25519 box key, base64url. */
  keys: { requestKey: KeyPair; boxKey: KeyPair };
  limits: { bodyBytes: number; ratePerMinute: number };
  /** Register or update the organization's profile on chain at start (default true). */
  selfRegister: boolean;
  logLevel: string;
}

const DEFAULT_LIMITS = { bodyBytes: 32 * 1024 * 1024, ratePerMinute: 6000 };
const B64U = /^[A-Za-z0-9_-]+$/;
const MSP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

type Json = Record<string, unknown>;

function invalid(message: string): never {
  throw credexError('CONFIG_INVALID', message);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(obj: Json, key: string, path: string, fallback?: string): string {
  const v = obj[key] ?? fallback;
  if (typeof v !== 'string' || v.length === 0) invalid(`${path}${key} must be a non-empty string`);
  return v;
}

function int(obj: Json, key: string, path: string, fallback: number, min: number, max: number): number {
  const raw = obj[key] ?? fallback;
  const v = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    invalid(`${path}${key} must be an integer in [${min}, ${max}]`);
  }
  return v;
}

/** A PEM given inline (`<name>Pem`) or as a file (`<name>Path`, relative to `baseDir`). */
function pem(obj: Json, name: string, path: string, baseDir: string): string {
  const inline = obj[`${name}Pem`];
  if (typeof inline === 'string' && inline.includes('-----BEGIN')) return inline;
  const file = obj[`${name}Path`];
  if (typeof file === 'string' && file.length > 0) {
    const full = resolve(baseDir, file);
    if (!existsSync(full)) invalid(`${path}${name}Path: no file at ${full}`);
    return readFileSync(full, 'utf8');
  }
  return invalid(`${path}${name}Pem (PEM text) or ${path}${name}Path (file) is required`);
}

function keyPair(v: unknown, path: string): KeyPair {
  if (!isObject(v)) return invalid(`${path} must be {publicKey, secretKey}`);
  const publicKey = str(v, 'publicKey', `${path}.`);
  const secretKey = str(v, 'secretKey', `${path}.`);
  if (!B64U.test(publicKey) || !B64U.test(secretKey)) invalid(`${path} keys must be base64url`);
  return { publicKey, secretKey };
}

function ledgerConfig(raw: unknown, baseDir: string): LedgerConfig {
  if (!isObject(raw)) return invalid('ledger must be an object');
  let obj: Json = raw;
  let dir = baseDir;
  // A node-sim connection profile: {mspId, peerEndpoint, hostnameOverride, tlsCaCertPath, certPath, keyPath}.
  if (typeof raw.connectionProfile === 'string') {
    const file = resolve(baseDir, raw.connectionProfile);
    if (!existsSync(file)) invalid(`ledger.connectionProfile: no file at ${file}`);
    const profile: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!isObject(profile)) invalid('ledger.connectionProfile must hold a JSON object');
    obj = { ...profile, ...raw };
    dir = dirname(file);
  }
  return {
    peerEndpoint: str(obj, 'peerEndpoint', 'ledger.'),
    hostnameOverride: str(obj, 'hostnameOverride', 'ledger.', 'localhost'),
    tlsCaCertPem: pem(obj, 'tlsCaCert', 'ledger.', dir),
    certPem: pem(obj, 'cert', 'ledger.', dir),
    keyPem: pem(obj, 'key', 'ledger.', dir),
    channel: str(obj, 'channel', 'ledger.', 'credex'),
    chaincode: str(obj, 'chaincode', 'ledger.', 'credex'),
  };
}

/** The gateway's keys: from the config, or generated once and kept in `<dataDir>/keys.json`. */
function gatewayKeys(raw: unknown, dataDir: string): GatewayConfig['keys'] {
  if (raw !== undefined) {
    if (!isObject(raw)) return invalid('keys must be {requestKey, boxKey}');
    return { requestKey: keyPair(raw.requestKey, 'keys.requestKey'), boxKey: keyPair(raw.boxKey, 'keys.boxKey') };
  }
  const file = join(dataDir, 'keys.json');
  if (existsSync(file)) return gatewayKeys(JSON.parse(readFileSync(file, 'utf8')), dataDir);
  const keys = { requestKey: newSigningKeyPair(), boxKey: newBoxKeyPair() };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return keys;
}

/**
 * Validates a raw configuration object (as parsed from JSON).
 *
 * @param baseDir - directory that relative paths in the object are resolved against
 * @throws CredexError `CONFIG_INVALID` naming the first offending setting
 */
export function parseConfig(raw: unknown, baseDir = process.cwd()): GatewayConfig {
  if (!isObject(raw)) return invalid('configuration must be a JSON object');
  const mspId = str(raw, 'mspId', '');
  if (!MSP_ID.test(mspId)) invalid('mspId must look like an MSP id, e.g. GovMSP');
  const host = str(raw, 'host', '', '127.0.0.1');
  const port = int(raw, 'port', '', 8080, 0, 65535);
  const dataDir = resolve(baseDir, str(raw, 'dataDir', ''));
  const tokens = raw.staffTokens;
  if (!Array.isArray(tokens) || tokens.length === 0 || !tokens.every((t) => typeof t === 'string' && t.length >= 16)) {
    invalid('staffTokens must be a non-empty array of strings of at least 16 characters');
  }
  const publicUrl = str(raw, 'publicUrl', '', `http://${host}:${port}`);
  if (!URL.canParse(publicUrl)) invalid('publicUrl must be an absolute URL');
  const limitsRaw = raw.limits ?? {};
  if (!isObject(limitsRaw)) invalid('limits must be an object');
  const role = raw.role;
  if (role !== undefined && !['government', 'bank', 'core', 'auditor'].includes(role as string)) {
    invalid('role must be one of government, bank, core, auditor');
  }
  return {
    mspId,
    orgName: str(raw, 'orgName', '', mspId),
    ...(role === undefined ? {} : { role: role as GatewayConfig['role'] }),
    host,
    port,
    dataDir,
    staffTokens: tokens as string[],
    publicUrl,
    ledger: ledgerConfig(raw.ledger, baseDir),
    keys: gatewayKeys(raw.keys, dataDir),
    limits: {
      bodyBytes: int(limitsRaw, 'bodyBytes', 'limits.', DEFAULT_LIMITS.bodyBytes, 1024, 1024 * 1024 * 1024),
      ratePerMinute: int(limitsRaw, 'ratePerMinute', 'limits.', DEFAULT_LIMITS.ratePerMinute, 1, 10_000_000),
    },
    selfRegister: raw.selfRegister !== false,
    logLevel: str(raw, 'logLevel', '', 'info'),
  };
}

/**
 * Loads the configuration: the JSON file named by `file` or `CREDEX_GATEWAY_CONFIG`, or the
 * JSON text in `CREDEX_GATEWAY_CONFIG_JSON`; then `CREDEX_GATEWAY_HOST`, `_PORT`, `_DATA_DIR`,
 * `_PUBLIC_URL`, `_STAFF_TOKENS` (comma-separated) and `_LOG_LEVEL` override single settings.
 *
 * @throws CredexError `CONFIG_INVALID`
 */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv } = {}): GatewayConfig {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.CREDEX_GATEWAY_CONFIG;
  let raw: unknown;
  let baseDir = process.cwd();
  try {
    if (file !== undefined && file !== '') {
      const full = resolve(file);
      if (!existsSync(full)) invalid(`no configuration file at ${full}`);
      raw = JSON.parse(readFileSync(full, 'utf8'));
      baseDir = dirname(full);
    } else if (env.CREDEX_GATEWAY_CONFIG_JSON !== undefined) {
      raw = JSON.parse(env.CREDEX_GATEWAY_CONFIG_JSON);
    } else {
      invalid('set CREDEX_GATEWAY_CONFIG (a JSON file) or CREDEX_GATEWAY_CONFIG_JSON');
    }
  } catch (e) {
    if (e instanceof SyntaxError) invalid(`configuration is not valid JSON: ${e.message}`);
    throw e;
  }
  if (!isObject(raw)) return invalid('configuration must be a JSON object');
  const overrides: Json = { ...raw };
  if (env.CREDEX_GATEWAY_HOST !== undefined) overrides.host = env.CREDEX_GATEWAY_HOST;
  if (env.CREDEX_GATEWAY_PORT !== undefined) overrides.port = env.CREDEX_GATEWAY_PORT;
  if (env.CREDEX_GATEWAY_DATA_DIR !== undefined) overrides.dataDir = env.CREDEX_GATEWAY_DATA_DIR;
  if (env.CREDEX_GATEWAY_PUBLIC_URL !== undefined) overrides.publicUrl = env.CREDEX_GATEWAY_PUBLIC_URL;
  if (env.CREDEX_GATEWAY_STAFF_TOKENS !== undefined) overrides.staffTokens = env.CREDEX_GATEWAY_STAFF_TOKENS.split(',');
  if (env.CREDEX_GATEWAY_LOG_LEVEL !== undefined) overrides.logLevel = env.CREDEX_GATEWAY_LOG_LEVEL;
  return parseConfig(overrides, baseDir);
}
