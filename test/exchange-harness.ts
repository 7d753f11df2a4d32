/**
 * Harness of the exchange integration tests: node-sim with two banks, one in-process gateway
 * per organization on 127.0.0.1 (real HTTP), enterprises with their keys, signed consents,
 * and raw signed calls to a publisher's exchange API (as a misbehaving bank would make them).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { b64u, newBoxKeyPair, newSigningKeyPair, signed, statementId } from '@credex/core';
import type { Signed } from '@credex/core';
import type { AccessRequest, Consent } from '@credex/schemas';
import { buildApp, openStore } from '@credex/gateway';
import type { GatewayConfig, Store } from '@credex/gateway';
import { startSimNetwork, type SimNetwork } from '@credex/node-sim';
import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { signAccessRequest } from '../gateway/src/exchange/client';
import { freePort } from '../scripts/host';
import { call, simGatewayConfig } from './gateway-harness';
import { signRequest } from '../gateway/src/exchange/httpsig';

export const ORGS = ['GovMSP', 'BankMSP', 'Bank2MSP', 'CoreMSP', 'AuditMSP'] as const;
export type Org = (typeof ORGS)[number];

/** A running gateway and what a test needs to act as its organization. */
export interface Gw {
  mspId: Org;
  url: string;
  app: FastifyInstance;
  config: GatewayConfig;
  store: Store;
}

/** A store that can be told to hand out altered records (a flipped bit in storage). */
export interface TamperingStore extends Store {
  tamper: ((recordId: string, value: NonNullable<Awaited<ReturnType<Store['getRecord']>>>) => void) | undefined;
}

function tampering(inner: Store): TamperingStore {
  let tamper: TamperingStore['tamper'];
  const getRecords = async (ids: string[]): ReturnType<Store['getRecords']> => {
    const records = await inner.getRecords(ids);
    const t = tamper;
    return t === undefined ? records : records.map((r) => {
      if (r === undefined) return r;
      const copy = structuredClone(r);
      t(copy.sealed.header.recordId, copy);
      return copy;
    });
  };
  // Every other method is the real store's, bound to it (its state is in private fields).
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'tamper') return tamper;
      if (prop === 'getRecords') return getRecords;
      if (prop === 'getRecord') return async (id: string) => (await getRecords([id]))[0];
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
    set(_target, prop, value) {
      if (prop !== 'tamper') return false;
      tamper = value as TamperingStore['tamper'];
      return true;
    },
  }) as TamperingStore;
}

export interface ExchangeWorld {
  dir: string;
  sim: SimNetwork;
  gw: Record<Org, Gw>;
  govStore: TamperingStore;
  stop(): Promise<void>;
}

export async function startWorld(): Promise<ExchangeWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'credex-exchange-'));
  const sim = await startSimNetwork({ dataDir: join(dir, 'sim'), orgs: [...ORGS] });
  const gw = {} as Record<Org, Gw>;
  let govStore: TamperingStore | undefined;
  const opened: Store[] = [];
  for (const mspId of ORGS) {
    const port = await freePort();
    const config = simGatewayConfig(sim, mspId, { dataDir: join(dir, `gw-${mspId}`), port, keys: { requestKey: newSigningKeyPair(), boxKey: newBoxKeyPair() } });
    const real = await openStore(join(config.dataDir, 'store'));
    opened.push(real);
    const store = mspId === 'GovMSP' ? (govStore = tampering(real)) : real;
    const app = await buildApp({ config, store, logger: false, maintenanceMs: 0 });
    await app.listen({ host: '127.0.0.1', port });
    gw[mspId] = { mspId, url: config.publicUrl, app, config, store };
  }
  return {
    dir, sim, gw, govStore: govStore as TamperingStore,
    async stop() {
      for (const g of Object.values(gw)) await g.app.close();
      for (const s of opened) await s.close();
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A staff call to a gateway. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the body type
export function staff<T = Record<string, unknown>>(g: Gw, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  return call<T>(g.url, method, path, body);
}

/** An enterprise with its signing key. */
export interface Enterprise {
  uscc: string;
  name: string;
  keys: { publicKey: string; secretKey: string };
}

/** A consent statement signed by `e`, valid from an hour ago for 30 days. */
export function signedConsent(e: Enterprise, over: Partial<Consent>): { signed: Signed<Consent>; consentId: string } {
  const now = Date.now();
  const statement: Consent = {
    subject: e.uscc, grantee: 'BankMSP', scope: { recordTypes: ['gov.admin-licence'] }, purpose: 'LOAN_APPLICATION',
    fieldScope: { maxGrade: 2 }, notBefore: new Date(now - 3_600_000).toISOString(), notAfter: new Date(now + 30 * 86_400_000).toISOString(),
    maxUses: 100, nonce: b64u(randomBytes(16)), ...over,
  };
  return { signed: signed('consent', statement, e.keys.secretKey), consentId: statementId('consent', statement) };
}

/** A raw call to `publisher`'s exchange API signed as `caller` (any keys, any tampering). */
export async function rawExchange(
  publisher: Gw,
  path: '/v1/exchange/fetch' | '/v1/exchange/records',
  body: unknown,
  sig: { keyId: string; secretKey: string; created?: number; nonce?: string },
  tamper?: { body?: string; headers?: Record<string, string> },
): Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, string> }> {
  const text = JSON.stringify(body);
  const bytes = new TextEncoder().encode(text);
  const headers = signRequest({ method: 'POST', url: publisher.url + path, body: bytes }, { keyId: sig.keyId, secretKey: sig.secretKey }, {
    ...(sig.created === undefined ? {} : { created: sig.created }), ...(sig.nonce === undefined ? {} : { nonce: sig.nonce }),
  });
  const res = await fetch(publisher.url + path, {
    method: 'POST', body: tamper?.body ?? text, headers: { ...headers, ...tamper?.headers, 'content-type': 'application/json' },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers };
}

/** A signed access request of `caller` (its own request key unless another is given). */
export function accessRequest(caller: Gw, consentId: string, recordIds: string[], over: Partial<AccessRequest> = {}, secretKey = caller.config.keys.requestKey.secretKey): Signed<AccessRequest> {
  return signAccessRequest({
    consentId, grantee: caller.mspId, purpose: 'LOAN_APPLICATION', recordIds, nonce: b64u(randomBytes(16)), created: new Date().toISOString(), ...over,
  }, secretKey);
}
