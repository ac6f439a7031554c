// The JetStream contract between agent and collector: stream and subject names, and message ids. No NATS
// client here (proto/nats-stream.ts connects and creates the stream), so naming costs nothing to load.

export const FINDINGS_STREAM = 'VIGIL_FINDINGS';
export const FINDINGS_SUBJECTS = 'vigil.findings.>';
export const DEFAULT_CLUSTER = 'default';
/**
 * Agents' inbox prefix: a JetStream publish is a request whose PubAck comes back on the publisher's inbox, so
 * agents may subscribe here (and only here): the default `_INBOX.>` would also carry the collector's pulls.
 */
export const AGENT_INBOX_PREFIX = '_INBOX_vigil_agent';

const SUBJECT_PREFIX = 'vigil.findings.';
const CLUSTER_RE = /^[A-Za-z0-9_-]{1,63}$/;
/** DNS-1123 subdomain: dots make extra subject tokens, which is fine; wildcards and spaces cannot occur. */
const NODE_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The subject an agent publishes on: `vigil.findings.<cluster>.<node>`. Throws on names a subject cannot carry. */
export function findingsSubject(cluster: string, node: string): string {
  if (!CLUSTER_RE.test(cluster)) throw new Error(`cluster name ${JSON.stringify(cluster)} must match ${CLUSTER_RE}`);
  if (!NODE_RE.test(node) || node.length > 253) throw new Error(`node name ${JSON.stringify(node)} is not a DNS subdomain`);
  return `${SUBJECT_PREFIX}${cluster}.${node}`;
}

/** The cluster and node a findings subject names (the only node a message on it may speak for), or undefined. */
export function parseFindingsSubject(subject: string): { cluster: string; node: string } | undefined {
  if (!subject.startsWith(SUBJECT_PREFIX)) return undefined;
  const rest = subject.slice(SUBJECT_PREFIX.length);
  const dot = rest.indexOf('.');
  if (dot < 0) return undefined;
  const cluster = rest.slice(0, dot);
  const node = rest.slice(dot + 1);
  return CLUSTER_RE.test(cluster) && NODE_RE.test(node) && node.length <= 253 ? { cluster, node } : undefined;
}

/** Message id for JetStream's duplicate window: a resent message is stored once. */
export const messageId = (node: string, seq: number): string => `${node}:${seq}`;
