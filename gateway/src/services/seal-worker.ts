/**
 * A seal worker (see seal-pool.ts): prepares and seals the chunks of records it is sent, one at a
 * time, and answers each in the form of seal-records.ts, its encoded bodies' buffer handed over.
 */
import { parentPort } from 'node:worker_threads';
import { fixtureRecords } from '@credex/schemas';
import type { SealTask } from './seal-pool';
import { sealChunk } from './seal-records';

/** Sample records of each type sealed before taking work (about a thousand in all). */
const WARM_UP_PER_TYPE = 150;

/**
 * V8 compiles and optimizes hot code per thread: a fresh worker seals its first thousand or so
 * records two to four times slower. It does so here, on sample records of every type, before
 * it says it is ready (the main thread works alone meanwhile).
 */
function warmUp(): void {
  for (const record of fixtureRecords()) {
    const ctx = { mspId: 'WarmUpMSP', catalogueEntryId: 'warm-up', entry: { entryId: 'warm-up', recordType: record.recordType, subject: record.subject } };
    const result = sealChunk(new Array<unknown>(WARM_UP_PER_TYPE).fill(record), 0, ctx);
    if (result.error !== undefined) throw new Error(`seal worker warm-up: ${result.error.error.text}`);
  }
}

const port = parentPort;
if (port === null) throw new Error('seal-worker runs in a worker thread');
port.on('message', (task: SealTask) => {
  const result = sealChunk(task.records, task.offset, task.ctx);
  port.postMessage({ id: task.id, result }, [result.bodies.buffer as ArrayBuffer, result.ends.buffer as ArrayBuffer]);
});
warmUp();
port.postMessage({ ready: true });
