#!/usr/bin/env node
// vigil-collector: `serve` runs the collector; `query` asks a running one from a terminal.
import { Command } from 'commander';
import { createLogger } from './log.js';
import { addTransportOptions, type TransportOptions } from './ingest/transports/index.js';
import { QueryError } from './query/client.js';
import { queryCommand } from './query/command.js';
import { certsCommand } from './certs/command.js';
import { addServeOptions, resolveServeOptions, type RawServeOptions } from './app/options.js';
import { startCollector, type RunningCollector } from './app/start.js';
import { VIGIL_VERSION } from '../proto/version.js';

function buildProgram(): Command {
  const program = new Command('vigil-collector')
    .description('Vigil collector: one picture of the cluster from every node\'s findings')
    .version(VIGIL_VERSION);

  const serve = addTransportOptions(addServeOptions(program.command('serve').description('run the collector: ingest, store, correlate, REST, metrics')));
  serve.action(async (raw: RawServeOptions & TransportOptions) => {
    const log = createLogger(raw.logLevel);
    let options;
    try {
      options = resolveServeOptions(raw);
    } catch (err) {
      process.stderr.write(`vigil-collector serve: ${(err as Error).message}\n`);
      process.exitCode = 2;
      return;
    }
    let collector: RunningCollector;
    try {
      collector = await startCollector(options, { log });
    } catch (err) {
      log.error({ err }, 'collector failed to start');
      // The log line is for machines; the operator at a terminal (or reading the pod's last words) gets one line.
      process.stderr.write(`vigil-collector serve: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 2;
      return;
    }
    const stop = (signal: NodeJS.Signals): void => {
      log.info({ signal }, 'stopping');
      // Everything that holds data is closed by now; lingering sockets (a client's keep-alive, an HTTP/2 session
      // of an agent that went away) must not delay the exit past the pod's grace period.
      collector.close().then(() => process.exit(0), (err: unknown) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

  program.addCommand(queryCommand());
  program.addCommand(certsCommand());
  return program;
}

buildProgram().parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof QueryError) {
    process.stderr.write(`vigil-collector query: ${err.message}\n`);
  } else {
    process.stderr.write(`vigil-collector: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  process.exitCode = 2;
});
