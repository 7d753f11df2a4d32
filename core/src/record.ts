/**
 * Credit records sealed for selective disclosure.
 *
 * Each field gets its own salt and digest; the record's leaf hash covers the header and the
 * field digests (not the values), so a record with some fields withheld — sent as digests —
 * still hashes to the leaf anchored on the ledger.
 */
import { credexError } from './errors';
import { sha256HexOf } from './digest';
import { fieldDigest, fieldDigestOfBase64urlSalt, newSalt } from './hash';
import { canonicalize, flatStringObjectText } from './jcs';

/** What identifies a record and ties it to its catalogue entry; hashed into the leaf in full. */
export interface RecordHeader {
  recordId: string;
  recordType: string;
  /** USCC of the enterprise the record is about. */
  subject: string;
  /** MSP id of the publishing organization. */
  publisher: string;
  catalogueEntryId: string;
  /** RFC 3339 UTC. */
  issuedAt: string;
  /** recordId of the record this one corrects. */
  supersedes?: string;
}

/** A record with every field's value, salt and digest, and its leaf hash; the publisher keeps this. */
export interface SealedRecord {
  header: RecordHeader;
  fields: Record<string, unknown>;
  salts: Record<string, string>;
  fieldDigests: Record<string, string>;
  leafHash: string;
}

/** One field of a disclosed record: its value and salt, or only its digest when withheld. */
export type DisclosedField = { value: unknown; salt: string } | { digest: string };

/** A record as sent to a data user: disclosed fields in clear, the others as digests. */
export interface DisclosedRecord {
  header: RecordHeader;
  fields: Record<string, DisclosedField>;
}

const SALT_PATTERN = /^[A-Za-z0-9_-]{22,}$/;
const DIGEST_PATTERN = /^[0-9a-f]{64}$/;

/**
 * Seals a record: salts (fresh ones where `salts` lacks a field), field digests and leaf hash.
 *
 * @param salts - salts to reuse, base64url of at least 128 bits, only for fields of `fields`
 * @throws CredexError `SALT_INVALID` for a salt that is too short, malformed or for no field;
 *   `JCS_INVALID` for a value or header with no JSON form
 */
export function sealRecord(
  header: RecordHeader,
  fields: Record<string, unknown>,
  salts?: Record<string, string>,
): SealedRecord {
  const usedSalts: Record<string, string> = {};
  const fieldDigests: Record<string, string> = {};
  if (salts !== undefined) {
    for (const name of Object.keys(salts)) {
      if (!Object.hasOwn(fields, name)) throw credexError('SALT_INVALID', `salt given for unknown field '${name}'`, { field: name });
    }
  }
  for (const name of Object.keys(fields)) {
    const given = salts?.[name];
    if (given !== undefined && !SALT_PATTERN.test(given)) {
      throw credexError('SALT_INVALID', `salt of field '${name}' must be base64url of at least 128 bits`, { field: name });
    }
    const salt = given ?? newSalt();
    usedSalts[name] = salt;
    // A salt that passed the pattern as a string needs no escaping; anything else is digested as before.
    fieldDigests[name] = typeof salt === 'string' ? fieldDigestOfBase64urlSalt(name, fields[name], salt) : fieldDigest(name, fields[name], salt);
  }
  return { header, fields, salts: usedSalts, fieldDigests, leafHash: leafHashOf(header, fieldDigests, true) };
}

/**
 * The leaf hash of a record: `sha256Hex(0x00 ‖ canonicalBytes({header, fieldDigests}))`; the
 * 0x00 is RFC 6962's leaf prefix, so a leaf can never pass for an inner node.
 */
export function leafHash(header: RecordHeader, fieldDigests: Record<string, string>): string {
  return leafHashOf(header, fieldDigests, false);
}

/** {@link leafHash}; `digestsAreHex` when every digest is known to be 64 lowercase hex. */
function leafHashOf(header: RecordHeader, fieldDigests: Record<string, string>, digestsAreHex: boolean): string {
  // The usual header and digests are flat objects of strings, written without the general
  // serializer; anything else takes canonicalize, which writes the same text or throws.
  const digestsText = flatStringObjectText(fieldDigests, digestsAreHex);
  const headerText = flatStringObjectText(header, false);
  const text =
    digestsText !== undefined && headerText !== undefined
      ? `{"fieldDigests":${digestsText},"header":${headerText}}`
      : canonicalize({ header, fieldDigests });
  // U+0000 is the single UTF-8 byte 0x00, so the prefix can ride in the string.
  return sha256HexOf(`\u0000${text}`);
}

/**
 * The disclosed form of a sealed record: the named fields with value and salt, every other
 * field as its digest. Names the record does not have are ignored.
 */
export function disclose(sealed: SealedRecord, disclosedFieldNames: Iterable<string>): DisclosedRecord {
  const disclosed = new Set(disclosedFieldNames);
  const fields: Record<string, DisclosedField> = {};
  for (const name of Object.keys(sealed.fieldDigests)) {
    const salt = sealed.salts[name];
    if (disclosed.has(name) && salt !== undefined) {
      fields[name] = { value: sealed.fields[name], salt };
    } else {
      fields[name] = { digest: sealed.fieldDigests[name] ?? '' };
    }
  }
  return { header: sealed.header, fields };
}

/**
 * Recomputes the leaf hash of a disclosed record from its disclosed values and withheld
 * digests; a verifier compares it with the anchored leaf (and its Merkle proof).
 *
 * @throws CredexError `DISCLOSURE_INVALID` when a field is neither `{value, salt}` nor a
 *   64-hex `{digest}`
 */
export function leafHashOfDisclosed(d: DisclosedRecord): string {
  const fieldDigests: Record<string, string> = {};
  for (const [name, field] of Object.entries(d.fields)) {
    fieldDigests[name] = digestOfDisclosed(name, field);
  }
  // Every digest is a recomputed one or a withheld one checked against the 64-hex pattern.
  return leafHashOf(d.header, fieldDigests, true);
}

function digestOfDisclosed(name: string, field: DisclosedField): string {
  const f = field as Partial<{ value: unknown; salt: unknown; digest: unknown }>;
  if ('digest' in f && !('salt' in f) && !('value' in f)) {
    if (typeof f.digest === 'string' && DIGEST_PATTERN.test(f.digest)) return f.digest;
    throw credexError('DISCLOSURE_INVALID', `digest of withheld field '${name}' must be 64 lowercase hex`, { field: name });
  }
  if ('value' in f && typeof f.salt === 'string' && !('digest' in f)) return fieldDigest(name, f.value, f.salt);
  throw credexError('DISCLOSURE_INVALID', `field '${name}' must be {value, salt} or {digest}`, { field: name });
}
