// gRPC to the collector (agent/ship/grpc-client.ts): one long-lived TLS stream, acks per seq. The agent proves
// its node with its ServiceAccount token (--token-file) or a client certificate (--tls-cert/--tls-key).
import { readFileSync } from 'node:fs';
import { Option } from 'commander';
import { argParser } from '../../../common/cli.js';
import { collectorHost, GrpcSender } from '../grpc-client.js';
import { tokenFilePath } from '../token.js';
import type { OptionValues, TransportComponent } from './types.js';

const NEEDS_TLS = 'gRPC needs --tls-ca, --tls-cert and --tls-key (or --insecure for a loopback collector), or --tls-ca and a '
  + 'ServiceAccount token (--token-file)';

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
    new Option('--tls-cert <file>', 'client certificate naming this node (its one DNS SAN, or its CN), when no token is used'),
    new Option('--tls-key <file>', 'client key'),
    new Option('--tls-server-name <name>', 'name expected in the collector certificate (default: the --collector host)'),
    new Option('--insecure', 'plaintext gRPC, loopback collectors only'),
  ],

  configured: (values) => Boolean((values as GrpcValues).collector),

  check(values) {
    const v = values as GrpcValues;
    if (!v.collector) throw new Error(`--transport grpc needs ${grpcTransport.requires}`);
    if (v.insecure) return;
    if (!v.tlsCa) throw new Error(NEEDS_TLS);
    if (Boolean(v.tlsCert) !== Boolean(v.tlsKey)) throw new Error('--tls-cert and --tls-key go together');
    if (!v.tlsCert && !tokenFilePath(values)) throw new Error(NEEDS_TLS);
  },

  async create(values: OptionValues, ctx) {
    const v = values as GrpcValues;
    const read = (file: string | undefined): Buffer | undefined => (file ? readFileSync(file) : undefined);
    return new GrpcSender({
      target: v.collector!, insecure: v.insecure, serverName: v.tlsServerName,
      tls: v.insecure ? undefined : { ca: readFileSync(v.tlsCa!), cert: read(v.tlsCert), key: read(v.tlsKey) },
      outbox: ctx.outbox, node: ctx.node, cluster: ctx.cluster, log: ctx.log, token: ctx.token, ...ctx.events,
    });
  },
};
