#!/usr/bin/env node
// The vfio-replay command line: thin. Each command file parses its flags, calls the library and
// prints. Bad input of any kind surfaces as a UserError: one line on stderr, exit 2, no stack.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { commands } from './commands.js';
import { quietOnClosedOutput } from './pipe.js';
import { UserError } from '../errors.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  quietOnClosedOutput();
  const program = new Command();
  program
    .name('vfio-replay')
    .description('Replay VFIO PCI passthrough traces against a model of Linux vfio-pci and the VMM')
    .version(packageVersion())
    .exitOverride()
    // Usage errors (unknown flag, missing argument) look like every other bad-input error: one
    // line `vfio-replay: <message>`, exit 2. Commander's own text is "error: ..." and may carry a
    // second "(Did you mean ...?)" line; fold it into the one line.
    .configureOutput({
      outputError: (str, write) => write(`vfio-replay: ${str.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')} (see --help)\n`),
    });
  for (const register of commands) register(program);
  const unknown = unknownCommand(program, argv.slice(2));
  if (unknown !== null) {
    process.stderr.write(`vfio-replay: unknown command '${unknown}' (see --help)\n`);
    return 2;
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; flag errors with 1, which we report as 2.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UserError) {
      process.stderr.write(`vfio-replay: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

/**
 * The command word of `args` when it names no command (also in `help X` and before --help, where
 * commander would print the main help and exit 0): a typo must not look like success.
 */
function unknownCommand(program: Command, args: string[]): string | null {
  const names = new Set(program.commands.flatMap((c) => [c.name(), ...c.aliases()]));
  const word = args.find((a) => !a.startsWith('-'));
  if (word === undefined) return null;
  if (word === 'help') {
    const topic = args[args.indexOf(word) + 1];
    return topic !== undefined && !topic.startsWith('-') && !names.has(topic) ? topic : null;
  }
  return names.has(word) ? null : word;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // A bug in vfio-replay itself, not bad input: keep the stack for the report.
    console.error(err);
    process.exitCode = 70;
  },
);
