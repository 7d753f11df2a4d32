/**
 * The `credex` command line: finds the command from the words given, parses its options,
 * runs it, prints its outcome (text, or JSON with --json), and answers the exit code.
 * Every error is one line on stderr: `credex: CODE: text`.
 */
import type { Command, Io } from './command';
import { helpText, parseCommandArgs } from './command';
import { auditCommands } from './commands/audit';
import { bankCommands } from './commands/bank';
import { enterpriseCommands } from './commands/enterprise';
import { publisherCommands } from './commands/publisher';
import type { ExitCode } from './errors';
import { EXIT, toCliError, usageError } from './errors';

/** Every command, in the order --help lists them. */
export const COMMANDS: readonly Command[] = [...enterpriseCommands, ...publisherCommands, ...bankCommands, ...auditCommands];

const AUDIENCES: [Command['audience'], string][] = [
  ['enterprise', 'Enterprise (市场主体, the data subject)'],
  ['publisher', 'Publisher (government, core enterprise)'],
  ['bank', 'Bank (金融机构)'],
  ['auditor', 'Auditor / regulator'],
  ['anyone', 'Anyone with a gateway'],
];

/** The top-level help: every command with its one-line summary. */
export function mainHelp(): string {
  const lines = ['Usage: credex <command> [options]', '', 'The command line of the credex credit data exchange (可信共享中枢).', ''];
  for (const [audience, title] of AUDIENCES) {
    const cmds = COMMANDS.filter((c) => c.audience === audience);
    if (cmds.length === 0) continue;
    lines.push(`${title}:`);
    for (const c of cmds) lines.push(`  ${c.path.join(' ').padEnd(20)} ${c.summary.split(/[.:]\s/)[0] ?? ''}`);
    lines.push('');
  }
  lines.push(
    'The exchange is found through ./data/config (written by `npm start`), or --gateway URL --token T.',
    'Every command takes --help and --json. Exit codes: 0 ok, 1 refused or failed, 2 bad usage or input, 3 exchange unreachable.',
  );
  return lines.join('\n') + '\n';
}

/** The command the words name (the longest matching path) and the remaining arguments. */
export function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  let best: Command | undefined;
  for (const c of COMMANDS) {
    if (c.path.every((w, i) => argv[i] === w) && (best === undefined || c.path.length > best.path.length)) best = c;
  }
  return best === undefined ? undefined : { command: best, rest: argv.slice(best.path.length) };
}

/** Runs the CLI on `argv` (without `node credex`); answers the exit code. */
export async function run(argv: string[], io: Io): Promise<ExitCode> {
  const json = argv.includes('--json');
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      io.stdout.write(mainHelp());
      return argv.length === 0 ? EXIT.USAGE : EXIT.OK;
    }
    const found = findCommand(argv);
    if (found === undefined) {
      const group = COMMANDS.filter((c) => c.path[0] === argv[0]);
      if (group.length > 0 && (argv[1] === undefined || argv[1].startsWith('-'))) {
        if (argv.includes('--help') || argv.includes('-h')) {
          io.stdout.write(`Usage: credex ${argv[0] ?? ''} <${group.map((c) => c.path[1] ?? '').join('|')}> [options]\n\n${group.map((c) => `  ${c.path.join(' ').padEnd(20)} ${c.summary}`).join('\n')}\n`);
          return EXIT.OK;
        }
        throw usageError('USAGE', `credex ${argv[0] ?? ''} needs a subcommand: ${group.map((c) => c.path[1] ?? '').join(', ')}`);
      }
      throw usageError('USAGE', `unknown command '${argv.filter((a) => !a.startsWith('-')).slice(0, 2).join(' ')}' (see credex --help)`);
    }
    const args = parseCommandArgs(found.command, found.rest);
    if (args.values.help === true) {
      io.stdout.write(helpText(found.command));
      return EXIT.OK;
    }
    const outcome = await found.command.run(args, io);
    io.stdout.write(args.values.json === true ? JSON.stringify(outcome.json, null, 2) + '\n' : outcome.human + '\n');
    return EXIT.OK;
  } catch (e) {
    const err = toCliError(e);
    const line = err.message.replace(/\s*\n\s*/g, ' ');
    if (json) io.stdout.write(JSON.stringify({ error: { code: err.code, message: err.text, exitCode: err.exitCode, ...(err.details === undefined ? {} : { details: err.details }) } }, null, 2) + '\n');
    io.stderr.write(`credex: ${line}\n`);
    return err.exitCode;
  }
}

/** The process's own surroundings. */
export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), now: () => Date.now() };
}
