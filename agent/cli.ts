#!/usr/bin/env node
// vigil-agent's entry point. Every failure ends as one plain line on stderr and exit 2 (the command line, or a start
// that could not happen); exit 1 is the commands' own answer (`scan --fail-on`, an undelivered `run --once`).
import { CommanderError } from 'commander';
import { buildProgram, prepareHelp, UsageError } from './program.js';
import { log } from './log.js';

const program = buildProgram();
try {
  await prepareHelp(program, process.argv);
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // commander printed its own line ("error: option '--x <v>' argument 'y' is invalid. …"); help and version exit 0.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    if (!(err instanceof UsageError)) log.debug({ err }, 'vigil-agent failed');
    process.stderr.write(`vigil-agent: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  }
}
