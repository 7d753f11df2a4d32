/**
 * The query system chaincode (`qscc`) a peer answers through Evaluate: chain info, blocks and
 * transactions, returned as the same protobuf bytes core/scc/qscc returns.
 */
import { common, peer } from '@hyperledger/fabric-protos';
import { blockHeaderHash } from './blocks';
import type { Ledger } from './ledger/ledger';

export const QSCC = 'qscc';

/** A chaincode-style response: status 200 with a payload, or 500 with a message. */
export interface QsccResponse {
  status: number;
  message: string;
  payload: Uint8Array;
}

const ok = (payload: Uint8Array): QsccResponse => ({ status: 200, message: '', payload });
const fail = (message: string): QsccResponse => ({ status: 500, message, payload: new Uint8Array(0) });

/** Runs one qscc function (`args[0]`) for the channel `args[1]`, with Fabric's error texts. */
export async function invokeQscc(ledger: Ledger, channelId: string, args: Uint8Array[]): Promise<QsccResponse> {
  const text = args.map((a) => Buffer.from(a).toString('utf8'));
  if (text.length < 2) return fail(`Incorrect number of arguments, ${text.length}`);
  const [fname = '', cid = ''] = text;
  if (cid !== channelId) return fail(`Invalid chain ID, ${cid}`);
  switch (fname) {
    case 'GetChainInfo':
      return ok(await chainInfo(ledger));
    case 'GetBlockByNumber':
      return blockByNumber(ledger, text[2]);
    case 'GetTransactionByID':
      return transactionById(ledger, text[2]);
    case 'GetBlockByTxID':
      return blockByTxId(ledger, text[2]);
    case 'GetBlockByHash':
      return blockByHash(ledger, args[2]);
    default:
      return fail(`Requested function ${fname} not found.`);
  }
}

async function chainInfo(ledger: Ledger): Promise<Uint8Array> {
  const info = await ledger.chainInfo();
  const result = new common.BlockchainInfo();
  result.setHeight(info.height);
  result.setCurrentblockhash(info.currentBlockHash);
  result.setPreviousblockhash(info.previousBlockHash);
  return result.serializeBinary();
}

async function blockByNumber(ledger: Ledger, number: string | undefined): Promise<QsccResponse> {
  if (number === undefined) return fail('Incorrect number of arguments, 2');
  if (!/^\d+$/.test(number)) return fail(`Failed to parse block number with error strconv.ParseUint: parsing "${number}": invalid syntax`);
  const n = Number(number);
  const block = Number.isSafeInteger(n) ? await ledger.getBlock(n) : undefined;
  if (block === undefined) return fail(`Failed to get block number ${number}, error Entry not found in index`);
  return ok(block);
}

async function transactionById(ledger: Ledger, txId: string | undefined): Promise<QsccResponse> {
  if (txId === undefined || txId === '') return fail('Transaction ID must not be nil.');
  const tx = await ledger.getTx(txId);
  if (tx === undefined) return fail(`Failed to get transaction with id ${txId}, error no such transaction ID [${txId}] in index`);
  const processed = new peer.ProcessedTransaction();
  processed.setTransactionenvelope(common.Envelope.deserializeBinary(tx.envelope));
  processed.setValidationcode(tx.code);
  return ok(processed.serializeBinary());
}

async function blockByTxId(ledger: Ledger, txId: string | undefined): Promise<QsccResponse> {
  if (txId === undefined || txId === '') return fail('Transaction ID must not be nil.');
  const tx = await ledger.getTx(txId);
  const block = tx === undefined ? undefined : await ledger.getBlock(tx.blockNumber);
  if (block === undefined) return fail(`Failed to get block for txID ${txId}, error no such transaction ID [${txId}] in index`);
  return ok(block);
}

/** Looks the hash up by walking back from the newest block; fine for a simulator's chain lengths. */
async function blockByHash(ledger: Ledger, hash: Uint8Array | undefined): Promise<QsccResponse> {
  if (hash === undefined || hash.length === 0) return fail('Block hash must not be nil.');
  const wanted = Buffer.from(hash);
  for (let n = ledger.height() - 1; n >= 0; n -= 1) {
    const bytes = await ledger.getBlock(n);
    if (bytes === undefined) break;
    const header = common.Block.deserializeBinary(bytes).getHeader();
    if (header !== undefined && wanted.equals(headerHash(header))) return ok(bytes);
  }
  return fail(`Failed to get block hash ${wanted.toString('hex')}, error Entry not found in index`);
}

function headerHash(header: common.BlockHeader): Buffer {
  return Buffer.from(
    blockHeaderHash({
      number: BigInt(header.getNumber()),
      previousHash: header.getPreviousHash_asU8(),
      dataHash: header.getDataHash_asU8(),
    }),
  );
}
