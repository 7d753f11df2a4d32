#!/usr/bin/env node
// The credex CLI is TypeScript run by tsx (the repository's runner); register it, then run.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
await main();
