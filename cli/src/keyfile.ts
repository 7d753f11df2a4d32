/**
 * The enterprise's ed25519 key file: JSON, written once with mode 0600, the secret key never
 * printed. The public key is checked against the secret key on every read.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import nacl from 'tweetnacl';
import { b64u, fromB64u, newSigningKeyPair, normalizeUscc } from '@credex/core';
import type { KeyPairB64u } from '@credex/core';
import { CliError, EXIT, usageError } from './errors';

/** The contents of a key file. */
export interface EnterpriseKey {
  kind: 'credex-enterprise-key';
  algorithm: 'ed25519';
  publicKey: string;
  secretKey: string;
  /** The enterprise's USCC, when known at creation. */
  uscc?: string;
  createdAt: string;
}

/** Writes a new key file (a fresh key pair unless `pair` is given); refuses to overwrite unless `force`. */
export function writeNewKey(file: string, opts: { uscc?: string; force?: boolean; now: number; pair?: KeyPairB64u }): EnterpriseKey {
  const uscc = opts.uscc === undefined ? undefined : normalizeUscc(opts.uscc);
  const pair = opts.pair ?? newSigningKeyPair();
  const key: EnterpriseKey = {
    kind: 'credex-enterprise-key', algorithm: 'ed25519', publicKey: pair.publicKey, secretKey: pair.secretKey,
    ...(uscc === undefined ? {} : { uscc }), createdAt: new Date(opts.now).toISOString(),
  };
  try {
    writeFileSync(file, JSON.stringify(key, null, 2) + '\n', { mode: 0o600, flag: opts.force === true ? 'w' : 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError('KEY_EXISTS', `${file} already exists; pass --force to replace it (the old key is lost)`, EXIT.USAGE);
    throw e;
  }
  return key;
}

/** Reads and checks a key file (KEY_INVALID when it is not one, FILE_NOT_FOUND when absent). */
export function readKey(file: string): EnterpriseKey {
  if (!existsSync(file)) throw usageError('FILE_NOT_FOUND', `no key file at ${file} (create one with: credex key new --out ${file})`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw usageError('KEY_INVALID', `${file} is not a credex key file (not JSON)`);
  }
  const key = raw as Partial<EnterpriseKey>;
  if (typeof key !== 'object' || key.kind !== 'credex-enterprise-key' || typeof key.publicKey !== 'string' || typeof key.secretKey !== 'string') {
    throw usageError('KEY_INVALID', `${file} is not a credex key file`);
  }
  let secret: Uint8Array;
  try {
    secret = fromB64u(key.secretKey);
  } catch {
    throw usageError('KEY_INVALID', `${file}: the secret key is not base64url`);
  }
  if (secret.length !== nacl.sign.secretKeyLength || b64u(nacl.sign.keyPair.fromSecretKey(secret).publicKey) !== key.publicKey) {
    throw usageError('KEY_INVALID', `${file}: the public key does not belong to the secret key`);
  }
  return key as EnterpriseKey;
}

/** The subject USCC of a command: --uscc, else the key file's. */
export function subjectOf(usccOption: string | undefined, key: EnterpriseKey | undefined, command: string): string {
  const raw = usccOption ?? key?.uscc;
  if (raw === undefined) throw usageError('USAGE', `--uscc is required (the key file names no enterprise) (see credex ${command} --help)`);
  return normalizeUscc(raw);
}
