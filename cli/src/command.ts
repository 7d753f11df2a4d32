/**
 * How a command is described and run: its options (parsed with node:util parseArgs, strict),
 * its positionals, its help text, and a `run` that returns what to print.
 */
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import { usageError } from './errors';

/** One option of a command. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Shown in --help, e.g. `<USCC>`. */
  value?: string;
  description: string;
  multiple?: boolean;
}

/** Where a command writes and what it reads from its surroundings. */
export interface Io {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Milliseconds since the epoch (a clock, so that tests can move it). */
  now: () => number;
}

/** The parsed command line of one command. */
export interface Args {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** What a command hands back: a human rendering and a JSON value for `--json`. */
export interface Outcome {
  human: string;
  json: unknown;
}

/** A command: `credex <path…> [options] [positionals]`. */
export interface Command {
  /** Words after `credex`, e.g. ['consent', 'grant']. */
  path: string[];
  summary: string;
  /** Who uses it: enterprise, publisher, bank, auditor, anyone. */
  audience: 'enterprise' | 'publisher' | 'bank' | 'auditor' | 'anyone';
  positionals?: { name: string; description: string; optional?: boolean; /** the last one may repeat */ variadic?: boolean }[];
  options: Record<string, OptionSpec>;
  /** Extra lines at the end of --help (examples). */
  examples?: string[];
  run(args: Args, io: Io): Promise<Outcome>;
}

/** Options every command takes. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'print one JSON document on stdout instead of text' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  'data-dir': { type: 'string', value: '<dir>', description: 'where `npm start` keeps the exchange (default ./data, env CREDEX_DATA_DIR)' },
  org: { type: 'string', value: '<MSP id>', description: 'act through this organization\'s gateway (env CREDEX_ORG)' },
  gateway: { type: 'string', value: '<URL>', description: 'gateway URL instead of ./data/config (env CREDEX_GATEWAY)' },
  token: { type: 'string', value: '<token>', description: 'staff token for --gateway (env CREDEX_TOKEN)' },
};

/** Parses the arguments after the command's path; unknown options and missing positionals are USAGE errors. */
export function parseCommandArgs(command: Command, argv: string[]): Args {
  const options = { ...GLOBAL_OPTIONS, ...command.options };
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries(options).map(([name, o]) => [name, {
        type: o.type, ...(o.short === undefined ? {} : { short: o.short }), ...(o.multiple === true ? { multiple: true } : {}),
      }])),
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw usageError('USAGE', `${(e as Error).message.replace(/\. To specify.*$/s, '')} (see credex ${command.path.join(' ')} --help)`);
  }
  const values = parsed.values as Args['values'];
  if (values.help === true) return { values, positionals: parsed.positionals };
  const specs = command.positionals ?? [];
  const required = specs.filter((p) => p.optional !== true).length;
  if (parsed.positionals.length < required) {
    throw usageError('USAGE', `missing <${specs[parsed.positionals.length]?.name ?? 'argument'}> (see credex ${command.path.join(' ')} --help)`);
  }
  if (parsed.positionals.length > specs.length && specs[specs.length - 1]?.variadic !== true) {
    throw usageError('USAGE', `unexpected argument '${parsed.positionals[specs.length] ?? ''}' (see credex ${command.path.join(' ')} --help)`);
  }
  return { values, positionals: parsed.positionals };
}

/** The value of a string option, or undefined. */
export function str(args: Args, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** The value of a required string option. */
export function required(args: Args, name: string, command: string): string {
  const v = str(args, name);
  if (v === undefined || v === '') throw usageError('USAGE', `--${name} is required (see credex ${command} --help)`);
  return v;
}

/** A comma-separated list option (also accepted repeated), trimmed, without empties. */
export function list(args: Args, name: string): string[] | undefined {
  const v = args.values[name];
  if (v === undefined || typeof v === 'boolean') return undefined;
  const items = (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  return items.length === 0 ? undefined : items;
}

/** A non-negative integer option. */
export function int(args: Args, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = str(args, name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw usageError('USAGE', `--${name} must be an integer in [${min}, ${max}], not '${v}'`);
  return Number(v);
}

/** A consent id given on the command line (CONSENT_ID_INVALID unless 64 lowercase hex). */
export function consentIdArg(consentId: string): string {
  if (!/^[0-9a-f]{64}$/.test(consentId)) throw usageError('CONSENT_ID_INVALID', `a consent id is 64 lowercase hex characters, not '${consentId}'`);
  return consentId;
}

/** The --help text of a command. */
export function helpText(command: Command): string {
  const pos = (command.positionals ?? []).map((p) => (p.optional === true ? `[${p.name}]` : `<${p.name}>`) + (p.variadic === true ? '…' : '')).join(' ');
  const lines = [`Usage: credex ${command.path.join(' ')} [options]${pos === '' ? '' : ' ' + pos}`, '', command.summary, ''];
  if ((command.positionals ?? []).length > 0) {
    lines.push('Arguments:');
    for (const p of command.positionals ?? []) lines.push(`  ${p.name.padEnd(28)} ${p.description}`);
    lines.push('');
  }
  const render = (opts: Record<string, OptionSpec>): void => {
    for (const [name, o] of Object.entries(opts)) {
      const flag = `${o.short === undefined ? '    ' : `-${o.short}, `}--${name}${o.value === undefined ? '' : ' ' + o.value}`;
      lines.push(`  ${flag.padEnd(28)} ${o.description}`);
    }
  };
  if (Object.keys(command.options).length > 0) {
    lines.push('Options:');
    render(command.options);
    lines.push('');
  }
  lines.push('Common options:');
  render(GLOBAL_OPTIONS);
  if (command.examples !== undefined && command.examples.length > 0) {
    lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  }
  lines.push('', 'Exit codes: 0 ok, 1 refused or failed, 2 bad usage or input, 3 exchange unreachable.');
  return lines.join('\n') + '\n';
}
