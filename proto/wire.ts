// The TypeScript side of proto/vigil.proto: the generated message types and codecs (proto/gen/, `npm run
// proto`) under the names agent and collector use, the gRPC service, and conversions between the JSON
// report types (proto/report.ts) and the wire.
import * as grpc from '@grpc/grpc-js';
import {
  AgentMessage, CollectorMessage, IngestService,
  type Delta as WireDelta, type Finding as WireFinding, type Heartbeat as WireHeartbeat,
  type NodeInfo as WireNodeInfo, type NodeReport as WireNodeReport, type Summary as WireSummary,
} from './gen/vigil.js';
import type { Finding, NodeReport } from './report.js';

export type { AgentMessage, CollectorMessage, WireHeartbeat };

/** Findings added or changed since the previous report, and ids of findings that are gone. */
export interface Delta {
  scannedAt: string;
  added: Finding[];
  changed: Finding[];
  resolved: string[];
}

/** What the agent queues and sends: a full snapshot or a delta, numbered. */
export type Payload = { kind: 'full'; report: NodeReport } | { kind: 'delta'; delta: Delta };
export interface Envelope {
  node: string;
  cluster: string;
  /** The agent run's numbering (random, kept with the outbox); '' from agents that predate epochs. */
  epoch?: string;
  seq: number;
  payload: Payload;
}

/** A heartbeat as it arrives: who sends it, the last seq it assigned, and its state. */
export interface HeartbeatEnvelope {
  node: string;
  cluster: string;
  epoch?: string;
  seq: number;
  heartbeat: WireHeartbeat;
}

/** Largest gRPC message either end accepts by default (a full snapshot of a big node fits with room). */
export const DEFAULT_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

// ---- service and codecs -------------------------------------------------------------------------------

export interface IngestClient extends grpc.Client {
  Report(metadata?: grpc.Metadata): grpc.ClientDuplexStream<AgentMessage, CollectorMessage>;
}

interface VigilProto {
  service: grpc.ServiceDefinition;
  Client: new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => IngestClient;
  encodeAgentMessage(m: AgentMessage): Buffer;
  decodeAgentMessage(b: Uint8Array): AgentMessage;
}

// `originalName` gives clients the method under its proto name (Report) as well as ts-proto's `report`,
// and lets a server implement it as `Report`.
const service = { report: { ...IngestService.report, originalName: 'Report' } } satisfies grpc.ServiceDefinition;

const vigilProto: VigilProto = {
  service,
  Client: grpc.makeGenericClientConstructor(service, 'vigil.v1.Ingest') as unknown as VigilProto['Client'],
  encodeAgentMessage: (m) => Buffer.from(AgentMessage.encode(m).finish()),
  decodeAgentMessage: (b) => AgentMessage.decode(b),
};

/** The Ingest service and the AgentMessage codec (generated; nothing is loaded at run time any more). */
export function loadVigilProto(): VigilProto {
  return vigilProto;
}

// ---- conversions --------------------------------------------------------------------------------------

const FINDING_KEYS = new Set(['id', 'checkId', 'cis', 'status', 'severity', 'title', 'component', 'resource',
  'evidence', 'remediation', 'pss', 'level']);

function findingToWire(f: Finding): WireFinding {
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) if (!FINDING_KEYS.has(k)) extra[k] = v;
  return {
    id: f.id, checkId: f.checkId, cis: f.cis ?? '', status: f.status, severity: f.severity, title: f.title,
    component: f.component, resourceJson: JSON.stringify(f.resource), evidenceJson: JSON.stringify(f.evidence),
    remediation: f.remediation, pss: f.pss ?? '', level: f.level ?? '',
    extraJson: Object.keys(extra).length > 0 ? JSON.stringify(extra) : '',
  };
}

/** Thrown for wire messages that cannot be turned back into report types (bad JSON, missing body). */
export class WireDecodeError extends Error {
  override name = 'WireDecodeError';
}

function parseJson(text: string, what: string): unknown {
  try { return JSON.parse(text); } catch { throw new WireDecodeError(`${what} is not valid JSON`); }
}

/** Unvalidated: the collector validates the result with the report's zod schemas. */
function findingFromWire(w: WireFinding): Finding {
  const extra = w.extraJson ? parseJson(w.extraJson, `finding ${w.id} extra`) : {};
  const f: Record<string, unknown> = {
    ...(typeof extra === 'object' && extra !== null ? extra : {}),
    id: w.id, checkId: w.checkId, cis: w.cis === '' ? null : w.cis, status: w.status, severity: w.severity,
    title: w.title, component: w.component,
    resource: parseJson(w.resourceJson, `finding ${w.id} resource`),
    evidence: parseJson(w.evidenceJson, `finding ${w.id} evidence`),
    remediation: w.remediation,
  };
  if (w.pss) f.pss = w.pss;
  if (w.level) f.level = w.level;
  return f as Finding;
}

function reportToWire(r: NodeReport): WireNodeReport {
  const n = r.node;
  return {
    schemaVersion: r.schemaVersion,
    node: {
      name: n.name, roles: n.roles, os: n.os ?? '', kernel: n.kernel ?? '', architecture: n.architecture ?? '',
      cpus: n.cpus ?? 0, memoryBytes: n.memoryBytes ?? 0, agentVersion: n.agentVersion ?? '',
      componentsJson: n.components ? JSON.stringify(n.components) : '',
    },
    scannedAt: r.scannedAt,
    findings: r.findings.map(findingToWire),
    summary: r.summary,
  };
}

function reportFromWire(w: WireNodeReport): NodeReport {
  const n: Partial<WireNodeInfo> = w.node ?? {};
  const node: Record<string, unknown> = { name: n.name ?? '', roles: n.roles ?? [] };
  if (n.os) node.os = n.os;
  if (n.kernel) node.kernel = n.kernel;
  if (n.architecture) node.architecture = n.architecture;
  if (n.cpus) node.cpus = n.cpus;
  if (n.memoryBytes) node.memoryBytes = n.memoryBytes;
  if (n.agentVersion) node.agentVersion = n.agentVersion;
  if (n.componentsJson) node.components = parseJson(n.componentsJson, 'node components');
  return {
    schemaVersion: w.schemaVersion as 1,
    node: node as NodeReport['node'],
    scannedAt: w.scannedAt,
    findings: (w.findings ?? []).map(findingFromWire),
    summary: w.summary as NodeReport['summary'],
  };
}

function deltaToWire(d: Delta): WireDelta {
  return { scannedAt: d.scannedAt, added: d.added.map(findingToWire), changed: d.changed.map(findingToWire), resolved: d.resolved };
}

function deltaFromWire(w: WireDelta): Delta {
  return {
    scannedAt: w.scannedAt,
    added: (w.added ?? []).map(findingFromWire),
    changed: (w.changed ?? []).map(findingFromWire),
    resolved: w.resolved ?? [],
  };
}

export function envelopeToWire(e: Envelope): AgentMessage {
  const base = { node: e.node, seq: e.seq, cluster: e.cluster, epoch: e.epoch ?? '' };
  return e.payload.kind === 'full'
    ? { ...base, report: reportToWire(e.payload.report) }
    : { ...base, delta: deltaToWire(e.payload.delta) };
}

/** The report or delta in a wire message; undefined for heartbeats. Throws WireDecodeError on a body-less message. */
export function envelopeFromWire(m: AgentMessage): Envelope | undefined {
  const decoded = messageFromWire(m);
  return 'payload' in decoded ? decoded : undefined;
}

/** The report, delta or heartbeat in a wire message. Throws WireDecodeError on a body-less message or bad JSON. */
export function messageFromWire(m: AgentMessage): Envelope | HeartbeatEnvelope {
  const base = { node: m.node, cluster: m.cluster, ...(m.epoch ? { epoch: m.epoch } : {}), seq: Number(m.seq) };
  if (m.report) return { ...base, payload: { kind: 'full', report: reportFromWire(m.report) } };
  if (m.delta) return { ...base, payload: { kind: 'delta', delta: deltaFromWire(m.delta) } };
  if (m.heartbeat) return { ...base, heartbeat: m.heartbeat };
  throw new WireDecodeError('message has no report, delta or heartbeat');
}
