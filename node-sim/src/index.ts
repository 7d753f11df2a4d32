/**
 * @credex/node-sim — a Fabric channel on one machine that the unmodified
 * `@hyperledger/fabric-gateway` client talks to as to Fabric 2.4+ peers.
 */
export { startSimNetwork, type SimNetwork, type SimOrg } from './network';
export { DEFAULT_ORGS, type SimBatchOptions, type SimChaincodeOptions, type SimNetworkOptions } from './config';
export { verifyBlockChain, blockHeaderHash, blockDataHash, type ChainVerification } from './blocks';
export type { Identity } from './msp/material';
