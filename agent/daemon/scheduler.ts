// When the daemon looks again, and at what. A full scan at start and every --rescan-interval; between them:
// - files the checks declare are watched (inotify): a change re-stats them and re-runs the checks that read them at
//   once, and a full gather confirms shortly after (content edits, new files);
// - the fast path, every --fast-interval: gather's probe (the pid list, a signature of the listening sockets) and the
//   polled inputs (kernel settings, at a period set by what reading them costs). A new listener re-gathers the
//   sockets; a component's process gone or a new one started (a restart with new flags) re-gathers the components,
//   and what follows from them only when a component's pid or command line really changed;
// - container runtime events: a task start re-gathers that container (and its sandbox, and the sockets) at once.
//   Without events, a change in the runtime's state dir re-gathers all containers, and a finding says so.
// Each re-gather (gather/probe.ts regather) re-reads only what it is asked, and only the checks that declare they read
// what changed run again. Work is serialized: what arrives during a scan is merged into the next one.
import { posix } from 'node:path';
import type { Logger } from 'pino';
import { summarize } from '../../proto/findings.js';
import type { Finding, NodeReport } from '../../proto/report.js';
import { evaluate, toFinding, type Check } from '../evaluate/check.js';
import { containerEventsFallbackCheck, pollingFallbackCheck } from '../evaluate/producers.js';
import { covers, inputTargets, type FactKind } from '../facts/inputs.js';
import type { Snapshot } from '../facts/snapshot.js';
import type { HostAccess } from '../gather/host.js';
import { buildReport, scanNode, selectChecks, type ScanOptions } from '../scan.js';
import type { AgentMetrics } from '../ship/metrics.js';
import { patchFileFacts, reevaluate } from '../watch/fast-path.js';
import { SensitiveFiles } from '../watch/sensitive.js';
import { sensitiveKind, watchTargets, type SensitiveKind, type WatchTarget } from '../watch/targets.js';
import { HostWatcher } from '../watch/watcher.js';
import type { ContainerdEvent } from '../gather/containers/events.js';
import type { ContainerEventStream, FastPathSources } from './sources.js';

export type ContainerWatchMode = 'auto' | 'events' | 'state-dir';

/** containerd's topic of each event kind: the label of the events metric. */
const TOPICS: Record<ContainerdEvent['kind'], string> = {
  'task-start': '/tasks/start', 'task-exit': '/tasks/exit', 'task-delete': '/tasks/delete',
  'container-create': '/containers/create', 'container-delete': '/containers/delete',
};

interface ScanSchedulerOptions {
  scan: ScanOptions;
  host: HostAccess;
  sources: FastPathSources;
  /** Where the sensitive-file baseline is kept (the outbox dir). */
  stateDir: string;
  rescanIntervalMs: number;
  /** The fast path's period; 0 turns it off. */
  fastIntervalMs: number;
  containerWatch: ContainerWatchMode;
  debounceMs?: number;
  /** Delay of the full gather that confirms a file change. */
  confirmDelayMs?: number;
  metrics: AgentMetrics;
  log: Logger;
  /** After each rescan (not the first scan): what triggered it and the changed paths it was given. */
  onScanned(trigger: string, paths: string[]): void;
}

/** Facts the fast path re-gathers on its own (containers: by id, or all of them). */
type FastChange = 'processes' | 'containers' | 'sockets' | 'kernel';

/** Share of one core a polled input may cost (its period grows with its cost, never below --fast-interval). */
const POLL_BUDGET = 0.002;
const MAX_POLL_MS = 60_000;
/** A broken event stream shows as a finding only when it stays broken this long (a runtime restart is quick). */
const EVENTS_GRACE_MS = 30_000;
/** After a burst of container events, the containers are read once more: a task's CRI status lags its start. */
const CONTAINER_CONFIRM_MS = 500;

/** A container's own process started or ended, or the container went: its facts changed (an exec's end did not). */
function changesPosture(e: ContainerdEvent): boolean {
  switch (e.kind) {
    case 'task-start': case 'container-delete': return true;
    case 'task-exit': case 'task-delete': return e.execId === '' || e.execId === e.containerId;
    default: return false;
  }
}

/** Sensitive files among the watch targets (dirs walked to their depth), with their kind. */
function sensitivePaths(host: HostAccess, targets: WatchTarget[], snapshot: Snapshot): Array<[string, SensitiveKind]> {
  const out = new Map<string, SensitiveKind>();
  for (const t of targets) {
    const paths = t.depth === undefined ? [t.path] : host.walk(t.path, 5_000)
      .filter((f) => f.type !== 'dir' && posix.relative(t.path, f.path).split('/').length <= t.depth! + 1)
      .map((f) => f.path);
    for (const p of paths) {
      const kind = sensitiveKind(p, snapshot);
      if (kind) out.set(p, kind);
    }
  }
  return [...out];
}

/** The checks that declare they read one of these facts. */
const checksReadingFacts = (checks: readonly Check[], kinds: ReadonlySet<FactKind>): Check[] =>
  checks.filter((c) => c.reads.some((i) => i.kind === 'fact' && kinds.has(i.fact)));

export class ScanScheduler {
  private readonly checks: Check[];
  /** The facts the selected checks declare they read: what is not read is not probed, polled or subscribed to. */
  private readonly declared: ReadonlySet<FactKind>;
  private readonly sources: FastPathSources;
  private sensitive!: SensitiveFiles;
  private snapshot!: Snapshot;
  private scanReport!: NodeReport;
  private targets: WatchTarget[] = [];
  private watcher?: HostWatcher;
  private timers: NodeJS.Timeout[] = [];
  private confirmTimer?: NodeJS.Timeout;
  private containerConfirmTimer?: NodeJS.Timeout;
  private stopped = false;

  // ---- work waiting for the loop ----
  private scanning?: Promise<void>;
  private fullTrigger?: string;
  private readonly fastChanges = new Set<FastChange>();
  /** The containers to re-gather: these ids, or every one. */
  private readonly containerIds = new Set<string>();
  private allContainers = false;
  private readonly changed = new Set<string>();
  private refresh = false;

  // ---- the fast path's last observations ----
  private listeners = '';
  private kernelSig = '';
  private kernelDueAt = 0;
  private kernelPeriodMs = 0;

  // ---- container events ----
  private events?: ContainerEventStream;
  /** Containers of the last burst of events, read once more after it. */
  private readonly confirmIds = new Set<string>();
  private eventsLive = false;
  private eventsEverLive = false;
  private eventsDownSince?: number;
  private eventsProblem?: string;
  private readonly conditions = new Map<string, Finding>();

  /** Duration of the last full scan (ms) and when it ended (epoch ms). */
  lastScanMs = 0;
  lastScanAt = 0;

  constructor(private readonly opts: ScanSchedulerOptions) {
    this.checks = selectChecks(opts.scan.only);
    this.declared = new Set(this.checks.flatMap((c) => c.reads).flatMap((i) => (i.kind === 'fact' ? [i.fact] : [])));
    this.sources = opts.sources;
  }

  get watchMode(): HostWatcher['mode'] | undefined { return this.watcher?.mode; }

  /** How new containers are seen right now. */
  get containerWatch(): 'events' | 'state-dir' | 'rescan' {
    if (this.eventsLive) return 'events';
    return this.opts.containerWatch === 'events' ? 'rescan' : 'state-dir';
  }

  /** The first full scan; resolves to the report() after it. */
  async start(): Promise<NodeReport> {
    const first = await this.scan('start');
    this.adopt(first);
    this.sensitive = new SensitiveFiles(this.opts.host, this.opts.stateDir);
    this.targets = watchTargets(this.snapshot, this.opts.scan);
    this.observeSensitivePaths(sensitivePaths(this.opts.host, this.targets, this.snapshot));
    return this.report();
  }

  /** The last scan's findings plus the agent's own: sensitive-file changes, the watchers' fallbacks, outbox trouble. */
  report(): NodeReport {
    // A failed save happens after the expired findings left memory: asking again returns the rest.
    const extra: Finding[] = [...this.baselineSafely(() => this.sensitive.findings(), () => this.sensitive.findings()), ...this.conditions.values()];
    const watcher = this.watcher;
    if (watcher?.mode === 'polling') {
      extra.push(toFinding(pollingFallbackCheck, {
        status: 'warn', resource: { kind: 'node' },
        evidence: { source: 'watch', detail: `watching ${watcher.watchedTargets} targets by polling: ${watcher.fallbackReason}` },
      }));
    }
    const events = this.eventsFinding();
    if (events) extra.push(events);
    if (extra.length === 0) return this.scanReport;
    const findings = [...this.scanReport.findings, ...extra];
    return { ...this.scanReport, findings, summary: summarize(findings) };
  }

  /**
   * A finding of the agent about itself (the outbox's disk, …), kept in every report until cleared with undefined;
   * a change is delivered as a delta at once.
   */
  setCondition(key: string, finding: Finding | undefined): void {
    const before = this.conditions.get(key);
    if (finding) this.conditions.set(key, finding);
    else this.conditions.delete(key);
    if (JSON.stringify(before) !== JSON.stringify(finding)) this.enqueueRefresh();
  }

  /** Starts watching: files, the fast path, container events and the periodic rescans. */
  watch(): void {
    const { metrics, log } = this.opts;
    this.watcher = new HostWatcher({
      host: this.opts.host,
      debounceMs: this.opts.debounceMs,
      onChange: (paths) => this.onPathsChanged(paths),
      onFallback: (reason) => {
        metrics.watchPolling.set(1);
        log.warn({ reason }, 'file watch limit reached; polling instead');
        this.enqueueFull('watch');
      },
      onError: (err) => log.warn({ err }, 'file watcher error'),
    });
    this.watcher.add(this.targets);
    this.timers.push(setInterval(() => this.enqueueFull('interval'), this.opts.rescanIntervalMs));
    this.observeProbe();
    if (this.opts.fastIntervalMs > 0) {
      this.timers.push(setInterval(() => this.tick(), this.opts.fastIntervalMs));
    }
    this.subscribeContainerEvents();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.confirmTimer);
    clearTimeout(this.containerConfirmTimer);
    await Promise.allSettled([this.watcher?.close(), this.events?.close()]);
    await this.scanning;
  }

  // ---- the fast path ----

  /** The probe's view now, as the baseline the next tick compares with. */
  private observeProbe(): void {
    this.sources.componentsMayHaveChanged(this.snapshot);
    if (this.declared.has('sockets')) this.listeners = this.sources.listeners();
    this.kernelSig = JSON.stringify(this.snapshot.kernel);
  }

  private tick(): void {
    if (this.stopped) return;
    const { metrics, log } = this.opts;
    const started = performance.now();
    try {
      if (this.sources.componentsMayHaveChanged(this.snapshot)) this.enqueueFast('processes');
      if (this.declared.has('sockets')) {
        const listeners = this.sources.listeners();
        if (listeners !== this.listeners) {
          this.listeners = listeners;
          this.enqueueFast('sockets');
        }
      }
      if (this.declared.has('kernel')) this.pollKernel();
    } catch (err) {
      log.warn({ err }, 'fast path probe failed');
    }
    metrics.fastPathSeconds.inc((performance.now() - started) / 1000);
  }

  /** Kernel settings have no change events: polled, at a period its measured cost sets. */
  private pollKernel(): void {
    const now = Date.now();
    if (now < this.kernelDueAt) return;
    const started = performance.now();
    const sig = JSON.stringify(this.sources.kernel());
    const cost = performance.now() - started;
    this.kernelPeriodMs = Math.min(MAX_POLL_MS, Math.max(this.opts.fastIntervalMs, cost / POLL_BUDGET));
    this.kernelDueAt = now + this.kernelPeriodMs - this.opts.fastIntervalMs / 2;
    if (sig !== this.kernelSig) this.enqueueFast('kernel');
  }

  // ---- container events ----

  private subscribeContainerEvents(): void {
    if (this.opts.containerWatch === 'state-dir' || !this.declared.has('containers') || this.events || this.stopped) return;
    const { metrics, log } = this.opts;
    this.events = this.sources.containerEvents({
      onEvent: (e: ContainerdEvent) => {
        metrics.containerEvents.inc({ topic: TOPICS[e.kind] });
        if (!changesPosture(e)) return;
        this.enqueueContainers([e.containerId]);
        this.confirmIds.add(e.containerId);
        clearTimeout(this.containerConfirmTimer);
        this.containerConfirmTimer = setTimeout(() => {
          const ids = [...this.confirmIds];
          this.confirmIds.clear();
          this.enqueueContainers(ids);
        }, CONTAINER_CONFIRM_MS);
      },
      onSubscribed: () => {
        const wasLive = this.eventsLive;
        this.eventsLive = true;
        this.eventsEverLive = true;
        this.eventsDownSince = undefined;
        this.eventsProblem = undefined;
        metrics.containerEventsSubscribed.set(1);
        log.info({ socket: this.events?.socket }, 'subscribed to container runtime events');
        // Nothing is replayed: what started while we were not subscribed is read now.
        if (!wasLive) this.enqueueContainers('all');
      },
      onUnavailable: (reason) => {
        if (this.eventsLive || this.eventsProblem === undefined) log.warn({ reason }, 'container runtime events unavailable; retrying');
        this.eventsLive = false;
        this.eventsDownSince ??= Date.now();
        this.eventsProblem = reason;
        metrics.containerEventsSubscribed.set(0);
        this.enqueueRefresh();
      },
    });
    if (!this.events) {
      this.eventsProblem = 'no containerd socket found (--cri-socket, /run/containerd/containerd.sock, /run/k3s/containerd/containerd.sock)';
    }
  }

  private eventsFinding(): Finding | undefined {
    if (this.opts.containerWatch === 'state-dir' || this.eventsLive || this.eventsProblem === undefined) return undefined;
    // A node with no container runtime at all has no containers to miss.
    const containers = this.snapshot.containers;
    if (containers.sources.length === 0 && containers.items.length === 0) return undefined;
    // Never subscribed: at once; a subscription that broke: when it stays broken.
    if (this.eventsEverLive && this.eventsDownSince !== undefined && Date.now() - this.eventsDownSince < EVENTS_GRACE_MS) return undefined;
    const fallback = this.opts.containerWatch === 'events'
      ? 'new containers are judged at the next rescan (--container-watch events)'
      : 'new containers are judged when the runtime state dir changes';
    return toFinding(containerEventsFallbackCheck, {
      status: 'warn', resource: { kind: 'node' },
      evidence: { source: 'watch', detail: `${this.eventsProblem}; ${fallback}` },
    });
  }

  /** A changed state-dir path means a container came or went, unless the runtime's events already say so. */
  private isRuntimeStatePath(p: string): boolean {
    return inputTargets({ kind: 'fact', fact: 'containers' }, this.snapshot, this.opts.scan).some((t) => covers(t, p));
  }

  private onPathsChanged(paths: Set<string>): void {
    for (const p of paths) {
      if (this.isRuntimeStatePath(p)) {
        if (this.opts.containerWatch !== 'events' && !this.eventsLive) this.enqueueContainers('all');
        continue;
      }
      this.changed.add(p);
    }
    if (this.changed.size > 0) this.kick();
  }

  // ---- the work loop ----

  private enqueueFull(trigger: string): void {
    this.fullTrigger = this.fullTrigger === 'interval' ? this.fullTrigger : trigger;
    this.kick();
  }

  private enqueueFast(change: FastChange): void {
    this.opts.metrics.fastPathChanges.inc({ change });
    this.fastChanges.add(change);
    this.kick();
  }

  private enqueueContainers(ids: readonly string[] | 'all'): void {
    if (ids === 'all') this.allContainers = true;
    else for (const id of ids) this.containerIds.add(id);
    this.enqueueFast('containers');
  }

  private enqueueRefresh(): void {
    this.refresh = true;
    this.kick();
  }

  /** Runs the loop now, or lets the one running pick the new work up. */
  private kick(): void {
    if (this.scanning || this.stopped || !this.snapshot) return;
    this.scanning = (async () => {
      while (!this.stopped && this.hasWork()) {
        const full = this.fullTrigger;
        const facts = new Set(this.fastChanges);
        const containers = this.allContainers ? 'all' as const : [...this.containerIds];
        const paths = [...this.changed];
        this.fullTrigger = undefined;
        this.fastChanges.clear();
        this.containerIds.clear();
        this.allContainers = false;
        this.changed.clear();
        this.refresh = false;
        try {
          if (full) await this.fullScan(full, paths);
          else await this.partial(facts, containers, paths);
        } catch (err) {
          this.opts.log.error({ err, trigger: full ?? [...facts, ...(paths.length ? ['watch'] : [])].join(',') }, 'rescan failed');
        }
        // Let timers and sockets in between: work that keeps coming must not starve /metrics or the transports.
        await new Promise((resolve) => setImmediate(resolve));
      }
    })().finally(() => {
      this.scanning = undefined;
      // Work queued between the loop's last look and here would wait for the next event otherwise.
      if (this.hasWork()) this.kick();
    });
  }

  private hasWork(): boolean {
    return this.fullTrigger !== undefined || this.fastChanges.size > 0 || this.changed.size > 0 || this.refresh;
  }

  private async scan(trigger: string): Promise<{ report: NodeReport; snapshot: Snapshot; ms: number }> {
    const { metrics } = this.opts;
    const started = performance.now();
    try {
      const r = await scanNode(this.opts.scan);
      const ms = performance.now() - started;
      metrics.scans.inc({ trigger, result: 'ok' });
      metrics.scanDuration.observe(ms / 1000);
      return { ...r, ms };
    } catch (err) {
      metrics.scans.inc({ trigger, result: 'error' });
      throw err;
    }
  }

  private adopt(r: { report: NodeReport; snapshot: Snapshot; ms: number }): void {
    this.snapshot = r.snapshot;
    this.scanReport = r.report;
    this.lastScanMs = r.ms;
    this.lastScanAt = Date.now();
  }

  private observeSensitive(paths: string[]): void {
    this.observeSensitivePaths(paths.flatMap((p) => {
      const kind = sensitiveKind(p, this.snapshot);
      return kind ? [[p, kind] as [string, SensitiveKind]] : [];
    }));
  }

  private observeSensitivePaths(paths: Array<[string, SensitiveKind]>): void {
    this.baselineSafely(() => this.sensitive.observe(paths), () => true);
  }

  /**
   * The sensitive-file baseline is saved beside the outbox: a full disk fails its save, not the scan (the baseline in
   * memory is current; the outbox's own finding says the disk is full).
   */
  private baselineSafely<T>(fn: () => T, fallback: () => T): T {
    try {
      return fn();
    } catch (err) {
      this.opts.log.warn({ err }, 'could not save the sensitive-file baseline');
      return fallback();
    }
  }

  private async fullScan(trigger: string, paths: string[]): Promise<void> {
    // What the probe sees from here on is compared with what this scan gathers.
    if (this.watcher) this.observeProbe();
    this.adopt(await this.scan(trigger));
    if (this.watcher) this.kernelSig = JSON.stringify(this.snapshot.kernel);
    if (trigger === 'interval') this.rewatch();
    else this.observeSensitive(paths);
    this.opts.onScanned(trigger, paths);
  }

  /** The components' files may have moved: watch what the snapshot names now. */
  private rewatch(): void {
    this.targets = watchTargets(this.snapshot, this.opts.scan);
    this.watcher?.add(this.targets);
    this.observeSensitivePaths(sensitivePaths(this.opts.host, this.targets, this.snapshot));
    if (!this.events) this.subscribeContainerEvents();
  }

  /** Re-gathers what the fast path asks for, patches the snapshot and re-runs the checks that read what changed. */
  private async partial(facts: Set<FastChange>, containers: string[] | 'all', paths: string[]): Promise<void> {
    const { metrics } = this.opts;
    const started = performance.now();
    const before = this.snapshot;
    let snapshot = before;
    const asked = (['processes', 'containers', 'sockets', 'kernel'] as const).filter((f) => facts.has(f));
    const byId = containers === 'all' || containers.length > 0 ? containers : undefined;
    if (facts.has('processes') || byId || facts.has('sockets')) {
      // A container's sockets come with it: also those it opens just after its start (the confirming re-read).
      if (byId && !asked.includes('sockets')) asked.splice(asked.indexOf('containers') + 1, 0, 'sockets');
      snapshot = (await this.sources.regather(snapshot, {
        processes: facts.has('processes'), sockets: facts.has('sockets') || byId !== undefined, ...(byId ? { containers: byId } : {}),
      }, this.opts.scan)).snapshot;
    }
    if (facts.has('kernel')) {
      const kernel = this.sources.kernel();
      this.kernelSig = JSON.stringify(kernel);
      snapshot = { ...snapshot, kernel };
    }
    let findings: Finding[] | undefined;
    let report: NodeReport | undefined;
    if (snapshot.components !== before.components || snapshot.ignoredProcesses !== before.ignoredProcesses) {
      // A component started, stopped or runs with other flags: what follows from it (its files, settings, PKI, CNI,
      // the node's roles) was re-gathered, and is judged again as a scan judges it.
      report = buildReport(snapshot, this.checks);
      findings = report.findings;
    } else {
      const rerun = new Set<FactKind>();
      if (snapshot.containers !== before.containers) rerun.add('containers');
      if (snapshot.sockets !== before.sockets) rerun.add('sockets');
      if (snapshot.kernel !== before.kernel) rerun.add('kernel');
      if (rerun.size > 0) {
        const checks = checksReadingFacts(this.checks, rerun);
        const ids = new Set(checks.map((c) => c.id));
        findings = [...this.scanReport.findings.filter((f) => !ids.has(f.checkId)), ...evaluate(snapshot, checks)];
      }
    }
    if (paths.length > 0) {
      const changed = new Set(paths);
      const patched = patchFileFacts(snapshot, this.opts.host, changed);
      snapshot = patched.snapshot;
      findings = reevaluate(findings ?? this.scanReport.findings, snapshot, this.checks, changed) ?? findings;
      this.observeSensitive(paths);
      // A full gather confirms a file change shortly after (content edits, files the patch cannot see).
      clearTimeout(this.confirmTimer);
      this.confirmTimer = setTimeout(() => this.enqueueFull('confirm'), this.opts.confirmDelayMs ?? 1_000);
    }
    this.snapshot = snapshot;
    if (findings) {
      this.scanReport = { ...(report ?? this.scanReport), scannedAt: new Date().toISOString(), findings, summary: summarize(findings) };
    }
    if (report) this.rewatch();
    const trigger = [...asked, ...(paths.length > 0 ? ['watch'] : [])].join(',') || 'refresh';
    if (asked.length > 0 || paths.length > 0) {
      metrics.scans.inc({ trigger: paths.length > 0 && asked.length === 0 ? 'watch' : 'fast', result: 'ok' });
      metrics.scanDuration.observe((performance.now() - started) / 1000);
    }
    this.opts.onScanned(trigger, paths);
  }
}
