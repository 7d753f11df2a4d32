import { Contract, type Context } from 'fabric-contract-api';
import { fail, toChaincodeError } from './errors';

/**
 * What every credex contract shares: any error leaving a transaction carries a stable code
 * (unexpected ones become `INTERNAL: …`), and unknown transaction names are refused with one.
 */
export abstract class CredexContract extends Contract {
  override aroundTransaction(ctx: Context, fn: (...args: never[]) => unknown, parameters: unknown): Promise<void> {
    // The base class resolves to the transaction's result, which its typings call void.
    return super.aroundTransaction(ctx, fn, parameters).catch((err: unknown) => {
      throw toChaincodeError(err);
    });
  }

  override unknownTransaction(ctx: Context): Promise<void> {
    const { fcn } = ctx.stub.getFunctionAndParameters();
    fail('UNKNOWN_TRANSACTION', `${this.getName()} has no transaction ${JSON.stringify(fcn)}`);
  }
}
