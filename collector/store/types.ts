// The one store interface. SQLite (embedded default) and PostgreSQL implement it and pass the same suite.
import { STATUSES, type Finding, type Severity, type Status, type Summary } from '../../proto/report.js';
import type { IdentityKind, IngestMessage, IngestResult } from './messages.js';
import type { SeqPosition } from './sequence.js';

export type { SeqPosition } from './sequence.js';

/** A finding as stored: the agent's finding plus its life on the collector. Times are ms since the epoch. */
export interface StoredFinding {
  node: string;
  finding: Finding;
  firstSeen: number;
  /** Open findings: the node's last scan (every report confirms the whole open set). Resolved: when last seen. */
  lastSeen: number;
  /** When the finding was first stored, or its status/content last changed, or it was reopened. */
  changedAt: number;
  resolvedAt: number | null;
}

/**
 * `problems`: failures, then errors, warnings, passes and skips, each most severe first, then most recently changed;
 * `severity`: most severe first whatever the status; `recent`: most recently changed; `node`: by node and id.
 */
export const FINDING_SORTS = ['problems', 'severity', 'recent', 'node'] as const;
export type FindingSort = (typeof FINDING_SORTS)[number];

/** `resolved` selects resolved findings; the other statuses select open findings with that status. */
export const LIFECYCLE_STATUSES = [...STATUSES, 'resolved'] as const;
export type LifecycleStatus = (typeof LIFECYCLE_STATUSES)[number];

export interface FindingQuery {
  node?: string;
  status?: LifecycleStatus[];
  severity?: Severity[];
  check?: string;
  /** A CIS id or section prefix: `4.2` matches 4.2 and 4.2.*. */
  cis?: string;
  component?: string;
  namespace?: string;
  pod?: string;
  /** Changed (new, status change, reopened) at or after this time. */
  since?: number;
  /** Case-insensitive substring of the finding's JSON (title, ids, resource, evidence, remediation). */
  q?: string;
  sort: FindingSort;
  limit: number;
  /** Sort key of the last item of the previous page (decoded cursor). */
  after?: unknown[];
}

export interface Page<T> {
  items: T[];
  /** Sort key of the last item when more may follow. */
  nextAfter: unknown[] | null;
}

export interface NodeRecord {
  name: string;
  roles: string[];
  agentVersion: string | null;
  /** The node info of its last full report (os, kernel, components, ...). */
  info: Record<string, unknown>;
  firstSeen: number;
  /** When the collector last received a report or delta (collector clock). */
  lastReport: number;
  /** The agent's scan time of that report. */
  lastScan: number;
  lastSeq: number | null;
  /** The epoch lastSeq counts in (null: none known yet). */
  epoch?: string | null;
  /** Newest scan time of a sequenced message (agent clock, capped at the collector's plus a small skew). */
  seqScan?: number | null;
  /** Who wrote the node's last accepted message. */
  identity?: NodeIdentity | null;
  /** When the node first reported with an identity tied to it; from then on only such identities may write it. */
  boundAt?: number | null;
  /** Counts of the node's open findings by status. */
  summary: Summary;
  /** The node's open failing findings by severity. */
  failingBySeverity: SeverityCounts;
}

export interface NodeIdentity {
  kind: IdentityKind;
  subject: string;
}

export type SeverityCounts = Record<Severity, number>;

export interface NodeQuery {
  role?: string;
  /** Only nodes whose last report is before (silent) / at or after (reporting) this time. */
  reportedBefore?: number;
  reportedSince?: number;
  limit: number;
  after?: string;
}

export interface FindingEvent {
  node: string;
  findingId: string;
  checkId: string;
  at: number;
  status: LifecycleStatus;
  event: FindingEventKind;
}

export const FINDING_EVENTS = ['new', 'changed', 'resolved', 'reopened'] as const;
export type FindingEventKind = (typeof FINDING_EVENTS)[number];

export interface ScorePoint {
  at: number;
  summary: Summary;
}

export interface CheckRecord {
  checkId: string;
  cis: string | null;
  title: string;
  component: string;
  severity: Severity;
  /** Open findings of this check by status, across all nodes. */
  counts: Summary;
}

export interface OpenCount {
  status: Status;
  severity: Severity;
  n: number;
}

/** A light row for drift: one open finding's effective setting. */
export interface SettingRow {
  node: string;
  findingId: string;
  checkId: string;
  status: Status;
  severity: Severity;
  /** Canonical JSON of evidence.value, or null when the finding carries no value. */
  valueKey: string | null;
}

/** One way an open finding can be a correlation input: every given field must match (each is an IN list). */
export interface FactClause {
  checkIds?: string[];
  checkIdPrefixes?: string[];
  resourceKinds?: string[];
  evidenceKeys?: string[];
  pss?: string[];
  excludeStatus?: Status[];
}

/** Which open findings the correlation rules read in full: those matching any clause. */
export type FactSelector = FactClause[];

/** The cluster's open findings at one time: what GET /api/v1/trend plots. `at` is the start of the hour it stands for. */
export interface TrendSample {
  at: number;
  /** Open failing findings by severity. */
  failing: SeverityCounts;
  /** Open findings by status. */
  open: Summary;
}

/** One change in the cluster's findings: a status event, or a finding's first status (`new`, kept on its row). */
export interface ChangeRecord {
  at: number;
  node: string;
  findingId: string;
  checkId: string;
  event: FindingEventKind;
  status: LifecycleStatus;
  /** The finding as last reported (title, severity, component). */
  finding: Finding;
  /** 0 for `new`, else the event's id: with (at, node, findingId) the sort key. */
  seq: number;
}

export type ChangeKey = [at: number, node: string, findingId: string, seq: number];

export interface ChangesQuery {
  since: number;
  node?: string;
  limit: number;
  /** Sort key of the last item of the previous page. */
  after?: ChangeKey;
}

/** One finding's life on a node within a window: when it last started failing, when it was resolved, its events. */
export interface HistoryRecord {
  /** The finding as last reported. */
  finding: Finding;
  /** `resolved`, or the open finding's status. */
  status: LifecycleStatus;
  openedAt: number | null;
  resolvedAt: number | null;
  /** Its first status (when in the window) and its status events in the window, newest first. */
  events: Array<{ at: number; event: FindingEventKind; status: LifecycleStatus }>;
  /** Its last change or resolution: the sort key, with the finding id. */
  activity: number;
}

export type HistoryKey = [activity: number, findingId: string];

export interface HistoryQuery {
  since: number;
  limit: number;
  after?: HistoryKey;
}

/** What one committed ingest transaction changed in the stored findings (observers of the store hear it). */
export interface StoredChanges {
  /** Nodes whose findings changed, or that are new (at most MAX_CHANGED_NODES). */
  nodes: string[];
  /** More nodes changed than `nodes` lists. */
  truncated: boolean;
  /** New findings and reopened ones. */
  opened: number;
  /** Open findings whose status or content changed. */
  changed: number;
  resolved: number;
}

export const MAX_CHANGED_NODES = 100;

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Applies pending migrations; returns the schema version. */
  migrate(): Promise<number>;
  /**
   * Readiness: real queries; when the last write failed for a store fault (a full disk), a probe write as well, so
   * the store is not ready until writes work again. Throws StoreUnavailableError (store/errors.ts) when a fault is known.
   */
  ping(): Promise<void>;
  /** Applies validated messages in order, in one transaction, deduping by (node, seq). */
  applyBatch(messages: IngestMessage[], receivedAt: number): Promise<IngestResult[]>;
  lastSeq(node: string): Promise<number | undefined>;
  /** Where the node's message order stands (epoch, seq), undefined for an unknown node. */
  position(node: string): Promise<SeqPosition | undefined>;

  findings(query: FindingQuery): Promise<Page<StoredFinding>>;
  nodes(query: NodeQuery): Promise<Page<NodeRecord>>;
  node(name: string): Promise<NodeRecord | undefined>;
  /** Every node (for correlation). */
  allNodes(): Promise<NodeRecord[]>;
  /** How many nodes, and how many last reported before `silentBefore`. */
  nodeCounts(silentBefore: number): Promise<{ total: number; silent: number }>;
  /** Refreshes the query planner's statistics (after large ingests and periodically). */
  optimize(): Promise<void>;
  findingEvents(node: string, limit: number, findingId?: string): Promise<FindingEvent[]>;
  nodeScores(node: string, limit: number): Promise<ScorePoint[]>;
  checks(): Promise<CheckRecord[]>;
  /** Open findings across the cluster by status and severity. */
  openCounts(): Promise<OpenCount[]>;

  settings(resourceKinds: string[]): Promise<SettingRow[]>;
  facts(selector: FactSelector): Promise<StoredFinding[]>;

  recordClusterScore(at: number, score: unknown): Promise<void>;
  clusterScores(limit: number): Promise<Array<{ at: number; score: unknown }>>;
  /** Deletes findings resolved before `before` (with their events) and score history older than it; returns how many findings. */
  purgeResolved(before: number): Promise<number>;

  /** Keeps `sample` as the point of its hour (a later sample of the same hour replaces it). */
  recordTrend(sample: TrendSample): Promise<void>;
  /** Deletes trend points older than `before`. */
  pruneTrend(before: number): Promise<void>;
  /** Trend points from `since` (the hour that contains it) on, in time order. */
  trend(since: number): Promise<TrendSample[]>;
  /** Status events and first statuses across the cluster (or one node) since a time, newest first. */
  changes(query: ChangesQuery): Promise<Page<ChangeRecord>>;
  /** The node's findings that failed, resolved or changed status since `query.since`, most recent activity first. */
  nodeHistory(node: string, query: HistoryQuery): Promise<Page<HistoryRecord>>;
  /** Calls `listener` after every ingest transaction that changed stored findings or added a node, once committed. */
  observe(listener: (changes: StoredChanges) => void): void;
  close(): Promise<void>;
}
