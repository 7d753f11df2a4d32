/**
 * Runs the real contracts as the shim would: finds the transaction in the contract's
 * fabric-contract-api metadata (refusing a wrong argument count), calls it through the
 * contract's aroundTransaction with a fresh context, and commits its writes and event only
 * when it succeeds and is a submit.
 */
import './quiet-logs';
import 'reflect-metadata';
import { Context, Contract } from 'fabric-contract-api';
import { parseErrorCode } from '@credex/core';
import { expect } from 'vitest';
import { contracts } from '../../src/index';
import { FakeClientIdentity, FakeLedger, FakeStub, type ChaincodeEvent, type StateOps } from './fake-stub';

interface TransactionMetadata {
  name: string;
  tag: string[];
  parameters: { name: string }[];
}

export interface Submitted<T> {
  result: T;
  txId: string;
  event: ChaincodeEvent | undefined;
  /** The state operations the transaction made (shim round trips on a peer). */
  ops: StateOps;
}

const instances = new Map<string, Contract>(contracts.map((C) => {
  const contract = new C();
  return [contract.getName(), contract];
}));

export function transactionsOf(contract: Contract): TransactionMetadata[] {
  return (Reflect.getMetadata('fabric:transactions', contract) as TransactionMetadata[] | undefined) ?? [];
}

/** A submitted transaction, as the client sent it: enough to replay it on another ledger. */
export interface Submission {
  mspId: string;
  fqName: string;
  args: string[];
  timeMs: number;
}

export class TestChaincode {
  readonly ledger = new FakeLedger();
  /** Every submit, in order, committed or not. */
  readonly submissions: Submission[] = [];
  /** Ledger time of the next transaction (ms since the epoch). */
  timeMs = Date.parse('2026-11-02T02:00:00.000Z');
  private txCount = 0;

  setTime(iso: string): void {
    this.timeMs = Date.parse(iso);
  }

  get nowIso(): string {
    return new Date(this.timeMs).toISOString();
  }

  /** Submits `contract:Transaction` as a member of `mspId`; commits on success. */
  async submit<T = unknown>(mspId: string, fqName: string, ...args: string[]): Promise<Submitted<T>> {
    this.submissions.push({ mspId, fqName, args, timeMs: this.timeMs });
    return this.run<T>(mspId, fqName, args, true);
  }

  /** Evaluates a read-only transaction; it must not write. */
  async evaluate<T = unknown>(mspId: string, fqName: string, ...args: string[]): Promise<T> {
    return (await this.run<T>(mspId, fqName, args, false)).result;
  }

  private async run<T>(mspId: string, fqName: string, args: string[], commit: boolean): Promise<Submitted<T>> {
    const [contractName = '', fn = ''] = fqName.split(':');
    const contract = instances.get(contractName);
    if (contract === undefined) throw new Error(`no contract ${contractName}`);
    const txId = `tx${String(++this.txCount).padStart(6, '0')}`;
    const stub = new FakeStub(this.ledger, txId, this.timeMs, fqName, args);
    const ctx = contract.createContext();
    ctx.stub = stub as unknown as Context['stub'];
    ctx.clientIdentity = new FakeClientIdentity(mspId) as unknown as Context['clientIdentity'];

    const tx = transactionsOf(contract).find((t) => t.name === fn);
    if (tx === undefined) {
      await contract.unknownTransaction(ctx);
      throw new Error('unknownTransaction returned');
    }
    if (tx.parameters.length !== args.length) {
      throw new Error(`Expected ${tx.parameters.length} parameters, but ${args.length} have been supplied`);
    }
    const isSubmit = tx.tag.includes('SUBMIT');
    if (commit !== isSubmit) throw new Error(`${fqName} is ${isSubmit ? 'a submit' : 'an evaluate'} transaction`);
    // aroundTransaction resolves to the transaction's result, though its typings say void.
    const around = contract.aroundTransaction.bind(contract) as unknown as (c: Context, f: string, a: string[]) => Promise<unknown>;
    const raw = await around(ctx, fn, args);
    if (typeof raw !== 'string') throw new Error(`${fqName} returned ${typeof raw}, not a JSON string`);
    if (!commit && stub.writes.size > 0) throw new Error(`${fqName} wrote during an evaluate`);
    this.ledger.apply(stub.writes);
    if (stub.event !== undefined) this.ledger.events.push(stub.event);
    return { result: JSON.parse(raw) as T, txId, event: stub.event, ops: { ...stub.ops } };
  }

  /**
   * Submits a transaction that must fail with `code`, and proves it changed nothing: the
   * whole state, byte for byte, and the events are as before.
   */
  async expectRejected(code: string, mspId: string, fqName: string, ...args: string[]): Promise<string> {
    const before = this.ledger.dump();
    const eventsBefore = this.ledger.events.length;
    let message: string | undefined;
    const commit = !isEvaluate(fqName);
    if (commit) this.submissions.push({ mspId, fqName, args, timeMs: this.timeMs });
    try {
      await this.run(mspId, fqName, args, commit);
    } catch (err) {
      message = err instanceof Error ? err.message : String(err);
    }
    expect(message, `${fqName} should fail with ${code}`).toBeDefined();
    expect(parseErrorCode(message!)?.code, message).toBe(code);
    expect(message!.startsWith(`${code}: `), message).toBe(true);
    expect(this.ledger.dump()).toBe(before);
    expect(this.ledger.events.length).toBe(eventsBefore);
    return message!;
  }
}

function isEvaluate(fqName: string): boolean {
  const [contractName = '', fn = ''] = fqName.split(':');
  const contract = instances.get(contractName);
  const tx = contract === undefined ? undefined : transactionsOf(contract).find((t) => t.name === fn);
  return tx !== undefined && !tx.tag.includes('SUBMIT');
}
