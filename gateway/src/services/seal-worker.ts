/**
 * A seal worker (see seal-pool.ts): prepares and seals the chunks of records it is sent, one at a
 * time, and answers each in the packed form of seal-records.ts.
 */
import { parentPort } from 'node:worker_threads';
import { validate } from '@credex/schemas';
import type { SealTask } from './seal-pool';
import { sealChunk } from './seal-records';

const port = parentPort;
if (port === null) throw new Error('seal-worker runs in a worker thread');
port.on('message', (task: SealTask) => {
  port.postMessage({ id: task.id, result: sealChunk(task.records, task.offset, task.ctx) });
});
// The record validator compiles on first use: here, before the worker says it is ready, so the
// first chunk does not wait for it (and the main thread works alone meanwhile).
try {
  validate('credit-record', null);
} catch {
  // null is no record; only the compiling mattered.
}
port.postMessage({ ready: true });
