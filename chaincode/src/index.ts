/**
 * credex chaincode: the contracts a peer runs (`fabric-chaincode-node start` loads this list).
 */
import { AccessContract } from './contracts/access';
import { AnchorsContract } from './contracts/anchors';
import { CatalogueContract } from './contracts/catalogue';
import { ConsentsContract } from './contracts/consents';
import { ObjectionsContract } from './contracts/objections';
import { ParticipantsContract } from './contracts/participants';

export const contracts = [ParticipantsContract, CatalogueContract, AnchorsContract, ConsentsContract, AccessContract, ObjectionsContract];
