import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey, sign } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import nacl from 'tweetnacl';
import { b64u, fromB64u, newSigningKeyPair } from '@credex/core';
import { contentDigest, signRequest, verifyRequest, type NonceRegister } from '../../src/exchange/httpsig';
import { openStore, type Store } from '../../src/store/store';
import { codeOf } from '../helpers';

const bank = newSigningKeyPair();
const other = newSigningKeyPair();
const keys = new Map([['BankMSP', bank.publicKey]]);
const lookup = (keyId: string): Promise<string | undefined> => Promise.resolve(keys.get(keyId));
const body = new TextEncoder().encode('{"consentId":"abc","n":1}');
const NOW = 1_790_000_000_000;
const created = NOW / 1000;
const url = 'http://127.0.0.1:7400/v1/exchange/fetch';

function memoryNonces(): NonceRegister {
  const seen = new Set<string>();
  return {
    claim: (keyId, nonce) => {
      const k = `${keyId}\u0000${nonce}`;
      if (seen.has(k)) return Promise.resolve(false);
      seen.add(k);
      return Promise.resolve(true);
    },
  };
}

function signed(opts: { created?: number; nonce?: string; keyId?: string; secretKey?: string } = {}): Record<string, string> {
  return signRequest({ method: 'POST', url, body }, { keyId: opts.keyId ?? 'BankMSP', secretKey: opts.secretKey ?? bank.secretKey }, { created: opts.created ?? created, nonce: opts.nonce ?? b64u(nacl.randomBytes(16)) });
}

function check(headers: Record<string, string | string[] | undefined>, nonces: NonceRegister, over: { body?: Uint8Array; path?: string; method?: string; now?: number } = {}): Promise<unknown> {
  return verifyRequest(
    { method: over.method ?? 'POST', path: over.path ?? '/v1/exchange/fetch', headers, body: over.body ?? body },
    lookup,
    { now: over.now ?? NOW, skewSeconds: 300, nonces },
  );
}

describe('signRequest', () => {
  it('builds the RFC 9421 headers and an ed25519 signature over the exact signature base', () => {
    const h = signRequest({ method: 'post', url, body }, { keyId: 'BankMSP', secretKey: bank.secretKey }, { created: 1618884473, nonce: 'bm9uY2Uxbm9uY2Uy' });
    expect(h['content-digest']).toBe(contentDigest(body));
    expect(h['content-digest']).toMatch(/^sha-256=:[A-Za-z0-9+/]{43}=:$/);
    expect(h['signature-input']).toBe('sig1=("@method" "@path" "content-digest");created=1618884473;nonce="bm9uY2Uxbm9uY2Uy";keyid="BankMSP";alg="ed25519"');
    const base = [
      '"@method": POST',
      '"@path": /v1/exchange/fetch',
      `"content-digest": ${h['content-digest']}`,
      '"@signature-params": ("@method" "@path" "content-digest");created=1618884473;nonce="bm9uY2Uxbm9uY2Uy";keyid="BankMSP";alg="ed25519"',
    ].join('\n');
    const sig = /^sig1=:(.+):$/.exec(h.signature ?? '')?.[1] ?? '';
    // tweetnacl verifies what node:crypto signed: the same ed25519.
    expect(nacl.sign.detached.verify(new TextEncoder().encode(base), Buffer.from(sig, 'base64'), fromB64u(bank.publicKey))).toBe(true);
  });

  it('matches the RFC 9530 example digest of {"hello": "world"}', () => {
    expect(contentDigest(new TextEncoder().encode('{"hello": "world"}'))).toBe('sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:');
  });
});

describe('verifyRequest', () => {
  it('accepts a fresh signed request and reports its signer, nonce and created', async () => {
    const h = signed({ nonce: 'bm9uY2UtMDAwMDAwMDE' });
    await expect(check(h, memoryNonces())).resolves.toEqual({ keyId: 'BankMSP', nonce: 'bm9uY2UtMDAwMDAwMDE', created });
  });

  it('accepts parameters in another order, another label, and a Content-Digest with several members', async () => {
    const digest = `sha-512=:${Buffer.alloc(64).toString('base64')}:,  ${contentDigest(body)}`;
    const params = `("@method" "@path" "content-digest");keyid="BankMSP";alg="ed25519";created=${created};nonce="abcdefghijklmnop"`;
    const base = `"@method": POST\n"@path": /v1/exchange/fetch\n"content-digest": ${digest}\n"@signature-params": ${params}`;
    const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), fromB64u(bank.secretKey).subarray(0, 32)]), format: 'der', type: 'pkcs8' });
    const sig = sign(null, Buffer.from(base), key).toString('base64');
    const h = { 'content-digest': digest, 'signature-input': `mine=${params}`, signature: `mine=:${sig}:` };
    await expect(check(h, memoryNonces())).resolves.toMatchObject({ keyId: 'BankMSP' });
  });

  it('refuses a replayed nonce (NONCE_REPLAYED)', async () => {
    const nonces = memoryNonces();
    const h = signed();
    expect(await codeOf(check(h, nonces))).toBe('OK');
    expect(await codeOf(check(h, nonces))).toBe('NONCE_REPLAYED');
  });

  it('refuses `created` more than 300 s away, either way (SIGNATURE_EXPIRED)', async () => {
    expect(await codeOf(check(signed({ created: created - 301 }), memoryNonces()))).toBe('SIGNATURE_EXPIRED');
    expect(await codeOf(check(signed({ created: created + 301 }), memoryNonces()))).toBe('SIGNATURE_EXPIRED');
    expect(await codeOf(check(signed({ created: created - 300 }), memoryNonces()))).toBe('OK');
  });

  it('refuses a signature by another key than the registered one (SIGNATURE_INVALID)', async () => {
    expect(await codeOf(check(signed({ secretKey: other.secretKey }), memoryNonces()))).toBe('SIGNATURE_INVALID');
  });

  it('refuses an unknown keyid (KEY_UNKNOWN)', async () => {
    expect(await codeOf(check(signed({ keyId: 'EvilMSP', secretKey: other.secretKey }), memoryNonces()))).toBe('KEY_UNKNOWN');
  });

  it('refuses a tampered body (DIGEST_MISMATCH), a tampered digest, method or path (SIGNATURE_INVALID)', async () => {
    const tampered = new TextEncoder().encode('{"consentId":"abd","n":1}');
    expect(await codeOf(check(signed(), memoryNonces(), { body: tampered }))).toBe('DIGEST_MISMATCH');
    const h = signed();
    expect(await codeOf(check({ ...h, 'content-digest': contentDigest(tampered) }, memoryNonces(), { body: tampered }))).toBe('SIGNATURE_INVALID');
    expect(await codeOf(check(signed(), memoryNonces(), { path: '/v1/exchange/records' }))).toBe('SIGNATURE_INVALID');
    expect(await codeOf(check(signed(), memoryNonces(), { method: 'PUT' }))).toBe('SIGNATURE_INVALID');
  });

  it('does not claim the nonce of a request that fails', async () => {
    const nonces = memoryNonces();
    const h = signed();
    expect(await codeOf(check(h, nonces, { body: new Uint8Array([1]) }))).toBe('DIGEST_MISMATCH');
    expect(await codeOf(check(h, nonces))).toBe('OK');
  });

  it('refuses missing and malformed headers with stable codes', async () => {
    const h = signed();
    const n = memoryNonces();
    const cases: [Record<string, string | undefined>, string][] = [
      [{ ...h, signature: undefined }, 'SIGNATURE_MISSING'],
      [{ ...h, 'signature-input': undefined }, 'SIGNATURE_MISSING'],
      [{ ...h, 'content-digest': undefined }, 'DIGEST_MISMATCH'],
      [{ ...h, 'content-digest': 'sha-256=:abc' }, 'DIGEST_MISMATCH'],
      [{ ...h, 'content-digest': 'md5=:AAAAAAAAAAAAAAAAAAAAAA==:' }, 'DIGEST_MISMATCH'],
      [{ ...h, 'signature-input': 'sig1=("@method" "@path");created=1;nonce="a";keyid="BankMSP";alg="ed25519"' }, 'SIGNATURE_INVALID'],
      [{ ...h, 'signature-input': (h['signature-input'] ?? '').replace('alg="ed25519"', 'alg="rsa-pss-sha512"') }, 'SIGNATURE_INVALID'],
      [{ ...h, 'signature-input': (h['signature-input'] ?? '').replace(';alg="ed25519"', '') }, 'SIGNATURE_INVALID'],
      [{ ...h, 'signature-input': (h['signature-input'] ?? '').replace(/;nonce="[^"]*"/, '') }, 'SIGNATURE_INVALID'],
      [{ ...h, 'signature-input': (h['signature-input'] ?? '').replace(/created=\d+/, 'created="1"') }, 'SIGNATURE_INVALID'],
      [{ ...h, 'signature-input': (h['signature-input'] ?? '') + ';tag="x"' }, 'SIGNATURE_INVALID'],
      [{ ...h, 'signature-input': (h['signature-input'] ?? '').replace('"@path"', '"@path";req') }, 'SIGNATURE_INVALID'],
      [{ ...h, 'signature-input': (h['signature-input'] ?? '').replace('"@path"', '"@path" "@path"') }, 'SIGNATURE_INVALID'],
      [{ ...h, 'signature-input': (h['signature-input'] ?? '').replace('sig1=', 'sig2=') }, 'SIGNATURE_INVALID'],
      [{ ...h, 'signature-input': `${h['signature-input'] ?? ''}, sig2=("@method")` }, 'SIGNATURE_INVALID'],
      [{ ...h, 'signature-input': (h['signature-input'] ?? '') + ',' }, 'SIGNATURE_INVALID'],
      [{ ...h, 'signature-input': 'sig1=garbage' }, 'SIGNATURE_INVALID'],
      [{ ...h, 'signature-input': 'SIG1=("@method" "@path" "content-digest")' }, 'SIGNATURE_INVALID'],
      [{ ...h, signature: 'sig1=:AAAA:' }, 'SIGNATURE_INVALID'],
      [{ ...h, signature: 'sig1="not bytes"' }, 'SIGNATURE_INVALID'],
      [{ ...h, signature: (h.signature ?? '').slice(0, -1) }, 'SIGNATURE_INVALID'],
    ];
    for (const [headers, code] of cases) {
      expect([headers, await codeOf(check(headers, n))]).toEqual([headers, code]);
    }
  });
});

describe('nonces in the store', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credex-httpsig-'));
    store = await openStore(dir);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a restart does not reopen a replay', async () => {
    const now = Date.now();
    const h = signed({ created: Math.floor(now / 1000) });
    expect(await codeOf(check(h, store.nonces, { now }))).toBe('OK');
    await store.close();
    store = await openStore(dir);
    expect(await codeOf(check(h, store.nonces, { now }))).toBe('NONCE_REPLAYED');
  });

  it('of two concurrent uses of one nonce, exactly one passes', async () => {
    const now = Date.now();
    const h = signed({ created: Math.floor(now / 1000) });
    const codes = await Promise.all([codeOf(check(h, store.nonces, { now })), codeOf(check(h, store.nonces, { now }))]);
    expect(codes.sort()).toEqual(['NONCE_REPLAYED', 'OK']);
  });
});
