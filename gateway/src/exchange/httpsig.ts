/**
 * HTTP Message Signatures (RFC 9421) with ed25519, over `@method`, `@path` and
 * `content-digest` (RFC 9530, sha-256), with the signature parameters created, nonce, keyid
 * and alg. Organizations sign their exchange requests with their registered request key;
 * keyid is the signer's MSP id.
 *
 * Signing and verifying use node:crypto (thousands per second; verifying runs in the thread pool); keys are tweetnacl's forms
 * (64-byte secret, 32-byte public, base64url), so the same keys sign statements with core.
 */
import { createHash, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { b64u, credexError, ed25519PrivateKeyObject, ed25519PublicKeyObject } from '@credex/core';

/** The components every exchange request signature covers, in this order. */
export const COVERED_COMPONENTS = ['@method', '@path', 'content-digest'] as const;
/** The signature label used when signing. */
export const SIGNATURE_LABEL = 'sig1';
/** The only algorithm accepted. */
export const SIGNATURE_ALG = 'ed25519';

/** What a verified request proved: who signed it, with which nonce, when. */
export interface VerifiedSignature {
  keyId: string;
  nonce: string;
  created: number;
}

/** The part of the store that remembers nonces (claim → false when already claimed). */
export interface NonceRegister {
  claim(keyId: string, nonce: string, expiresAt: number): Promise<boolean>;
}

/** Options of {@link verifyRequest}. */
export interface VerifyOptions {
  /** Now, in ms since the epoch. */
  now: number;
  /** Accepted distance of `created` from now, in seconds. */
  skewSeconds: number;
  nonces: NonceRegister;
}

/** A node:crypto private key from a tweetnacl ed25519 secret key (64 bytes: seed ‖ public). */
export const ed25519PrivateKey: (secretKey: string) => KeyObject = ed25519PrivateKeyObject;

function ed25519PublicKey(publicKey: string): KeyObject | undefined {
  try {
    return ed25519PublicKeyObject(publicKey);
  } catch {
    return undefined;
  }
}

/** The Content-Digest field value (RFC 9530) of a body: `sha-256=:<base64>:`. */
export function contentDigest(body: Uint8Array): string {
  return `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
}

function signatureParams(components: readonly string[], p: { created: number; nonce: string; keyId: string; alg: string }): string {
  const list = components.map((c) => `"${c}"`).join(' ');
  return `(${list});created=${p.created};nonce="${p.nonce}";keyid="${p.keyId}";alg="${p.alg}"`;
}

/** The signature base of RFC 9421 §2.5 for the covered components. */
function signatureBase(values: ReadonlyMap<string, string>, components: readonly string[], params: string): string {
  let base = '';
  for (const c of components) base += `"${c}": ${values.get(c) ?? ''}\n`;
  return `${base}"@signature-params": ${params}`;
}

/** The path of a request target (`/a/b?x=1` → `/a/b`); RFC 9421 §2.2.6. */
export function pathOf(url: string): string {
  const path = url.startsWith('http://') || url.startsWith('https://') ? new URL(url).pathname : url.split('?')[0] ?? '';
  return path === '' ? '/' : path;
}

// sf-string content: printable ASCII without `"` and `\` (we never need escapes).
const SF_STRING_SAFE = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * Signs a request: returns the `content-digest`, `signature-input` and `signature` headers.
 *
 * @param req - method, URL (absolute or path) and the exact body bytes that will be sent
 * @param key - keyId (the MSP id) and the ed25519 secret key (base64url, 64 bytes)
 * @param opts - created (seconds since the epoch) and nonce, for tests; fresh by default
 */
export function signRequest(
  req: { method: string; url: string; body: Uint8Array },
  key: { keyId: string; secretKey: string },
  opts: { created?: number; nonce?: string } = {},
): Record<string, string> {
  const created = opts.created ?? Math.floor(Date.now() / 1000);
  const nonce = opts.nonce ?? b64u(randomBytes(16));
  if (!SF_STRING_SAFE.test(key.keyId) || !SF_STRING_SAFE.test(nonce)) {
    throw credexError('SIGNATURE_INVALID', 'keyid and nonce must be printable ASCII without quotes or backslashes');
  }
  const digest = contentDigest(req.body);
  const values = new Map([
    ['@method', req.method.toUpperCase()],
    ['@path', pathOf(req.url)],
    ['content-digest', digest],
  ]);
  const params = signatureParams(COVERED_COMPONENTS, { created, nonce, keyId: key.keyId, alg: SIGNATURE_ALG });
  const signature = sign(null, Buffer.from(signatureBase(values, COVERED_COMPONENTS, params)), ed25519PrivateKey(key.secretKey));
  return {
    'content-digest': digest,
    'signature-input': `${SIGNATURE_LABEL}=${params}`,
    signature: `${SIGNATURE_LABEL}=:${signature.toString('base64')}:`,
  };
}

// ---- RFC 8941 structured fields: the subset signatures and digests use, parsed strictly ----

type BareItem = { type: 'string'; value: string } | { type: 'integer'; value: number } | { type: 'token'; value: string } | { type: 'bytes'; value: Buffer } | { type: 'boolean'; value: boolean };
type Params = Map<string, BareItem>;
type Member = { kind: 'item'; item: BareItem; params: Params } | { kind: 'list'; items: { item: BareItem; params: Params }[]; params: Params };

class FieldParser {
  i = 0;
  constructor(readonly s: string, readonly field: string) {}

  fail(what: string): never {
    throw credexError('SIGNATURE_INVALID', `malformed ${this.field} header: ${what} at position ${this.i}`, { header: this.field });
  }

  peek(): string | undefined {
    return this.s[this.i];
  }

  skipSp(): void {
    while (this.s[this.i] === ' ') this.i++;
  }

  skipOws(): void {
    while (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i++;
  }

  key(): string {
    const m = /^[a-z*][a-z0-9_.*-]*/.exec(this.s.slice(this.i));
    if (m === null) this.fail('expected a key');
    this.i += m[0].length;
    return m[0];
  }

  bareItem(): BareItem {
    const c = this.peek();
    const rest = this.s.slice(this.i);
    if (c === '"') {
      const m = /^"((?:[\x20-\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"/.exec(rest);
      if (m === null) this.fail('bad string');
      this.i += m[0].length;
      return { type: 'string', value: (m[1] ?? '').replace(/\\(["\\])/g, '$1') };
    }
    if (c === ':') {
      const m = /^:([A-Za-z0-9+/]*={0,2}):/.exec(rest);
      if (m === null || (m[1] ?? '').length % 4 !== 0) this.fail('bad byte sequence');
      this.i += m[0].length;
      return { type: 'bytes', value: Buffer.from(m[1] ?? '', 'base64') };
    }
    if (c === '?') {
      const m = /^\?([01])/.exec(rest);
      if (m === null) this.fail('bad boolean');
      this.i += 2;
      return { type: 'boolean', value: m[1] === '1' };
    }
    const int = /^-?\d{1,15}(?![\d.])/.exec(rest);
    if (int !== null) {
      this.i += int[0].length;
      return { type: 'integer', value: Number(int[0]) };
    }
    const token = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/.exec(rest);
    if (token !== null) {
      this.i += token[0].length;
      return { type: 'token', value: token[0] };
    }
    return this.fail('expected an item');
  }

  params(): Params {
    const params: Params = new Map();
    while (this.peek() === ';') {
      this.i++;
      this.skipSp();
      const k = this.key();
      if (params.has(k)) this.fail(`duplicate parameter ${k}`);
      let v: BareItem = { type: 'boolean', value: true };
      if (this.peek() === '=') {
        this.i++;
        v = this.bareItem();
      }
      params.set(k, v);
    }
    return params;
  }

  member(): Member {
    if (this.peek() === '(') {
      this.i++;
      const items: { item: BareItem; params: Params }[] = [];
      for (;;) {
        this.skipSp();
        if (this.peek() === ')') {
          this.i++;
          return { kind: 'list', items, params: this.params() };
        }
        const item = this.bareItem();
        items.push({ item, params: this.params() });
        const next = this.peek();
        if (next !== ' ' && next !== ')') this.fail('expected a space or ) in an inner list');
      }
    }
    const item = this.bareItem();
    return { kind: 'item', item, params: this.params() };
  }

  dictionary(): Map<string, Member> {
    const dict = new Map<string, Member>();
    this.skipSp();
    while (this.i < this.s.length) {
      const k = this.key();
      let m: Member = { kind: 'item', item: { type: 'boolean', value: true }, params: new Map() };
      if (this.peek() === '=') {
        this.i++;
        m = this.member();
      } else {
        m = { ...m, params: this.params() };
      }
      if (dict.has(k)) this.fail(`duplicate key ${k}`);
      dict.set(k, m);
      this.skipOws();
      if (this.i >= this.s.length) break;
      if (this.peek() !== ',') this.fail('expected a comma');
      this.i++;
      this.skipOws();
      if (this.i >= this.s.length) this.fail('trailing comma');
    }
    return dict;
  }
}

function parseDictionary(value: string, field: string): Map<string, Member> {
  return new FieldParser(value, field).dictionary();
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(', ') : v;
}

function onlyMember(dict: Map<string, Member>, field: string): [string, Member] {
  const [first, ...rest] = dict.entries();
  if (first === undefined || rest.length > 0) {
    throw credexError('SIGNATURE_INVALID', `${field} must carry exactly one signature`, { header: field });
  }
  return first;
}

function stringParam(params: Params, name: string): string {
  const v = params.get(name);
  if (v?.type !== 'string' || v.value === '') throw credexError('SIGNATURE_INVALID', `signature parameter ${name} must be a non-empty string`, { parameter: name });
  return v.value;
}

interface ParsedSignature {
  components: string[];
  params: string;
  created: number;
  nonce: string;
  keyId: string;
  signature: Buffer;
}

function parseSignatureHeaders(headers: Record<string, string | string[] | undefined>): ParsedSignature {
  const inputHeader = headerValue(headers, 'signature-input');
  const sigHeader = headerValue(headers, 'signature');
  if (inputHeader === undefined || sigHeader === undefined) {
    throw credexError('SIGNATURE_MISSING', 'the request needs Signature-Input and Signature headers (RFC 9421)');
  }
  const [label, input] = onlyMember(parseDictionary(inputHeader, 'signature-input'), 'signature-input');
  const [sigLabel, sig] = onlyMember(parseDictionary(sigHeader, 'signature'), 'signature');
  if (sigLabel !== label) throw credexError('SIGNATURE_INVALID', `signature label ${sigLabel} does not match signature-input label ${label}`);
  if (input.kind !== 'list') throw credexError('SIGNATURE_INVALID', 'signature-input must be an inner list of components');
  if (sig.kind !== 'item' || sig.item.type !== 'bytes' || sig.params.size > 0) throw credexError('SIGNATURE_INVALID', 'signature must be a byte sequence');
  const components = input.items.map(({ item, params }) => {
    if (item.type !== 'string' || params.size > 0) throw credexError('SIGNATURE_INVALID', 'covered components must be plain strings');
    return item.value;
  });
  const covered = new Set(components);
  if (covered.size !== components.length || COVERED_COMPONENTS.some((c) => !covered.has(c)) || components.length !== COVERED_COMPONENTS.length) {
    throw credexError('SIGNATURE_INVALID', `the signature must cover exactly ${COVERED_COMPONENTS.map((c) => `"${c}"`).join(' ')}`);
  }
  for (const name of input.params.keys()) {
    if (!['created', 'nonce', 'keyid', 'alg'].includes(name)) throw credexError('SIGNATURE_INVALID', `unexpected signature parameter ${name}`);
  }
  const created = input.params.get('created');
  if (created?.type !== 'integer' || created.value < 0) throw credexError('SIGNATURE_INVALID', 'signature parameter created must be an integer');
  const alg = stringParam(input.params, 'alg');
  if (alg !== SIGNATURE_ALG) throw credexError('SIGNATURE_INVALID', `signature alg must be "${SIGNATURE_ALG}", not "${alg}"`);
  const nonce = stringParam(input.params, 'nonce');
  const keyId = stringParam(input.params, 'keyid');
  if (!SF_STRING_SAFE.test(nonce) || !SF_STRING_SAFE.test(keyId)) throw credexError('SIGNATURE_INVALID', 'nonce and keyid must not contain quotes or backslashes');
  if (sig.item.value.length !== 64) throw credexError('SIGNATURE_INVALID', 'an ed25519 signature has 64 bytes');
  // RFC 9421 §2.3: the serialized inner list with its parameters in the order received.
  const params = `(${components.map((c) => `"${c}"`).join(' ')})` + [...input.params].map(([k, v]) => `;${k}=${v.type === 'string' ? `"${v.value}"` : String(v.value)}`).join('');
  return { components, params, created: created.value, nonce, keyId, signature: sig.item.value };
}

function parseContentDigest(headers: Record<string, string | string[] | undefined>): { header: string; sha256: Buffer } {
  const header = headerValue(headers, 'content-digest');
  if (header === undefined) throw credexError('DIGEST_MISMATCH', 'the request needs a Content-Digest header (RFC 9530, sha-256)');
  let dict: Map<string, Member>;
  try {
    dict = parseDictionary(header, 'content-digest');
  } catch (e) {
    throw credexError('DIGEST_MISMATCH', 'the Content-Digest header is malformed', undefined, e);
  }
  const m = dict.get('sha-256');
  if (m?.kind !== 'item' || m.item.type !== 'bytes' || m.item.value.length !== 32) {
    throw credexError('DIGEST_MISMATCH', 'the Content-Digest header needs a sha-256 member of 32 bytes');
  }
  return { header, sha256: m.item.value };
}

/**
 * ed25519 verification in libuv's thread pool (node:crypto's callback form): the event loop
 * goes on parsing, routing and boxing other requests meanwhile, and a second core can verify.
 */
function verifyAsync(data: Buffer, key: KeyObject, signature: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    verify(null, data, key, signature, (err, ok) => {
      resolve(err === null && ok);
    });
  });
}

/**
 * Verifies a signed request, then claims its nonce. Checks, in order: headers well-formed
 * (SIGNATURE_MISSING / SIGNATURE_INVALID), `created` within ±skew (SIGNATURE_EXPIRED), keyid
 * known (KEY_UNKNOWN), the ed25519 signature over the signature base (SIGNATURE_INVALID), the
 * body against Content-Digest (DIGEST_MISMATCH), and last the nonce, only for an otherwise
 * valid request so that nobody can burn another's nonces (NONCE_REPLAYED).
 *
 * @param lookupKey - keyid → the signer's registered ed25519 public key (base64url)
 * @throws CredexError with one of the codes above (all mean HTTP 401)
 */
export async function verifyRequest(
  req: { method: string; path: string; headers: Record<string, string | string[] | undefined>; body: Uint8Array },
  lookupKey: (keyId: string) => Promise<string | undefined>,
  opts: VerifyOptions,
): Promise<VerifiedSignature> {
  const parsed = parseSignatureHeaders(req.headers);
  const nowSeconds = Math.floor(opts.now / 1000);
  if (Math.abs(nowSeconds - parsed.created) > opts.skewSeconds) {
    throw credexError('SIGNATURE_EXPIRED', `signature created at ${parsed.created} is more than ${opts.skewSeconds} s from now (${nowSeconds})`, { created: parsed.created, now: nowSeconds });
  }
  const publicKey = await lookupKey(parsed.keyId);
  const keyObject = publicKey === undefined ? undefined : ed25519PublicKey(publicKey);
  if (keyObject === undefined) throw credexError('KEY_UNKNOWN', `no registered request key for keyid ${parsed.keyId}`, { keyId: parsed.keyId });
  const digest = parseContentDigest(req.headers);
  const values = new Map([
    ['@method', req.method.toUpperCase()],
    ['@path', pathOf(req.path)],
    ['content-digest', digest.header],
  ]);
  const base = signatureBase(values, parsed.components, parsed.params);
  if (!(await verifyAsync(Buffer.from(base), keyObject, parsed.signature))) {
    throw credexError('SIGNATURE_INVALID', `the signature does not verify with the request key of ${parsed.keyId}`, { keyId: parsed.keyId });
  }
  const actual = createHash('sha256').update(req.body).digest();
  if (!actual.equals(digest.sha256)) throw credexError('DIGEST_MISMATCH', 'the body does not match its Content-Digest');
  const expiresAt = (parsed.created + opts.skewSeconds + 1) * 1000;
  if (!(await opts.nonces.claim(parsed.keyId, parsed.nonce, expiresAt))) {
    throw credexError('NONCE_REPLAYED', `nonce ${parsed.nonce} of ${parsed.keyId} was already used`, { keyId: parsed.keyId });
  }
  return { keyId: parsed.keyId, nonce: parsed.nonce, created: parsed.created };
}
