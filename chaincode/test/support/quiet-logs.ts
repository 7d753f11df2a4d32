// fabric-contract-api logs every decorator at info level; tests only want warnings. Imported
// before fabric-contract-api, which reads the level when its loggers are created.
process.env['CORE_CHAINCODE_LOGGING_LEVEL'] ??= 'WARNING';
