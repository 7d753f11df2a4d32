/**
 * @credex/cli — the `credex` command line, and the pieces the demo and tests reuse: the
 * gateway client, finding the running exchange, key files, the offline verifier.
 */
export { run, findCommand, mainHelp, processIo, COMMANDS } from './cli';
export type { Command, Io, Outcome, Args } from './command';
export { CliError, EXIT, toCliError } from './errors';
export type { ExitCode } from './errors';
export { GatewayClient, gatewayTarget, readOrgConfig, DEFAULT_ORG } from './exchange';
export type { GatewayTarget, OrgConfigFile } from './exchange';
export { readKey, writeNewKey } from './keyfile';
export type { EnterpriseKey } from './keyfile';
export { verifySaved } from './verify';
export type { SavedRecord, ChainView, Verification } from './verify';
export { renderBar, progressBar } from './progress';
export { parseCsvRow, readRecordFile, prepareRecord } from './records-input';
