/**
 * Runs one organization's gateway: loads the configuration (file or environment), listens on
 * the configured host, and shuts down gracefully on SIGINT/SIGTERM.
 *
 *   CREDEX_GATEWAY_CONFIG=gateway.json tsx gateway/src/server.ts
 */
import { isCredexError } from '@credex/core';
import { buildApp } from './app';
import { loadConfig } from './config';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig({ file: process.argv[2] });
  } catch (e) {
    if (isCredexError(e, 'CONFIG_INVALID')) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const app = await buildApp({ config });
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app.close().then(() => process.exit(0), (e: unknown) => {
      app.log.error({ err: e }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.once('SIGINT', () => {
    shutdown('SIGINT');
  });
  process.once('SIGTERM', () => {
    shutdown('SIGTERM');
  });
  const address = await app.listen({ host: config.host, port: config.port });
  app.log.info({ address, mspId: config.mspId }, 'gateway listening');
}

main().catch((e: unknown) => {
  process.stderr.write(`gateway failed to start: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
