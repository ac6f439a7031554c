// The TypeScript side of proto/vigil.proto, in one place: message types (as @grpc/proto-loader presents
// them: camelCase fields, uint64 as number, oneof name in `body`), the loader, and conversions between the
// JSON report types (proto/report.ts) and the wire.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Finding, NodeReport } from './report.js';

export interface WireFinding {
  id: string;
  checkId: string;
  cis: string;
  status: string;
  severity: string;
  title: string;
  component: string;
  resourceJson: string;
  evidenceJson: string;
  remediation: string;
  pss: string;
  level: string;
  extraJson: string;
}

export interface WireSummary { pass: number; fail: number; warn: number; skip: number; error: number }

export interface WireNodeInfo {
  name: string;
  roles: string[];
  os: string;
  kernel: string;
  architecture: string;
  cpus: number;
  memoryBytes: number;
  agentVersion: string;
  componentsJson: string;
}

export interface WireNodeReport {
  schemaVersion: number;
  node: WireNodeInfo;
  scannedAt: string;
  findings: WireFinding[];
  summary: WireSummary;
}

export interface WireDelta {
  scannedAt: string;
  added: WireFinding[];
  changed: WireFinding[];
  resolved: string[];
}

export interface WireHeartbeat {
  agentVersion: string;
  node: string;
  lastScanDurationMs: number;
  outboxDepth: number;
  outboxBytes: number;
  foldedDeltas: number;
}

export interface AgentMessage {
  node: string;
  seq: number;
  cluster: string;
  body?: 'report' | 'delta' | 'heartbeat';
  report?: WireNodeReport | null;
  delta?: WireDelta | null;
  heartbeat?: WireHeartbeat | null;
}

export interface CollectorMessage {
  body?: 'ack' | 'reject' | 'resync';
  ack?: { seq: number; duplicate: boolean } | null;
  reject?: { seq: number; reason: string } | null;
  resync?: { reason: string } | null;
}

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
  seq: number;
  payload: Payload;
}

/** Largest gRPC message either end accepts by default (a full snapshot of a big node fits with room). */
export const DEFAULT_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

// ---- loader -------------------------------------------------------------------------------------------

function protoPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // Beside this module in the sources; from dist/proto/ the .proto stays in the source tree.
  for (const candidate of [join(here, 'vigil.proto'), join(here, '..', '..', 'proto', 'vigil.proto')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`vigil.proto not found beside ${here}`);
}

export interface VigilProto {
  service: grpc.ServiceDefinition;
  Client: grpc.ServiceClientConstructor;
  encodeAgentMessage(m: AgentMessage): Buffer;
  decodeAgentMessage(b: Buffer): AgentMessage;
}

let loaded: VigilProto | undefined;

export function loadVigilProto(): VigilProto {
  if (loaded) return loaded;
  const def = protoLoader.loadSync(protoPath(), {
    keepCase: false, longs: Number, enums: String, defaults: true, arrays: true, oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { vigil: { v1: { Ingest: grpc.ServiceClientConstructor } } };
  const Client = pkg.vigil.v1.Ingest;
  const method = Client.service.Report;
  loaded = {
    service: Client.service,
    Client,
    encodeAgentMessage: (m) => method.requestSerialize(m),
    decodeAgentMessage: (b) => method.requestDeserialize(b) as AgentMessage,
  };
  return loaded;
}

// ---- conversions --------------------------------------------------------------------------------------

const FINDING_KEYS = new Set(['id', 'checkId', 'cis', 'status', 'severity', 'title', 'component', 'resource',
  'evidence', 'remediation', 'pss', 'level']);

export function findingToWire(f: Finding): WireFinding {
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
export function findingFromWire(w: WireFinding): Finding {
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

export function reportToWire(r: NodeReport): WireNodeReport {
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

export function reportFromWire(w: WireNodeReport): NodeReport {
  const n = w.node ?? ({} as WireNodeInfo);
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
    summary: w.summary,
  };
}

export function deltaToWire(d: Delta): WireDelta {
  return { scannedAt: d.scannedAt, added: d.added.map(findingToWire), changed: d.changed.map(findingToWire), resolved: d.resolved };
}

export function deltaFromWire(w: WireDelta): Delta {
  return {
    scannedAt: w.scannedAt,
    added: (w.added ?? []).map(findingFromWire),
    changed: (w.changed ?? []).map(findingFromWire),
    resolved: w.resolved ?? [],
  };
}

export function envelopeToWire(e: Envelope): AgentMessage {
  const base = { node: e.node, seq: e.seq, cluster: e.cluster };
  return e.payload.kind === 'full'
    ? { ...base, report: reportToWire(e.payload.report) }
    : { ...base, delta: deltaToWire(e.payload.delta) };
}

/** The report or delta in a wire message; undefined for heartbeats. Throws WireDecodeError on a body-less message. */
export function envelopeFromWire(m: AgentMessage): Envelope | undefined {
  const base = { node: m.node, cluster: m.cluster, seq: Number(m.seq) };
  const body = m.body ?? (m.report ? 'report' : m.delta ? 'delta' : m.heartbeat ? 'heartbeat' : undefined);
  if (body === 'heartbeat') return undefined;
  if (body === 'report' && m.report) return { ...base, payload: { kind: 'full', report: reportFromWire(m.report) } };
  if (body === 'delta' && m.delta) return { ...base, payload: { kind: 'delta', delta: deltaFromWire(m.delta) } };
  throw new WireDecodeError('message has no report, delta or heartbeat');
}
