/**
 * @credex/gateway — one organization's gateway: its Fastify app, configuration, off-chain
 * store, ledger client and services.
 */
export { app, buildApp, serverOptions } from './app';
export type { AppOptions } from './app';
export { loadConfig, parseConfig } from './config';
export type { GatewayConfig, LedgerConfig, KeyPair } from './config';
export { createLedgerClient, LedgerError } from './ledger/client';
export type { LedgerClient, LedgerEvent, LedgerDeadlines } from './ledger/client';
export { checkLedger, verifyBlockChain, blockHeaderHash, blockDataHash, transactionCodes } from './ledger/blockchain';
export type { ChainCheck, LedgerCheck } from './ledger/blockchain';
export { openStore } from './store/store';
export type { Store, StoredRecord, StoredBatch, AnchorRequest, NewRecord, RecordRef, Supersession } from './store/store';
export { createPublisher, MAX_RECORDS_PER_PUBLISH } from './services/publish';
export type { Publisher, PublishInput, PublishedRecord, PublishProgress } from './services/publish';
export { createRegistry } from './services/registry';
export type { Registry, OrganizationProfile } from './services/registry';
export { httpStatusOf } from './errors';
// The exchange between organizations (G2): HTTP message signatures, the verifier, the bank-side client.
export { signRequest, verifyRequest, contentDigest } from './exchange/httpsig';
export type { VerifiedSignature, VerifyOptions, NonceRegister } from './exchange/httpsig';
export { createExchangeClient, signAccessRequest } from './exchange/client';
export type { ExchangeClient, FetchInput, FetchResult, FetchedRecord } from './exchange/client';
export type { VerificationReport, CheckName } from './exchange/verify';
