/**
 * Validation against the credex JSON Schemas: one strict Ajv (draft 2020-12) instance holding
 * every schema, compiled validators cached by name. Failures throw `SCHEMA_INVALID` with the
 * failing path in the message.
 */
import Ajv2020 from 'ajv/dist/2020';
import type { AnySchemaObject, ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { credexError } from '@credex/core';
import { schemaDocuments, schemaId } from './registry';
import type { SchemaName } from './registry';
import type { SchemaTypes } from './types.gen';

/** Annotation keyword on every field of a credit record type: its data grade (数据定级) 1–4. */
export const DATA_GRADE_KEYWORD = 'x-dataGrade';

const ajv = new Ajv2020({
  strict: true,
  allErrors: false,
  discriminator: true,
  // Validation never changes the value it checks.
  useDefaults: false,
  coerceTypes: false,
  removeAdditional: false,
});
// ajv-formats carries its own copy of ajv's types; the runtime plugin is version-agnostic.
(addFormats as unknown as (a: Ajv2020, formats: string[]) => void)(ajv, ['date-time', 'date', 'uri']);
ajv.addKeyword({ keyword: DATA_GRADE_KEYWORD, schemaType: 'number' });
ajv.addKeyword({ keyword: 'x-enumDescriptions', schemaType: 'object' });
for (const doc of Object.values(schemaDocuments)) ajv.addSchema(doc);

const compiled = new Map<SchemaName, ValidateFunction>();

function validatorFor(name: SchemaName): ValidateFunction {
  let fn = compiled.get(name);
  if (fn === undefined) {
    if (!Object.hasOwn(schemaDocuments, name) || (name as string) === 'common') {
      throw credexError('SCHEMA_UNKNOWN', `no schema named ${JSON.stringify(name)}`, { schema: name });
    }
    fn = ajv.getSchema(schemaId(name));
    if (fn === undefined) throw credexError('SCHEMA_UNKNOWN', `schema ${name} is not registered`, { schema: name });
    compiled.set(name, fn);
  }
  return fn;
}

/** JSON-pointer-like path of the value an Ajv error is about, naming the offending property. */
function errorPath(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  let extra: unknown;
  if (e.keyword === 'required') extra = params['missingProperty'];
  else if (e.keyword === 'additionalProperties') extra = params['additionalProperty'];
  else if (e.keyword === 'discriminator') extra = params['tag'];
  const path = typeof extra === 'string' ? `${e.instancePath}/${extra}` : e.instancePath;
  return path === '' ? '/' : path;
}

function errorText(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not allowed here';
    case 'enum':
      return `must be one of ${JSON.stringify(params['allowedValues'])}`;
    case 'discriminator':
      return params['error'] === 'mapping' ? 'is not a known record type' : 'must be a string';
    default:
      return e.message ?? `fails ${e.keyword}`;
  }
}

/** The first validation failure of `name` for `value`, or undefined when the value is valid. */
function firstError(name: SchemaName, value: unknown): ErrorObject | undefined {
  const fn = validatorFor(name);
  if (fn(value)) return undefined;
  const errors = fn.errors ?? [];
  // oneOf/if-then report the branch error first and the summary last; the branch error is the
  // one that names a field.
  return errors.find((e) => e.keyword !== 'oneOf' && e.keyword !== 'if') ?? errors[0];
}

/**
 * Checks `value` against the named schema and returns it typed.
 *
 * @throws CredexError `SCHEMA_INVALID` naming the schema and the failing path
 *   (e.g. `SCHEMA_INVALID: consent: /fieldScope/maxGrade must be one of [1,2,3,4]`);
 *   `SCHEMA_UNKNOWN` for a name that is no schema
 */
export function validate<K extends SchemaName>(name: K, value: unknown): SchemaTypes[K];
// For callers that name the result type themselves: validate<Consent>('consent', v).
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
export function validate<T>(name: SchemaName, value: unknown): T;
export function validate(name: SchemaName, value: unknown): unknown {
  const e = firstError(name, value);
  if (e === undefined) return value;
  const path = errorPath(e);
  throw credexError('SCHEMA_INVALID', `${name}: ${path} ${errorText(e)}`, {
    schema: name,
    path,
    keyword: e.keyword,
    params: e.params,
  });
}

/** Whether `value` is valid against the named schema (never throws for a known name). */
export function isValid<K extends SchemaName>(name: K, value: unknown): value is SchemaTypes[K] {
  return firstError(name, value) === undefined;
}

/** The named schema document (as registered, with `$id` and `$ref`s to common definitions). */
export function schemaFor(name: SchemaName | 'common'): AnySchemaObject {
  if (!Object.hasOwn(schemaDocuments, name)) {
    throw credexError('SCHEMA_UNKNOWN', `no schema named ${JSON.stringify(name)}`, { schema: name });
  }
  return schemaDocuments[name];
}

/**
 * Compiles another schema (e.g. an HTTP route's body schema) with the same strict Ajv, so that it
 * can `$ref` the credex schemas by `$id`, e.g. `https://credex.dev/schemas/consent.schema.json`
 * or `https://credex.dev/schemas/common.schema.json#/$defs/uscc`. Ajv caches by schema object.
 * With Fastify: `app.setValidatorCompiler(({ schema }) => compileSchema(schema))`.
 * No type coercion and no defaults: the value is checked, never changed.
 */
export function compileSchema<T = unknown>(schema: AnySchemaObject): ValidateFunction<T> {
  return ajv.compile<T>(schema);
}

/** Every schema, for registering with another validator (e.g. Fastify's `addSchema`). */
export function allSchemas(): AnySchemaObject[] {
  return Object.values(schemaDocuments);
}
