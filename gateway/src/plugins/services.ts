/**
 * The gateway's parts as decorations: `config`, `ledger`, `store`, `registry`, `publisher`, `recordRefs`.
 * At ready: the organization's profile is registered when missing or stale, and the outbox of
 * unanchored batches is replayed; both are retried periodically while they fail.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import type { GatewayConfig } from '../config';
import type { LedgerClient } from '../ledger/client';
import { createLedgerClient } from '../ledger/client';
import type { Store } from '../store/store';
import { openStore } from '../store/store';
import type { Publisher } from '../services/publish';
import { createPublisher } from '../services/publish';
import type { Registry } from '../services/registry';
import { createRegistry } from '../services/registry';
import { ensureRegistered } from '../services/self-register';
import type { RecordRefs } from '../services/record-refs';
import { createRecordRefs } from '../services/record-refs';

declare module 'fastify' {
  interface FastifyInstance {
    config: GatewayConfig;
    ledger: LedgerClient;
    store: Store;
    registry: Registry;
    publisher: Publisher;
    /** RecordRefs of records: from the store, or from their publisher's gateway. */
    recordRefs: RecordRefs;
  }
}

/** Options of the services plugin: the config, and (for tests) a ledger or store to use. */
export interface ServicesOptions {
  config: GatewayConfig;
  ledger?: LedgerClient;
  store?: Store;
  /** Period of the outbox/registration retries in ms (default 15 s; 0 = none). */
  maintenanceMs?: number;
}

async function servicesPlugin(app: FastifyInstance, opts: ServicesOptions): Promise<void> {
  const { config } = opts;
  const ledger = opts.ledger ?? (await createLedgerClient({ ...config.ledger, mspId: config.mspId }));
  const store = opts.store ?? (await openStore(join(config.dataDir, 'store')));
  const registry = createRegistry(ledger);
  const publisher = createPublisher({ mspId: config.mspId, ledger, store });
  app.decorate('config', config);
  app.decorate('ledger', ledger);
  app.decorate('store', store);
  app.decorate('registry', registry);
  app.decorate('publisher', publisher);
  app.decorate('recordRefs', createRecordRefs({ mspId: config.mspId, keys: config.keys, store, registry }));

  let registered = !config.selfRegister;
  let timer: NodeJS.Timeout | undefined;
  const maintain = async (): Promise<void> => {
    if (!registered) {
      try {
        await ensureRegistered({ config, ledger, registry, log: app.log });
        registered = true;
      } catch (e) {
        app.log.warn({ err: e }, 'organization profile not registered yet; will retry');
      }
    }
    const anchored = await publisher.replayOutbox(app.log).catch((e: unknown) => {
      app.log.warn({ err: e }, 'outbox replay failed; will retry');
      return 0;
    });
    if (anchored > 0) app.log.info({ anchored }, 'outbox replayed');
  };

  app.addHook('onReady', async () => {
    await maintain();
    const every = opts.maintenanceMs ?? 15_000;
    if (every > 0) {
      timer = setInterval(() => void maintain(), every);
      timer.unref();
    }
  });
  app.addHook('onClose', async () => {
    if (timer !== undefined) clearInterval(timer);
    // An anchor under way finishes (or stays in the outbox) before the store closes.
    await publisher.drain();
    // Only what this plugin opened is closed here; a ledger or store passed in belongs to the caller.
    if (opts.ledger === undefined) ledger.close();
    if (opts.store === undefined) await store.close();
  });
}

/** Decorates the instance with the gateway's services. */
export default fp(servicesPlugin, { name: 'credex-services', fastify: '5.x' });
