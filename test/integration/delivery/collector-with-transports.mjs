// A real collector process for the delivery tests while `vigil-collector serve` does not yet take the
// streaming options: the collector's own startCollector (REST, store, metrics) from dist/, plus
// startTransports — the same few lines the serve command gets once wired. Same flags as serve.
import { Command } from 'commander';
import { createLogger } from '../../../dist/collector/log.js';
import { addServeOptions, resolveServeOptions } from '../../../dist/collector/serve/options.js';
import { startCollector } from '../../../dist/collector/serve/start.js';
import { startTransports, transportOptions } from '../../../dist/collector/ingest/transports.js';

const serve = addServeOptions(new Command('serve'));
for (const o of transportOptions()) serve.addOption(o);
serve.action(async (raw) => {
  const log = createLogger(raw.logLevel);
  const collector = await startCollector(resolveServeOptions(raw), { log });
  let closeTransports;
  try {
    closeTransports = await startTransports(raw, collector.ingestor, log, collector.metrics.registry);
  } catch (err) {
    log.error({ err: err.message }, 'transports failed to start');
    await collector.close();
    process.exitCode = 2;
    return;
  }
  const stop = () => { closeTransports().then(() => collector.close()).then(() => { process.exitCode = 0; }); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
});
serve.parseAsync(process.argv).catch((err) => { process.stderr.write(`collector: ${err.message}\n`); process.exitCode = 2; });
