/**
 * Finding the running exchange and talking to an organization's gateway over HTTP.
 *
 * A gateway is found, in this order: `--gateway URL --token T`, the environment
 * (`CREDEX_GATEWAY`, `CREDEX_TOKEN`), or the configuration `npm start` writes to
 * `<data dir>/config/<MSP id>.json` (its URL and first staff token).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Args, Io } from './command';
import { str } from './command';
import { CliError, EXIT, exitCodeOfHttp, usageError } from './errors';

/** The organizations `npm start` runs, by the role they play. */
export const DEFAULT_ORG = { government: 'GovMSP', bank: 'BankMSP', core: 'CoreMSP', auditor: 'AuditMSP' } as const;

/**
 * The exchange's data directory: --data-dir, CREDEX_DATA_DIR, or the nearest `data/` with a
 * `config/` folder from the working directory up (as git finds its repository), else ./data.
 */
export function dataDirOf(args: Args, io: Io): string {
  const given = str(args, 'data-dir') ?? io.env.CREDEX_DATA_DIR;
  if (given !== undefined && given !== '') return resolve(io.cwd, given);
  for (let dir = resolve(io.cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'data', 'config'))) return join(dir, 'data');
    if (dirname(dir) === dir) return resolve(io.cwd, 'data');
  }
}

/** What `npm start` writes for each organization (the subset the CLI reads). */
export interface OrgConfigFile {
  mspId: string;
  host?: string;
  port?: number;
  publicUrl?: string;
  staffTokens: string[];
}

/** Reads `<dataDir>/config/<mspId>.json`, or undefined when there is none. */
export function readOrgConfig(dataDir: string, mspId: string): OrgConfigFile | undefined {
  const file = join(dataDir, 'config', `${mspId}.json`);
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError('CONFIG_INVALID', `${file} is not valid JSON: ${(e as Error).message}`, EXIT.USAGE);
  }
  const cfg = raw as Partial<OrgConfigFile>;
  if (typeof cfg !== 'object' || !Array.isArray(cfg.staffTokens) || typeof cfg.staffTokens[0] !== 'string') {
    throw new CliError('CONFIG_INVALID', `${file} has no staffTokens`, EXIT.USAGE);
  }
  return cfg as OrgConfigFile;
}

/** A gateway's address and the staff token to use. */
export interface GatewayTarget {
  mspId: string;
  url: string;
  token: string;
}

/** The gateway to act through; `fallbackOrg` is the organization that usually does this. */
export function gatewayTarget(args: Args, io: Io, fallbackOrg: string): GatewayTarget {
  const mspId = str(args, 'org') ?? io.env.CREDEX_ORG ?? fallbackOrg;
  const url = str(args, 'gateway') ?? io.env.CREDEX_GATEWAY;
  if (url !== undefined) {
    if (!URL.canParse(url)) throw usageError('USAGE', `--gateway must be a URL like http://127.0.0.1:7801, not '${url}'`);
    // Without a token only the routes an enterprise signs itself answer (others say STAFF_AUTH_REQUIRED).
    const token = str(args, 'token') ?? io.env.CREDEX_TOKEN ?? '';
    return { mspId, url: url.replace(/\/+$/, ''), token };
  }
  const dataDir = dataDirOf(args, io);
  const cfg = readOrgConfig(dataDir, mspId);
  if (cfg === undefined) {
    throw new CliError('EXCHANGE_NOT_FOUND', `no gateway configuration for ${mspId} in ${join(dataDir, 'config')}; start the exchange with \`npm start\`, or pass --gateway URL --token T`, EXIT.UNREACHABLE);
  }
  const token = str(args, 'token') ?? cfg.staffTokens[0] ?? '';
  return { mspId, url: (cfg.publicUrl ?? `http://${cfg.host ?? '127.0.0.1'}:${String(cfg.port ?? 0)}`).replace(/\/+$/, ''), token };
}

/** An error body as gateways send it. */
interface ErrorBody { code?: unknown; message?: unknown }

/** A small client of one gateway's staff API. */
export class GatewayClient {
  readonly target: GatewayTarget;

  constructor(target: GatewayTarget) {
    this.target = target;
  }

  /**
   * Sends a request, authenticated by the staff token or else by the given signature headers;
   * answers the parsed JSON body or throws a CliError with the gateway's code.
   */
  async request<T>(method: string, path: string, body?: unknown, signatureHeaders?: Record<string, string>): Promise<T> {
    const res = await this.send(method, path, body, 'application/json', signatureHeaders);
    const text = await res.text();
    return parseBody<T>(res, text, this.target);
  }

  /**
   * POSTs and reads an NDJSON response line by line (streamed progress); a non-NDJSON answer
   * (an error before streaming started) is turned into an error as usual.
   */
  async *stream(path: string, body: unknown): AsyncGenerator<Record<string, unknown>> {
    const res = await this.send('POST', path, body, 'application/x-ndjson');
    if (!(res.headers.get('content-type') ?? '').includes('ndjson') || res.body === null) {
      const text = await res.text();
      yield parseBody<Record<string, unknown>>(res, text, this.target);
      return;
    }
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line !== '') yield JSON.parse(line) as Record<string, unknown>;
      }
    }
    if (buffered.trim() !== '') yield JSON.parse(buffered) as Record<string, unknown>;
  }

  private async send(method: string, path: string, body: unknown, accept: string, signatureHeaders?: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = signatureHeaders === undefined ? { authorization: `Bearer ${this.target.token}`, accept } : { ...signatureHeaders, accept };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(this.target.url + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError('EXCHANGE_UNREACHABLE', `cannot reach ${this.target.mspId}'s gateway at ${this.target.url} (${cause?.code ?? cause?.message ?? (e as Error).message}); is the exchange running (npm start)?`, EXIT.UNREACHABLE);
    }
  }
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the body's type
function parseBody<T>(res: Response, text: string, target: GatewayTarget): T {
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new CliError('RESPONSE_INVALID', `${target.mspId}'s gateway answered ${String(res.status)} with a body that is not JSON`, EXIT.REFUSED);
  }
  if (res.ok) return parsed as T;
  const err = (parsed ?? {}) as ErrorBody;
  const code = typeof err.code === 'string' ? err.code : `HTTP_${String(res.status)}`;
  const message = typeof err.message === 'string' ? err.message : res.statusText;
  throw new CliError(code, message, exitCodeOfHttp(res.status, code));
}

/** A client of the gateway to act through (see {@link gatewayTarget}). */
export function gatewayClient(args: Args, io: Io, fallbackOrg: string): GatewayClient {
  return new GatewayClient(gatewayTarget(args, io, fallbackOrg));
}
