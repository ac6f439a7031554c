// gRPC to the collector (agent/ship/grpc-client.ts): one long-lived mTLS stream, acks per seq.
import { readFileSync } from 'node:fs';
import { Option } from 'commander';
import { argParser } from '../../../common/cli.js';
import { collectorHost, GrpcSender } from '../grpc-client.js';
import type { OptionValues, TransportComponent } from './types.js';

interface GrpcValues {
  collector?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsServerName?: string;
  insecure?: boolean;
}

export const grpcTransport: TransportComponent = {
  name: 'grpc',
  requires: '--collector HOST:PORT',

  options: () => [
    new Option('--collector <host:port>', 'collector gRPC address')
      .argParser(argParser((text) => { collectorHost(text); return text; })),
    new Option('--tls-ca <file>', 'CA of the collector certificate'),
    new Option('--tls-cert <file>', 'client certificate naming this node (CN or DNS SAN)'),
    new Option('--tls-key <file>', 'client key'),
    new Option('--tls-server-name <name>', 'name expected in the collector certificate (default: the --collector host)'),
    new Option('--insecure', 'plaintext gRPC, loopback collectors only'),
  ],

  configured: (values) => Boolean((values as GrpcValues).collector),

  check(values) {
    const v = values as GrpcValues;
    if (!v.collector) throw new Error(`--transport grpc needs ${grpcTransport.requires}`);
    if (!v.insecure && !(v.tlsCa && v.tlsCert && v.tlsKey)) {
      throw new Error('gRPC needs --tls-ca, --tls-cert and --tls-key (or --insecure for a loopback collector)');
    }
  },

  async create(values: OptionValues, ctx) {
    const v = values as GrpcValues;
    return new GrpcSender({
      target: v.collector!, insecure: v.insecure, serverName: v.tlsServerName,
      tls: v.insecure ? undefined : { ca: readFileSync(v.tlsCa!), cert: readFileSync(v.tlsCert!), key: readFileSync(v.tlsKey!) },
      outbox: ctx.outbox, node: ctx.node, cluster: ctx.cluster, log: ctx.log, ...ctx.events,
    });
  },
};
