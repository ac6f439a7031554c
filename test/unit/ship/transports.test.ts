// The transports as components on both sides. The agent's: --transport takes a comma list (both = grpc,nats), the default is
// every transport whose address is given, and run's durations and sizes use the common parsers.
import { Command } from 'commander';
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../agent/program.js';
import { chooseTransports, parseTransportList, TRANSPORTS } from '../../../agent/ship/transports/index.js';
import { addTransportOptions, startTransports, TRANSPORTS as COLLECTOR_TRANSPORTS } from '../../../collector/ingest/transports/index.js';
import type { Ingestor } from '../../../collector/ingest/types.js';

/** `vigil-agent run ARGS` parsed, its action replaced by a capture. */
async function runOptions(args: string[]): Promise<Record<string, unknown>> {
  const program = buildProgram().exitOverride();
  const run = program.commands.find((c) => c.name() === 'run') as Command;
  run.exitOverride().configureOutput({ writeErr: () => undefined });
  let captured: Record<string, unknown> | undefined;
  run.action((opts: Record<string, unknown>) => { captured = opts; });
  await program.parseAsync(['node', 'vigil-agent', 'run', ...args]);
  return captured!;
}

describe('agent transports', () => {
  it('are listed once, by name', () => {
    expect(TRANSPORTS.map((t) => t.name)).toEqual(['grpc', 'nats']);
  });

  it('--transport takes one name, a comma list, or both', () => {
    expect(parseTransportList('grpc')).toEqual(['grpc']);
    expect(parseTransportList('nats,grpc')).toEqual(['grpc', 'nats']);
    expect(parseTransportList('grpc, nats,grpc')).toEqual(['grpc', 'nats']);
    expect(parseTransportList('both')).toEqual(['grpc', 'nats']);
    expect(() => parseTransportList('grpc,carrier-pigeon')).toThrow(/unknown transport "carrier-pigeon"/);
    expect(() => parseTransportList(',')).toThrow(/expected grpc, nats/);
  });

  it('defaults to every transport whose address is given, and names what a chosen one lacks', () => {
    const tls = { tlsCa: 'ca', tlsCert: 'c', tlsKey: 'k' };
    expect(chooseTransports({ collector: 'c:1', ...tls }).map((t) => t.name)).toEqual(['grpc']);
    expect(chooseTransports({ natsUrl: 'nats://127.0.0.1:4222' }).map((t) => t.name)).toEqual(['nats']);
    expect(chooseTransports({ collector: 'c:1', insecure: true, natsUrl: 'nats://x' }).map((t) => t.name)).toEqual(['grpc', 'nats']);
    expect(chooseTransports({ transport: ['nats'], collector: 'c:1', natsUrl: 'nats://x' }).map((t) => t.name)).toEqual(['nats']);
    expect(() => chooseTransports({})).toThrow(/no transport: give --collector HOST:PORT \(grpc\) or --nats-url URL \(nats\)/);
    expect(() => chooseTransports({ transport: ['grpc', 'nats'], collector: 'c:1', insecure: true })).toThrow('--transport nats needs --nats-url');
    expect(() => chooseTransports({ transport: ['grpc'], natsUrl: 'nats://x' })).toThrow('--transport grpc needs --collector');
    expect(() => chooseTransports({ collector: 'c:1' })).toThrow(/--tls-ca, --tls-cert and --tls-key \(or --insecure/);
  });

  it('vigil-agent run parses --transport, durations and sizes with the common parsers', async () => {
    const defaults = await runOptions(['--collector', '127.0.0.1:7443', '--insecure']);
    expect(defaults).toMatchObject({ rescanInterval: 300_000, fastInterval: 500, fullInterval: 300_000, outboxMaxBytes: 64 * 1024 ** 2, cluster: 'default' });
    expect(defaults.transport).toBeUndefined();
    const opts = await runOptions(['--transport', 'both', '--collector', '[::1]:7443', '--nats-url', 'nats://127.0.0.1:4222',
      '--rescan-interval', '90', '--full-interval', '1h30m', '--outbox-max-bytes', '64MB', '--metrics-listen', ':9110']);
    expect(opts).toMatchObject({ transport: ['grpc', 'nats'], collector: '[::1]:7443', natsUrl: 'nats://127.0.0.1:4222',
      rescanInterval: 90_000, fullInterval: 5_400_000, outboxMaxBytes: 64_000_000, metricsListen: ':9110' });
    expect((await runOptions(['--full-interval', '7d', '--outbox-max-bytes', '32Mi'])).fullInterval).toBe(604_800_000);
    expect((await runOptions(['--outbox-max-bytes', '33554432'])).outboxMaxBytes).toBe(33_554_432);
    await expect(runOptions(['--rescan-interval', '0'])).rejects.toThrow(/too short/);
    await expect(runOptions(['--rescan-interval', '5x'])).rejects.toThrow(/not a duration/);
    await expect(runOptions(['--outbox-max-bytes', 'lots'])).rejects.toThrow(/not a size/);
    await expect(runOptions(['--collector', ':7443'])).rejects.toThrow(/names no host/);
    await expect(runOptions(['--metrics-listen', '9110'])).rejects.toThrow(/not HOST:PORT/);
    await expect(runOptions(['--transport', 'smoke-signals'])).rejects.toThrow(/unknown transport/);
  });
});

describe('collector transports', () => {
  const serve = (args: string[]): Record<string, unknown> =>
    addTransportOptions(new Command('serve').exitOverride().configureOutput({ writeErr: () => undefined }))
      .parse(args, { from: 'user' }).opts();
  const ingestor: Ingestor = { ingest: async () => ({ applied: true, duplicate: false }), lastSeq: async () => undefined, position: async () => undefined };
  const log = pino({ level: 'silent' });

  it('are listed once and bring their own serve options', () => {
    expect(COLLECTOR_TRANSPORTS.map((t) => t.name)).toEqual(['grpc', 'nats']);
    expect(serve([])).toEqual({ grpcMaxMessageBytes: 32 * 1024 ** 2, natsDurable: 'vigil-collector' });
    expect(serve(['--grpc-listen', '127.0.0.1:7443', '--grpc-max-message-bytes', '32MB', '--nats-url', 'nats://127.0.0.1:4222']))
      .toMatchObject({ grpcListen: '127.0.0.1:7443', grpcMaxMessageBytes: 32_000_000, natsUrl: 'nats://127.0.0.1:4222' });
    expect(serve(['--grpc-max-message-bytes', '1Mi']).grpcMaxMessageBytes).toBe(1024 ** 2);
    expect(() => serve(['--grpc-max-message-bytes', 'big'])).toThrow(/not a size/);
    expect(() => serve(['--grpc-listen', '7443'])).toThrow(/not HOST:PORT/);
  });

  it('start only what the options ask for, and refuse what cannot work with nothing left running', async () => {
    const none = await startTransports({}, ingestor, log, new Registry());
    await none();
    await expect(startTransports({ grpcListen: '127.0.0.1:0' }, ingestor, log, new Registry())).rejects.toThrow(/--tls-ca/);
    await expect(startTransports({ grpcListen: '0.0.0.0:0', insecure: true }, ingestor, log, new Registry())).rejects.toThrow(/loopback/);
    const grpc = await startTransports({ grpcListen: '127.0.0.1:0', insecure: true }, ingestor, log, new Registry());
    await grpc();
  });
});
