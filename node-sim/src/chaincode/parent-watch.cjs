// Preloaded into the chaincode process (NODE_OPTIONS --require): its stdin is a pipe from the
// node-sim process that launched it, so end-of-file means node-sim is gone (even by kill -9).
// A Fabric peer's chaincode outlives nothing either: without this, an orphaned fabric-shim keeps
// reconnecting at full CPU.
'use strict';
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
