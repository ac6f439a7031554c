// How agent and collector reach NATS: the same options on both command lines (server, one way of
// authenticating, TLS) and the connection they make. Only the collector manages the stream
// (collector/ingest/transports/findings-stream.ts); agents only publish. Names are in proto/nats.ts.
import { existsSync, readFileSync } from 'node:fs';
import { Option } from 'commander';
import type { Authenticator, ConnectionOptions, NatsConnection } from 'nats';
import { redactUrl } from '../common/address.js';

/** The NATS client itself is loaded only to connect: an agent that ships over gRPC never loads it (a few MiB resident). */
type Nats = typeof import('nats');

export interface NatsClientOptions {
  /** One server URL or a comma list (`nats://`, `tls://`). */
  url: string;
  name: string;
  user?: string;
  password?: string;
  token?: string;
  /** A user nkey seed (`SU…`), read at every connect so a rotated seed is taken. */
  nkeySeedFile?: string;
  /** A credentials file (JWT and nkey seed), read at every connect. */
  credsFile?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** Where the replies to this client's requests arrive (its JetStream PubAcks): what its permissions allow it. */
  inboxPrefix?: string;
}

/** `vigil-agent run` and `vigil-collector serve` values (camelCase) of the options below. */
interface NatsValues {
  natsUrl?: string;
  natsUser?: string;
  natsPassword?: string;
  natsToken?: string;
  natsNkeySeedFile?: string;
  natsCreds?: string;
  natsTlsCa?: string;
  natsTlsCert?: string;
  natsTlsKey?: string;
}

/** The NATS connection options both commands take (besides --nats-url, which each describes itself). */
export function natsClientOptions(): Option[] {
  return [
    new Option('--nats-user <name>', 'NATS user (with --nats-password)'),
    new Option('--nats-password <password>', 'NATS password (shows in the process list: prefer an nkey or credentials file)'),
    new Option('--nats-token <token>', 'NATS authentication token'),
    new Option('--nats-nkey-seed-file <file>', 'NATS user nkey seed (SU…)'),
    new Option('--nats-creds <file>', 'NATS credentials file (JWT and nkey seed)'),
    new Option('--nats-tls-ca <file>', 'CA bundle for the NATS server certificate'),
    new Option('--nats-tls-cert <file>', 'client certificate for NATS'),
    new Option('--nats-tls-key <file>', 'client key for NATS'),
  ];
}

/** The client options the values name; throws when they contradict each other or a file is missing. */
export function natsClientFromValues(values: object, name: string, inboxPrefix?: string): NatsClientOptions {
  const v = values as NatsValues;
  const ways = [v.natsUser || v.natsPassword ? '--nats-user/--nats-password' : '', v.natsToken ? '--nats-token' : '',
    v.natsNkeySeedFile ? '--nats-nkey-seed-file' : '', v.natsCreds ? '--nats-creds' : ''].filter(Boolean);
  if (ways.length > 1) throw new Error(`NATS takes one way of authenticating, not ${ways.join(' and ')}`);
  if (v.natsPassword && !v.natsUser) throw new Error('--nats-password needs --nats-user');
  if (Boolean(v.natsTlsCert) !== Boolean(v.natsTlsKey)) throw new Error('--nats-tls-cert and --nats-tls-key go together');
  for (const [flag, file] of [['--nats-nkey-seed-file', v.natsNkeySeedFile], ['--nats-creds', v.natsCreds], ['--nats-tls-ca', v.natsTlsCa],
    ['--nats-tls-cert', v.natsTlsCert], ['--nats-tls-key', v.natsTlsKey]] as const) {
    if (file && !existsSync(file)) throw new Error(`${flag}: no file ${file}`);
  }
  return {
    url: v.natsUrl!, name, user: v.natsUser, password: v.natsPassword, token: v.natsToken, nkeySeedFile: v.natsNkeySeedFile,
    credsFile: v.natsCreds, tlsCa: v.natsTlsCa, tlsCert: v.natsTlsCert, tlsKey: v.natsTlsKey, inboxPrefix,
  };
}

function authenticator(nats: Nats, o: NatsClientOptions): Authenticator | undefined {
  const { credsAuthenticator, nkeyAuthenticator, tokenAuthenticator, usernamePasswordAuthenticator } = nats;
  if (o.user) return usernamePasswordAuthenticator(o.user, o.password);
  if (o.token) return tokenAuthenticator(o.token);
  const seedFile = o.nkeySeedFile;
  if (seedFile) return nkeyAuthenticator(() => new TextEncoder().encode(readFileSync(seedFile, 'utf8').trim()));
  const credsFile = o.credsFile;
  if (credsFile) return credsAuthenticator(() => readFileSync(credsFile));
  return undefined;
}

function natsConnectionOptions(nats: Nats, o: NatsClientOptions): ConnectionOptions {
  const opts: ConnectionOptions = {
    servers: o.url.split(',').map((s) => s.trim()).filter(Boolean),
    name: o.name,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    timeout: 5_000,
  };
  const auth = authenticator(nats, o);
  if (auth) opts.authenticator = auth;
  if (o.inboxPrefix) opts.inboxPrefix = o.inboxPrefix;
  if (o.tlsCa || o.tlsCert) {
    opts.tls = { caFile: o.tlsCa, certFile: o.tlsCert, keyFile: o.tlsKey };
  }
  return opts;
}

export async function connectNats(o: NatsClientOptions): Promise<NatsConnection> {
  const nats = await import('nats');
  return nats.connect(natsConnectionOptions(nats, o));
}

/** The server URLs as logs may show them: without any user:password@. */
export const natsUrlForLog = (o: NatsClientOptions): string => redactUrl(o.url);
