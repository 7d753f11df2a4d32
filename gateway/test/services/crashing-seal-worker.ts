/**
 * A seal worker that dies (exit code 1) on a chunk holding a record with the id `crash`, and is
 * the real seal worker otherwise: for the tests of a worker dying mid-publish.
 */
import { parentPort } from 'node:worker_threads';
import type { SealTask } from '../../src/services/seal-pool';

// Registered before the real worker's listener, so it runs first.
parentPort?.on('message', (task: SealTask) => {
  if (task.records.some((r) => (r as { recordId?: unknown }).recordId === 'crash')) process.exit(1);
});
await import('../../src/services/seal-worker');
