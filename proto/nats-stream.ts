// The JetStream side shared by agent and collector: connection options, and the findings stream created
// with its limits when it is missing (its names are in proto/nats.ts).
import { readFileSync } from 'node:fs';
import {
  connect, credsAuthenticator, DiscardPolicy, nanos, RetentionPolicy, StorageType,
  type ConnectionOptions, type NatsConnection,
} from 'nats';
import { FINDINGS_STREAM, FINDINGS_SUBJECTS } from './nats.js';

export interface NatsClientOptions {
  url: string;
  /** NATS credentials file (JWT + nkey seed). */
  credsFile?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  name: string;
}

function natsConnectionOptions(o: NatsClientOptions): ConnectionOptions {
  const opts: ConnectionOptions = {
    servers: o.url.split(',').map((s) => s.trim()).filter(Boolean),
    name: o.name,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    timeout: 5_000,
  };
  if (o.credsFile) opts.authenticator = credsAuthenticator(readFileSync(o.credsFile));
  if (o.tlsCa || o.tlsCert) {
    opts.tls = { caFile: o.tlsCa, certFile: o.tlsCert, keyFile: o.tlsKey };
  }
  return opts;
}

export function connectNats(o: NatsClientOptions): Promise<NatsConnection> {
  return connect(natsConnectionOptions(o));
}

interface StreamLimits {
  maxAgeMs?: number;
  maxBytes?: number;
  maxMsgSize?: number;
  duplicateWindowMs?: number;
}

export async function ensureFindingsStream(nc: NatsConnection, limits: StreamLimits = {}): Promise<void> {
  const jsm = await nc.jetstreamManager();
  try {
    await jsm.streams.info(FINDINGS_STREAM);
    return;
  } catch (err) {
    if (!/stream not found/i.test((err as Error).message)) throw err;
  }
  try {
    await jsm.streams.add({
      name: FINDINGS_STREAM,
      subjects: [FINDINGS_SUBJECTS],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_age: nanos(limits.maxAgeMs ?? 7 * 24 * 3600 * 1000),
      max_bytes: limits.maxBytes ?? 1024 * 1024 * 1024,
      max_msg_size: limits.maxMsgSize ?? 8 * 1024 * 1024,
      duplicate_window: nanos(limits.duplicateWindowMs ?? 10 * 60 * 1000),
    });
  } catch (err) {
    // Another agent or collector created it between our info and add.
    if (!/already in use|already exists/i.test((err as Error).message)) throw err;
  }
}
