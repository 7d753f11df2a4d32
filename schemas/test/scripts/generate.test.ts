import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateTypes, schemaNames, typesFile } from '../../scripts/generate';
import { schemaDocuments } from '../../src/registry';

describe('generated types', () => {
  it('src/types.gen.ts is what the schemas generate now (run `npm run gen -w schemas` if not)', async () => {
    const generated = await generateTypes();
    expect(generated).toContain('export interface SchemaTypes');
    expect(readFileSync(typesFile, 'utf8')).toBe(generated);
  });

  it('every schema file is registered for validation, and nothing else', () => {
    expect(Object.keys(schemaDocuments).sort()).toEqual(schemaNames());
  });
});
