/** Writes src/types.gen.ts from the JSON Schemas (`npm run gen -w schemas`). */
import { writeFileSync } from 'node:fs';
import { generateTypes, typesFile } from './generate';

writeFileSync(typesFile, await generateTypes());
console.log(`wrote ${typesFile}`);
