/** Test helper process: starts the kv chaincode under a runtime and waits to be killed. */
import { fileURLToPath } from 'node:url';
import { createChaincodeRuntime } from '../../src/chaincode/runtime';

const runtime = createChaincodeRuntime({
  chaincodeName: 'kv',
  chaincodeVersion: '1.0',
  chaincodeDir: fileURLToPath(new URL('../fixtures/kv-chaincode', import.meta.url)),
  peerName: 'peer0.orphan',
});
await runtime.start();
process.stdout.write('started\n');
setInterval(() => undefined, 60_000);
