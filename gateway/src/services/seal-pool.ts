/**
 * A small pool of worker threads (one per core the process may use, started when first needed)
 * that do the per-record work of large publishes: validate, content hash and seal a chunk of
 * records (seal-records.ts). A worker that dies fails the chunks it held (the publish fails,
 * nothing is stored) and is replaced by the next chunk that needs one.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ChunkResult, SealContext } from './seal-records';

/** One chunk sent to a worker. */
export interface SealTask {
  id: number;
  records: readonly unknown[];
  /** Index of the chunk's first record in the publish. */
  offset: number;
  ctx: SealContext;
}

/** The pool. */
export interface SealPool {
  /** Prepares and seals a chunk in a worker. Rejects (a plain Error) if the worker dies or the pool is closed. */
  run(records: readonly unknown[], offset: number, ctx: SealContext): Promise<ChunkResult>;
  /**
   * Starts the workers if they are not running; whether one is ready for work now (a worker
   * takes about a second to start: until then a caller does its work itself).
   */
  warm(): boolean;
  /** Starts the workers if they are not running and waits until they are all ready. */
  start(): Promise<void>;
  /** Its size: how many workers run at most. */
  readonly size: number;
  /** How many workers are running now. */
  readonly threads: number;
  /** How many chunks the workers have answered since the pool was made. */
  readonly chunksDone: number;
  /** Stops every worker; chunks under way are failed. */
  close(): Promise<void>;
}

/** Options of a pool. */
export interface SealPoolOptions {
  /** Workers at most (default: `os.availableParallelism()`). */
  size?: number;
  /** The worker's module (default: seal-worker next to this file; tests pass their own). */
  workerUrl?: URL;
}

interface Pending {
  resolve: (r: ChunkResult) => void;
  reject: (e: Error) => void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Settles when the worker has loaded (or has failed before). */
  ready: Promise<void>;
  isReady: boolean;
  settleReady: (e?: Error) => void;
}

const ownUrl = import.meta.url;
const defaultWorkerUrl = new URL(ownUrl.endsWith('.ts') ? './seal-worker.ts' : './seal-worker.js', ownUrl);

/**
 * A worker running from TypeScript sources (the gateway runs under tsx) registers tsx itself
 * before loading its module (Node 20 does not pass `--import` loaders on to workers); tsx is
 * found from here, not from the cwd.
 */
function spawn(url: URL): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url);
  // tsx's ESM API (its `import` export; `require.resolve` would give the CommonJS one).
  const tsx = pathToFileURL(join(dirname(createRequire(ownUrl).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { eval: true });
}

/** Creates a pool; no worker starts before the first chunk (or `warm`/`start`). */
export function createSealPool(opts: SealPoolOptions = {}): SealPool {
  const size = Math.max(1, opts.size ?? availableParallelism());
  const workerUrl = opts.workerUrl ?? defaultWorkerUrl;
  const threads: Thread[] = [];
  let nextId = 0;
  let chunksDone = 0;
  let closed = false;

  /** Takes chunk `id` off a worker; an idle worker no longer keeps the process alive. */
  function release(thread: Thread, id: number): Pending | undefined {
    const p = thread.pending.get(id);
    thread.pending.delete(id);
    if (thread.pending.size === 0) thread.worker.unref();
    return p;
  }

  /** Takes a worker out of the pool and fails what it held. */
  function fail(thread: Thread, error: Error): void {
    const i = threads.indexOf(thread);
    if (i >= 0) threads.splice(i, 1);
    thread.settleReady(error);
    for (const p of thread.pending.values()) p.reject(error);
    thread.pending.clear();
  }

  function start(): Thread {
    const worker = spawn(workerUrl);
    let settleReady: (e?: Error) => void = () => undefined;
    const ready = new Promise<void>((resolve, reject) => {
      settleReady = (e) => {
        if (e === undefined) resolve();
        else reject(e);
      };
    });
    ready.catch(() => undefined);
    const thread: Thread = { worker, pending: new Map(), ready, isReady: false, settleReady };
    worker.unref();
    worker.on('message', (msg: { id: number; result: ChunkResult } | { ready: true }) => {
      if ('ready' in msg) {
        thread.isReady = true;
        settleReady();
        return;
      }
      const pending = release(thread, msg.id);
      if (pending === undefined) return;
      chunksDone++;
      pending.resolve(msg.result);
    });
    worker.on('error', (e: Error) => {
      fail(thread, new Error(`a seal worker failed: ${e.message}`, { cause: e }));
      void worker.terminate();
    });
    worker.on('exit', (code) => {
      fail(thread, new Error(`a seal worker stopped (exit code ${code})`));
    });
    threads.push(thread);
    return thread;
  }

  function warm(): boolean {
    if (closed) return false;
    while (threads.length < size) start();
    return threads.some((t) => t.isReady);
  }

  async function startAll(): Promise<void> {
    if (closed) throw new Error('the seal pool is closed');
    warm();
    await Promise.all(threads.map((t) => t.ready));
  }

  /** The least busy worker (ready ones first), or a new one while the pool is not full. */
  function pick(): Thread {
    let best: Thread | undefined;
    for (const t of threads) {
      if (best === undefined || (t.isReady && !best.isReady) || (t.isReady === best.isReady && t.pending.size < best.pending.size)) best = t;
    }
    if (best !== undefined && (best.pending.size === 0 || threads.length >= size)) return best;
    return start();
  }

  function run(records: readonly unknown[], offset: number, ctx: SealContext): Promise<ChunkResult> {
    if (closed) return Promise.reject(new Error('the seal pool is closed'));
    const thread = pick();
    const id = nextId++;
    return new Promise<ChunkResult>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      // Kept alive while it holds work: a publish under way is not cut short by the process exiting.
      thread.worker.ref();
      const task: SealTask = { id, records, offset, ctx };
      const post = (): void => {
        try {
          thread.worker.postMessage(task);
        } catch (e) {
          release(thread, id);
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      };
      // A worker takes work once loaded (a worker that fails to load fails its pending chunks).
      if (thread.isReady) post();
      else thread.ready.then(post, () => undefined);
    });
  }

  async function close(): Promise<void> {
    closed = true;
    const all = threads.splice(0);
    for (const t of all) fail(t, new Error('the seal pool is closed'));
    await Promise.all(all.map((t) => t.worker.terminate()));
  }

  return {
    run,
    warm,
    start: startAll,
    size,
    get threads() {
      return threads.length;
    },
    get chunksDone() {
      return chunksDone;
    },
    close,
  };
}
