/** Chaincode support for node-sim peers: the ChaincodeSupport stream, launching, and transaction simulation. */
export type {
  ChaincodeRuntime,
  ChaincodeRuntimeOptions,
  ExecuteRequest,
  RangeQueryRecord,
  RwSet,
  SimulationResult,
  StateReader,
  Version,
} from './types';
export { createChaincodeRuntime, ChaincodeRuntimeError, type ChaincodeRuntimeErrorCode } from './runtime';
export { encodeTxRwSet, decodeTxRwSet, encodeKvRwSet, decodeKvRwSet, compareKeys } from './rwset';
