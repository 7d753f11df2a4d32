import { assertUscc, isCredexError } from '@credex/core';
import { validate, type SchemaName, type SchemaTypes } from '@credex/schemas';
import { fail } from './errors';

/** The name of the @credex/schemas schema an argument must match. */
export type ArgumentSchema = SchemaName;

// Properties that hold a USCC in chaincode arguments; a malformed one is USCC_INVALID.
const USCC_PROPERTIES = new Set(['subject', 'uscc']);
const USCC_SHAPE_KEYWORDS = new Set(['pattern', 'minLength', 'maxLength', 'type']);

/**
 * Checks a parsed argument against its schema: SCHEMA_INVALID naming the failing path, or
 * USCC_INVALID when a USCC (the argument's own `subject`/`uscc`, or its signed statement's)
 * has the wrong shape or check character.
 */
export function checkSchema<K extends ArgumentSchema>(name: K, value: unknown): SchemaTypes[K] {
  try {
    const valid = validate(name, value);
    checkUsccs(valid);
    return valid;
  } catch (err) {
    if (isCredexError(err, 'SCHEMA_INVALID')) {
      const path = typeof err.details?.['path'] === 'string' ? err.details['path'] : '';
      const keyword = typeof err.details?.['keyword'] === 'string' ? err.details['keyword'] : '';
      if (USCC_PROPERTIES.has(path.split('/').pop() ?? '') && USCC_SHAPE_KEYWORDS.has(keyword)) {
        fail('USCC_INVALID', err.message.replace(/^SCHEMA_INVALID: /, ''));
      }
    }
    throw err;
  }
}

// The schemas check a USCC's shape; its check character (GB 32100) is checked here.
function checkUsccs(value: unknown): void {
  const statement = isObject(value) ? value['statement'] : undefined;
  for (const holder of [value, statement]) {
    if (!isObject(holder)) continue;
    for (const property of USCC_PROPERTIES) {
      const uscc = holder[property];
      if (typeof uscc === 'string') assertUscc(uscc);
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;

/** A billing period `YYYY-MM`. */
export function checkPeriod(period: string): string {
  if (!PERIOD.test(period)) {
    fail('SCHEMA_INVALID', `period ${JSON.stringify(period.slice(0, 40))} must be YYYY-MM`);
  }
  return period;
}
