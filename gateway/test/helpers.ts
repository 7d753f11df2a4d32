/**
 * Test helpers: a fake LedgerClient (the layer under the gateway's units: it keeps chaincode
 * state in memory and answers the transactions the gateway uses, with the chaincode's error
 * codes), a config and a built app over a real LevelDB store in a temp dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { credexError, newBoxKeyPair, newSigningKeyPair, verifyInclusion } from '@credex/core';
import type { CatalogueEntry } from '@credex/schemas';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app';
import type { GatewayConfig } from '../src/config';
import type { LedgerClient, LedgerEvent } from '../src/ledger/client';
import { LedgerError } from '../src/ledger/errors';
import type { AnchorRequest, RecordRef, Store } from '../src/store/store';
import { openStore } from '../src/store/store';

export const STAFF_TOKEN = 'staff-token-0123456789abcdef';

interface Call { contract: string; tx: string; args: string[] }

/** In-memory stand-in for the chaincode, as seen through the gateway's LedgerClient. */
export class FakeLedger implements LedgerClient {
  readonly calls: Call[] = [];
  readonly entries = new Map<string, CatalogueEntry>();
  readonly batches = new Map<string, Record<string, unknown>>();
  /** Record status keys, by `batchId \0 recordId`, written lazily as the chaincode does. */
  readonly records = new Map<string, Record<string, unknown>>();
  readonly orgs = new Map<string, Record<string, unknown>>();
  /** Failures to raise on the next submits of a transaction: thrown before (lost) or after committing. */
  readonly failures: { tx: string; error: LedgerError; afterCommit?: boolean }[] = [];
  height = 1;
  #tx = 0;

  constructor(readonly mspId: string) {}

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- LedgerClient's signature
  submit<T>(contract: string, tx: string, ...args: string[]): Promise<{ result: T; txId: string; blockNumber: number }> {
    this.calls.push({ contract, tx, args });
    const txId = `tx${++this.#tx}`;
    const i = this.failures.findIndex((f) => f.tx === tx);
    const failure = i >= 0 ? this.failures.splice(i, 1)[0] : undefined;
    if (failure !== undefined && failure.afterCommit !== true) return Promise.reject(failure.error);
    let result: unknown;
    try {
      result = this.#execute(contract, tx, args, txId);
    } catch (e) {
      return Promise.reject(new LedgerError((e as { code: string }).code, (e as Error).message, { txId }));
    }
    const blockNumber = this.height++;
    if (failure !== undefined) return Promise.reject(failure.error);
    return Promise.resolve({ result: result as T, txId, blockNumber });
  }

   
  evaluate<T>(contract: string, tx: string, ...args: string[]): Promise<T> {
    this.calls.push({ contract, tx, args });
    try {
      return Promise.resolve(this.#query(contract, tx, args) as T);
    } catch (e) {
      return Promise.reject(new LedgerError((e as { code: string }).code, (e as Error).message));
    }
  }

  submitted(tx: string): Call[] {
    return this.calls.filter((c) => c.tx === tx);
  }

  async *chaincodeEvents(): AsyncIterable<LedgerEvent> {
    await Promise.resolve();
    yield* [];
  }

  async *blocks(): AsyncIterable<Uint8Array> {
    await Promise.resolve();
    yield* [];
  }

  chainInfo(): Promise<{ height: number; currentBlockHash: string }> {
    return Promise.reject(credexError('LEDGER_ERROR', 'the fake ledger has no blocks'));
  }

  block(): Promise<Uint8Array> {
    return Promise.reject(credexError('LEDGER_ERROR', 'the fake ledger has no blocks'));
  }

  close(): void {
    // nothing to release
  }

  #execute(contract: string, tx: string, args: string[], txId: string): unknown {
    const arg = JSON.parse(args[0] ?? 'null') as Record<string, unknown>;
    switch (`${contract}:${tx}`) {
      case 'catalogue:CreateEntry': {
        const entry = { ...arg, status: 'active', createdAt: new Date().toISOString() } as unknown as CatalogueEntry;
        if (entry.publisher !== this.mspId) throw credexError('FORBIDDEN', 'not your entry');
        if (this.entries.has(entry.entryId)) throw credexError('ALREADY_EXISTS', `entry ${entry.entryId} exists`);
        this.entries.set(entry.entryId, entry);
        return entry;
      }
      case 'anchors:AnchorBatch': {
        const batch = arg as unknown as AnchorRequest;
        const entry = this.entries.get(batch.catalogueEntryId);
        if (entry === undefined) throw credexError('ENTRY_UNKNOWN', 'no entry');
        if (entry.publisher !== this.mspId) throw credexError('FORBIDDEN', 'not your entry');
        if (this.batches.has(batch.batchId)) throw credexError('ALREADY_EXISTS', `batch ${batch.batchId} is already anchored`);
        const now = new Date().toISOString();
        const stored = { batchId: batch.batchId, catalogueEntryId: entry.entryId, publisher: this.mspId, subject: entry.subject, recordType: entry.recordType, root: batch.root, size: batch.size, anchoredAt: now, txId };
        for (const s of batch.supersessions ?? []) {
          if (!verifyInclusion(s.record.leafHash, s.record.index, batch.size, s.record.proof, batch.root)) throw credexError('RECORD_PROOF_INVALID', 'supersession proof');
          const old = this.#resolve(s.supersedes);
          if (old.status === 'superseded' || old.status === 'withdrawn') throw credexError('SUPERSESSION_INVALID', `record ${s.supersedes.recordId} is ${old.status}`);
          this.records.set(`${s.supersedes.batchId}\u0000${s.supersedes.recordId}`, { ...old, status: 'superseded', supersededBy: s.record.recordId });
          this.records.set(`${batch.batchId}\u0000${s.record.recordId}`, {
            recordId: s.record.recordId, index: s.record.index, leafHash: s.record.leafHash, batchId: batch.batchId, publisher: this.mspId, subject: entry.subject, recordType: entry.recordType,
            catalogueEntryId: entry.entryId, status: 'active', supersedes: s.supersedes.recordId, history: [{ status: 'active', at: now, txId }],
          });
        }
        this.batches.set(batch.batchId, stored);
        return stored;
      }
      case 'participants:RegisterOrganization':
        this.orgs.set(arg.mspId as string, arg);
        return arg;
      default:
        throw credexError('NOT_IMPLEMENTED', `the fake ledger has no ${contract}:${tx}`);
    }
  }

  /** The chaincode's resolveRecord: the ref proven against its batch, then its status key or the record as anchored. */
  #resolve(ref: RecordRef): Record<string, unknown> & { status: string } {
    const batch = this.batches.get(ref.batchId);
    if (batch === undefined) throw credexError('RECORD_UNKNOWN', `no batch ${ref.batchId}`);
    if (ref.index >= (batch.size as number) || !verifyInclusion(ref.leafHash, ref.index, batch.size as number, ref.proof, batch.root as string)) {
      throw credexError('RECORD_PROOF_INVALID', `record ${ref.recordId} is not at index ${ref.index} of batch ${ref.batchId}`);
    }
    const status = this.records.get(`${ref.batchId}\u0000${ref.recordId}`);
    if (status !== undefined) {
      if (status.leafHash !== ref.leafHash || status.index !== ref.index) throw credexError('RECORD_PROOF_INVALID', 'status key differs');
      return JSON.parse(JSON.stringify(status)) as Record<string, unknown> & { status: string };
    }
    return {
      recordId: ref.recordId, batchId: ref.batchId, index: ref.index, leafHash: ref.leafHash, publisher: batch.publisher, subject: batch.subject,
      recordType: batch.recordType, catalogueEntryId: batch.catalogueEntryId, status: 'active', history: [{ status: 'active', at: batch.anchoredAt, txId: batch.txId }],
    };
  }

  #query(contract: string, tx: string, args: string[]): unknown {
    const id = args[0] ?? '';
    const found = <V>(v: V | undefined, code: string): V => v ?? (() => { throw credexError(code, `${id} not found`); })();
    switch (`${contract}:${tx}`) {
      case 'catalogue:GetEntry': return found(this.entries.get(id), 'ENTRY_UNKNOWN');
      case 'catalogue:ListByPublisher': return [...this.entries.values()].filter((e) => e.publisher === id);
      case 'anchors:GetBatch': return found(this.batches.get(id), 'NOT_FOUND');
      case 'anchors:GetRecord': return this.#resolve(JSON.parse(id) as RecordRef);
      case 'participants:GetOrganization': return found(this.orgs.get(id), 'ORG_UNKNOWN');
      case 'access:ListBySubject': return [];
      default: throw credexError('NOT_IMPLEMENTED', `the fake ledger has no ${contract}:${tx}`);
    }
  }
}

/** A temp dir, removed by the returned function. */
export function tempDir(prefix = 'credex-gw-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => { rmSync(dir, { recursive: true, force: true }); } };
}

/** A valid gateway config for tests (the ledger settings are never dialled with a fake ledger). */
export function testConfig(dataDir: string, overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  return {
    mspId: 'GovMSP', orgName: '西安市信用信息共享平台', host: '127.0.0.1', port: 0, dataDir,
    staffTokens: [STAFF_TOKEN], publicUrl: 'http://127.0.0.1:18080',
    ledger: { peerEndpoint: '127.0.0.1:1', hostnameOverride: 'localhost', tlsCaCertPem: '', certPem: '', keyPem: '', channel: 'credex', chaincode: 'credex' },
    keys: { requestKey: newSigningKeyPair(), boxKey: newBoxKeyPair() },
    limits: { bodyBytes: 32 * 1024 * 1024, ratePerMinute: 100_000 },
    selfRegister: true, logLevel: 'silent',
    ...overrides,
  };
}

/** A gateway app over a fake ledger and a real store in a temp dir. */
export interface TestGateway {
  app: FastifyInstance;
  ledger: FakeLedger;
  store: Store;
  config: GatewayConfig;
  /** Builds a new app over the same store and ledger (after `app.close()`): a restart. */
  restart(): Promise<FastifyInstance>;
  close(): Promise<void>;
}

export async function testGateway(overrides: Partial<GatewayConfig> = {}, ledger?: FakeLedger): Promise<TestGateway> {
  const tmp = tempDir();
  const config = testConfig(tmp.dir, overrides);
  const fake = ledger ?? new FakeLedger(config.mspId);
  const storeDir = join(tmp.dir, 'store');
  let store = await openStore(storeDir);
  let app = await buildApp({ config, ledger: fake, store, maintenanceMs: 0, logger: false });
  const gw: TestGateway = {
    app, ledger: fake, store, config,
    async restart() {
      await gw.app.close();
      await gw.store.close();
      store = await openStore(storeDir);
      app = await buildApp({ config, ledger: fake, store, maintenanceMs: 0, logger: false });
      gw.app = app;
      gw.store = store;
      return app;
    },
    async close() {
      await gw.app.close();
      await gw.store.close();
      tmp.remove();
    },
  };
  return gw;
}

/** The error code a promise rejects with ('OK' when it resolves). */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

export const auth = { authorization: `Bearer ${STAFF_TOKEN}` };

export function randomId(prefix = 'r'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}
