/**
 * Generates `src/types.gen.ts` from the JSON Schemas with json-schema-to-typescript.
 *
 * The schemas are prepared first, in memory: `$ref`s are resolved here against the local files
 * (their `$id`s are https URLs that must never be fetched), each named schema gets an ASCII type
 * name, and the Chinese titles and data grades move into the TSDoc comments.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';

type Node = Record<string, unknown>;

export const schemasDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'json');
export const typesFile = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'types.gen.ts');

const SUFFIX = '.schema.json';

/** Type names of the common definitions. */
const COMMON_NAMES: Record<string, string> = {
  uscc: 'Uscc',
  orgId: 'OrgId',
  orgRole: 'OrgRole',
  purposeCode: 'PurposeCode',
  dataGrade: 'DataGrade',
  timestamp: 'Timestamp',
  date: 'IsoDate',
  period: 'Period',
  amountFen: 'AmountFen',
  recordId: 'RecordId',
  id: 'Id',
  sha256: 'Sha256Hex',
  base64url: 'Base64Url',
  ed25519PublicKey: 'Ed25519PublicKey',
  x25519PublicKey: 'X25519PublicKey',
  signature: 'Signature',
  nonce: 'Nonce',
  recordType: 'RecordType',
  enterpriseName: 'EnterpriseName',
  authorityName: 'AuthorityName',
  shortText: 'ShortText',
  documentNumber: 'DocumentNumber',
  text: 'Text',
  salt: 'Salt',
  fieldName: 'FieldName',
};

function pascal(s: string): string {
  return s
    .split(/[.-]/)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}

/** Type name of a whole schema document. */
function documentTypeName(name: string): string {
  if (/^(gov|fin|sc)\./.test(name)) return `${pascal(name)}Fields`;
  return pascal(name);
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Moves title and data grade into the description, drops what would name a type by accident. */
function prepare(node: Node): Node {
  const out: Node = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$schema' || k === '$id' || k === 'title' || k === 'x-enumDescriptions') continue;
    if (Array.isArray(v)) out[k] = (v as unknown[]).map((x) => (isNode(x) ? prepare(x) : x));
    else if (isNode(v) && k !== 'const') out[k] = k === 'properties' || k === '$defs' ? prepareMap(v) : prepare(v);
    else out[k] = v;
  }
  const parts = [node['title'], node['description']].filter((x): x is string => typeof x === 'string');
  const grade = node['x-dataGrade'];
  if (typeof grade === 'number') parts.push(`数据定级 data grade ${grade}.`);
  if (parts.length > 0) out['description'] = parts.join(' — ');
  return out;
}

function prepareMap(map: Node): Node {
  const out: Node = {};
  for (const [k, v] of Object.entries(map)) out[k] = isNode(v) ? prepare(v) : v;
  return out;
}

function pointerGet(doc: Node, pointer: string): Node {
  let cur: unknown = doc;
  for (const seg of pointer.split('/').filter((s) => s !== '')) {
    cur = isNode(cur) ? cur[decodeURIComponent(seg).replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  }
  if (!isNode(cur)) throw new Error(`unresolvable pointer ${pointer}`);
  return cur;
}

/** Replaces every `$ref` in place by the (shared) prepared target, so each type is declared once. */
function resolveRefs(node: unknown, docName: string, docs: Map<string, Node>): unknown {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) node[i] = resolveRefs(node[i], docName, docs);
    return node;
  }
  if (!isNode(node)) return node;
  const ref = node['$ref'];
  if (typeof ref === 'string') {
    const [file, pointer = ''] = ref.split('#');
    const targetName = file === undefined || file === '' ? docName : file.slice(0, -SUFFIX.length);
    const targetDoc = docs.get(targetName);
    if (targetDoc === undefined) throw new Error(`unknown $ref ${ref} in ${docName}`);
    const target = pointerGet(targetDoc, pointer);
    const rest = { ...node };
    delete rest['$ref'];
    delete rest['type'];
    // A described reference stays a reference to the named type, with its own comment.
    return Object.keys(rest).length === 0 ? target : { ...rest, allOf: [target] };
  }
  for (const [k, v] of Object.entries(node)) {
    if (k !== 'const' && k !== 'enum') node[k] = resolveRefs(v, docName, docs);
  }
  return node;
}

/** Names of the schema documents (file names without `.schema.json`), sorted. */
export function schemaNames(): string[] {
  return readdirSync(schemasDir)
    .filter((f) => f.endsWith(SUFFIX))
    .map((f) => f.slice(0, -SUFFIX.length))
    .sort();
}

/** The generated TypeScript source of `src/types.gen.ts`. */
export async function generateTypes(): Promise<string> {
  const docs = new Map<string, Node>();
  for (const name of schemaNames()) {
    const raw = JSON.parse(readFileSync(join(schemasDir, name + SUFFIX), 'utf8')) as Node;
    const doc = prepare(raw);
    if (name !== 'common') doc['title'] = documentTypeName(name);
    // The discriminator's own property only serves Ajv; the union already types it.
    if (doc['discriminator'] !== undefined) delete doc['properties'];
    docs.set(name, doc);
  }
  const commonDefs = docs.get('common')?.['$defs'];
  if (!isNode(commonDefs)) throw new Error('common.schema.json has no $defs');
  for (const [key, def] of Object.entries(commonDefs)) {
    const typeName = COMMON_NAMES[key];
    if (typeName === undefined) throw new Error(`no type name for common $defs/${key}: add it to COMMON_NAMES`);
    (def as Node)['title'] = typeName;
  }
  const disclosedDefs = docs.get('disclosed-record')?.['$defs'];
  if (isNode(disclosedDefs)) (disclosedDefs['disclosedField'] as Node)['title'] = 'DisclosedField';
  const recordDefs = docs.get('credit-record')?.['$defs'];
  if (isNode(recordDefs)) {
    for (const [key, def] of Object.entries(recordDefs)) (def as Node)['title'] = `${pascal(key)}Record`;
  }
  for (const [name, doc] of docs) resolveRefs(doc, name, docs);

  const names = [...docs.keys()].filter((n) => n !== 'common');
  const root: Node = {
    title: 'SchemaTypes',
    description: 'The type of a valid value of each credex schema, by schema name.',
    type: 'object',
    additionalProperties: false,
    required: names,
    properties: Object.fromEntries(names.map((n) => [n, docs.get(n)])),
  };
  return compile(root, 'SchemaTypes', {
    bannerComment:
      '/* Generated by schemas/scripts/gen-types.ts from schemas/json/*.schema.json — do not edit.\n' +
      ' * Run `npm run gen -w schemas` after changing a schema. */',
    additionalProperties: false,
    declareExternallyReferenced: true,
    enableConstEnums: false,
    ignoreMinAndMaxItems: true,
    strictIndexSignatures: true,
    unknownAny: true,
    format: true,
    style: { singleQuote: true, printWidth: 120 },
    $refOptions: { resolve: { http: false, file: false } },
  });
}
