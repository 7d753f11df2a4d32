/**
 * A seal worker (see seal-pool.ts): prepares and seals the chunks of records it is sent, one at a
 * time, and answers each in the packed form of seal-records.ts.
 */
import { parentPort } from 'node:worker_threads';
import type { SealTask } from './seal-pool';
import { sealChunk } from './seal-records';

const port = parentPort;
if (port === null) throw new Error('seal-worker runs in a worker thread');
port.on('message', (task: SealTask) => {
  port.postMessage({ id: task.id, result: sealChunk(task.records, task.offset, task.ctx) });
});
// Loaded (schemas compiled): ready for work.
port.postMessage({ ready: true });
