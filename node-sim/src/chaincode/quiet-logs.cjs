// Preloaded into the chaincode process (NODE_OPTIONS --require) by node-sim's launcher.
//
// fabric-shim logs through winston, and winston runs every message through its formats
// (timestamp, metadata, colours, printf with JSON of every argument) before its transports
// drop what is below their level. The shim logs several DEBUG/INFO lines per message it
// exchanges with the peer, so at the peer's default WARNING level about a fifth of a
// transaction's CPU in the chaincode went into formatting lines nobody sees.
//
// This drops, before any formatting, exactly the messages that winston itself would drop:
// those of a known level that neither the logger nor any of its transports accepts
// (winston's own Logger#isLevelEnabled). What the chaincode writes is unchanged. When
// fabric-shim or winston cannot be found from the chaincode's folder, nothing is changed.
'use strict';
const path = require('node:path');
const { createRequire } = require('node:module');

try {
  const fromChaincode = createRequire(path.join(process.cwd(), 'package.json'));
  const fromShim = createRequire(fromChaincode.resolve('fabric-shim/package.json'));
  const winston = fromShim('winston');
  const Logger = winston.Logger;
  const LEVEL = Symbol.for('level');
  const write = Logger.prototype.write;
  if (typeof write === 'function' && typeof Logger.prototype.isLevelEnabled === 'function') {
    Logger.prototype.write = function writeEnabled(info, ...rest) {
      const level = info !== null && typeof info === 'object' ? (info[LEVEL] ?? info.level) : undefined;
      if (typeof level === 'string' && this.levels && this.levels[level] !== undefined && !this.isLevelEnabled(level)) {
        const callback = rest.find((a) => typeof a === 'function');
        if (callback) process.nextTick(callback);
        return true;
      }
      return write.call(this, info, ...rest);
    };
  }
} catch {
  // not a fabric-shim chaincode, or an unexpected winston: leave it as it is
}
