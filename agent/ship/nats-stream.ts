// The JetStream side shared by agent and collector: stream name, subjects, connection options, and the
// stream created with limits when it is missing.
import { readFileSync } from 'node:fs';
import {
  connect, credsAuthenticator, DiscardPolicy, nanos, RetentionPolicy, StorageType,
  type ConnectionOptions, type NatsConnection,
} from 'nats';

export const FINDINGS_STREAM = 'VIGIL_FINDINGS';
export const FINDINGS_SUBJECTS = 'vigil.findings.>';
export const DEFAULT_CLUSTER = 'default';

const CLUSTER_RE = /^[A-Za-z0-9_-]{1,63}$/;
/** DNS-1123 subdomain: dots make extra subject tokens, which is fine; wildcards and spaces cannot occur. */
const NODE_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function findingsSubject(cluster: string, node: string): string {
  if (!CLUSTER_RE.test(cluster)) throw new Error(`cluster name ${JSON.stringify(cluster)} must match ${CLUSTER_RE}`);
  if (!NODE_RE.test(node) || node.length > 253) throw new Error(`node name ${JSON.stringify(node)} is not a DNS subdomain`);
  return `vigil.findings.${cluster}.${node}`;
}

/** Message id for JetStream's duplicate window: a resent message is stored once. */
export const messageId = (node: string, seq: number): string => `${node}:${seq}`;

export interface NatsClientOptions {
  url: string;
  /** NATS credentials file (JWT + nkey seed). */
  credsFile?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  name: string;
}

export function natsConnectionOptions(o: NatsClientOptions): ConnectionOptions {
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

export interface StreamLimits {
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
