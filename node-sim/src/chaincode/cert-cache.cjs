// Preloaded into the chaincode process (NODE_OPTIONS --require) by node-sim's launcher.
//
// fabric-shim builds ctx.clientIdentity for every transaction by parsing the creator's X.509
// certificate with @fidm/x509 (Certificate.fromPEM), about a tenth of a transaction's CPU in
// the chaincode, although a client sends the same certificate with each of its transactions.
// This remembers the parsed certificate of the last PEMs (by their exact text) in the
// @fidm/x509 that fabric-shim loads; a PEM that fails to parse is not remembered and fails
// as before. fabric-shim only reads the parsed certificate (subject, issuer, extensions).
// When fabric-shim or @fidm/x509 cannot be found from the chaincode's folder, nothing is changed.
'use strict';
const path = require('node:path');
const { createRequire } = require('node:module');

const CAPACITY = 256;

try {
  const fromChaincode = createRequire(path.join(process.cwd(), 'package.json'));
  const fromShim = createRequire(fromChaincode.resolve('fabric-shim/package.json'));
  const { Certificate } = fromShim('@fidm/x509');
  const fromPEM = Certificate.fromPEM;
  if (typeof fromPEM === 'function') {
    const parsed = new Map();
    Certificate.fromPEM = function fromPEMRemembered(data) {
      const key = typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('latin1') : undefined;
      if (key === undefined) return fromPEM.call(this, data);
      let cert = parsed.get(key);
      if (cert === undefined) {
        cert = fromPEM.call(this, data);
        if (parsed.size >= CAPACITY) parsed.delete(parsed.keys().next().value);
        parsed.set(key, cert);
      }
      return cert;
    };
  }
} catch {
  // not a fabric-shim chaincode, or an unexpected @fidm/x509: leave it as it is
}
