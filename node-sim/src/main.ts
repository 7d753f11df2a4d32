/**
 * `npm run sim`: starts a node-sim network and runs until SIGINT/SIGTERM, then stops it
 * gracefully (pending transactions are cut into a block and committed first).
 *
 * Options (command line, or the environment variable in brackets):
 *   --data-dir <dir>        [SIM_DATA_DIR]   default <repository>/data/node-sim
 *   --orgs A,B,C            [SIM_ORGS]       default GovMSP,BankMSP,CoreMSP,AuditMSP
 *   --port-base <n>         [SIM_PORT_BASE]  org i listens on n+i; default ephemeral ports
 *   --chaincode-dir <dir>   [SIM_CHAINCODE_DIR]
 *   --policy <expr>         [SIM_POLICY]     default "MAJORITY Endorsement"
 *   --batch-timeout <ms>    [SIM_BATCH_TIMEOUT_MS]
 *   --max-messages <n>      [SIM_MAX_MESSAGE_COUNT]
 *   --no-tls
 *   --json                  print one JSON line {ready, orgs, profiles} instead of text
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startSimNetwork } from './network';
import type { SimNetworkOptions } from './config';

const DEFAULT_DATA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../data/node-sim');

function numberOption(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`SIM_CONFIG_INVALID: ${name} must be a non-negative number, not '${raw}'`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      orgs: { type: 'string' },
      'port-base': { type: 'string' },
      'chaincode-dir': { type: 'string' },
      policy: { type: 'string' },
      'batch-timeout': { type: 'string' },
      'max-messages': { type: 'string' },
      'no-tls': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const env = process.env;
  const orgs = (values.orgs ?? env.SIM_ORGS)?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const portBase = numberOption(values['port-base'] ?? env.SIM_PORT_BASE, '--port-base');
  const chaincodeDir = values['chaincode-dir'] ?? env.SIM_CHAINCODE_DIR;
  const policy = values.policy ?? env.SIM_POLICY;
  const batchTimeoutMs = numberOption(values['batch-timeout'] ?? env.SIM_BATCH_TIMEOUT_MS, '--batch-timeout');
  const maxMessageCount = numberOption(values['max-messages'] ?? env.SIM_MAX_MESSAGE_COUNT, '--max-messages');
  const options: SimNetworkOptions = {
    dataDir: values['data-dir'] ?? env.SIM_DATA_DIR ?? DEFAULT_DATA_DIR,
    tls: !values['no-tls'],
    log: (line) => {
      if (!values.json) console.log(line);
    },
    chaincode: {
      ...(chaincodeDir === undefined ? {} : { dir: chaincodeDir }),
      ...(policy === undefined ? {} : { endorsementPolicy: policy }),
    },
    batch: {
      ...(batchTimeoutMs === undefined ? {} : { batchTimeoutMs }),
      ...(maxMessageCount === undefined ? {} : { maxMessageCount }),
    },
  };
  if (orgs !== undefined) options.orgs = orgs;
  if (portBase !== undefined && orgs !== undefined) options.ports = Object.fromEntries(orgs.map((o, i) => [o, portBase + i]));
  else if (portBase !== undefined) {
    options.ports = Object.fromEntries(['GovMSP', 'BankMSP', 'CoreMSP', 'AuditMSP'].map((o, i) => [o, portBase + i]));
  }

  const network = await startSimNetwork(options);
  const summary = [...network.orgs.values()].map((org) => ({
    mspId: org.mspId,
    peerEndpoint: org.peerEndpoint,
    hostnameOverride: org.hostnameOverride,
    connectionProfile: network.connectionProfilePath(org.mspId),
  }));
  if (values.json) {
    console.log(JSON.stringify({ ready: true, channel: network.channel, chaincode: network.chaincodeName, dataDir: network.dataDir, tls: network.tls, orgs: summary }));
  } else {
    console.log(`node-sim ready: channel '${network.channel}', chaincode '${network.chaincodeName}', data in ${network.dataDir}`);
    for (const org of summary) {
      console.log(`  ${org.mspId.padEnd(10)} ${network.tls ? 'grpcs' : 'grpc'}://${org.peerEndpoint}  (TLS name ${org.hostnameOverride})  profile ${org.connectionProfile}`);
    }
    console.log('Ctrl-C to stop.');
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    if (!values.json) console.log(`node-sim: ${signal}, stopping…`);
    network.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => {
    stop('SIGINT');
  });
  process.on('SIGTERM', () => {
    stop('SIGTERM');
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
