// When the daemon scans: the full scan at start, a watched change through the fast path (re-stat the changed
// files, re-run the checks that named them) confirmed by a full gather shortly after (it catches content
// edits), and periodic full rescans of what is not watched (processes, sockets, containers). Scans are
// serialized: a change during a scan runs one more scan after it.
import { posix } from 'node:path';
import type { Logger } from 'pino';
import { summarize } from '../../proto/findings.js';
import type { Finding, NodeReport } from '../../proto/report.js';
import { toFinding, type Check } from '../evaluate/check.js';
import type { HostAccess } from '../gather/host.js';
import { scanNode, selectChecks, type ScanOptions } from '../scan.js';
import type { AgentMetrics } from '../ship/metrics.js';
import type { Snapshot } from '../facts/snapshot.js';
import { pollingFallbackCheck } from '../evaluate/producers.js';
import { patchFileFacts, reevaluate } from '../watch/fast-path.js';
import { SensitiveFiles } from '../watch/sensitive.js';
import { sensitiveKind, watchTargets, type SensitiveKind, type WatchTarget } from '../watch/targets.js';
import { HostWatcher } from '../watch/watcher.js';

interface ScanSchedulerOptions {
  scan: ScanOptions;
  host: HostAccess;
  /** Where the sensitive-file baseline is kept (the outbox dir). */
  stateDir: string;
  rescanIntervalMs: number;
  debounceMs?: number;
  /** Delay of the full gather that confirms a fast-path change. */
  confirmDelayMs?: number;
  metrics: AgentMetrics;
  log: Logger;
  /** The check whose finding says file watching fell back to polling. */
  /** After each rescan (not the first scan): what triggered it and the changed paths it was given. */
  onScanned(trigger: string, paths: string[]): void;
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

export class ScanScheduler {
  private readonly checks: ReturnType<typeof selectChecks>;
  private sensitive!: SensitiveFiles;
  private snapshot!: Snapshot;
  private scanReport!: NodeReport;
  private targets: WatchTarget[] = [];
  private watcher?: HostWatcher;
  private interval?: NodeJS.Timeout;
  private confirmTimer?: NodeJS.Timeout;
  private scanning?: Promise<void>;
  private again?: string;
  private readonly changed = new Set<string>();
  /** Duration of the last full scan (ms) and when it ended (epoch ms). */
  lastScanMs = 0;
  lastScanAt = 0;

  constructor(private readonly opts: ScanSchedulerOptions) {
    this.checks = selectChecks(opts.scan.only);
  }

  get watchMode(): HostWatcher['mode'] | undefined { return this.watcher?.mode; }

  /** The first full scan; resolves to the report() after it. */
  async start(): Promise<NodeReport> {
    const first = await this.scan('start');
    this.adopt(first);
    this.sensitive = new SensitiveFiles(this.opts.host, this.opts.stateDir);
    this.targets = watchTargets(this.snapshot, this.opts.scan);
    this.sensitive.observe(sensitivePaths(this.opts.host, this.targets, this.snapshot));
    return this.report();
  }

  /** The last scan's findings plus the agent's own: sensitive-file changes, the polling fallback. */
  report(): NodeReport {
    const extra: Finding[] = this.sensitive.findings();
    const watcher = this.watcher;
    if (watcher?.mode === 'polling') {
      extra.push(toFinding(pollingFallbackCheck, {
        status: 'warn', resource: { kind: 'node' },
        evidence: { source: 'watch', detail: `watching ${watcher.watchedTargets} targets by polling: ${watcher.fallbackReason}` },
      }));
    }
    if (extra.length === 0) return this.scanReport;
    const findings = [...this.scanReport.findings, ...extra];
    return { ...this.scanReport, findings, summary: summarize(findings) };
  }

  /** Starts watching the host and the periodic rescans. */
  watch(): void {
    const { metrics, log } = this.opts;
    this.watcher = new HostWatcher({
      host: this.opts.host,
      debounceMs: this.opts.debounceMs,
      onChange: (paths) => { for (const p of paths) this.changed.add(p); void this.rescan('watch'); },
      onFallback: (reason) => {
        metrics.watchPolling.set(1);
        log.warn({ reason }, 'file watch limit reached; polling instead');
        void this.rescan('watch');
      },
      onError: (err) => log.warn({ err }, 'file watcher error'),
    });
    this.watcher.add(this.targets);
    this.interval = setInterval(() => void this.rescan('interval'), this.opts.rescanIntervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.interval);
    clearTimeout(this.confirmTimer);
    await this.watcher?.close();
    await this.scanning;
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

  /** Runs a scan now, or once more after the one in progress. */
  private rescan(trigger: string): Promise<void> {
    if (this.scanning) {
      this.again = this.again === 'interval' ? this.again : trigger;
      return this.scanning;
    }
    this.scanning = (async () => {
      let next: string | undefined = trigger;
      while (next) {
        this.again = undefined;
        const paths = [...this.changed];
        this.changed.clear();
        try {
          if (next === 'watch') this.fastPath(paths);
          else await this.fullScan(next, paths);
        } catch (err) {
          this.opts.log.error({ err, trigger: next }, 'rescan failed');
        }
        next = this.again ?? (this.changed.size > 0 ? 'watch' : undefined);
      }
    })().finally(() => { this.scanning = undefined; });
    return this.scanning;
  }

  private observeSensitive(paths: string[]): void {
    this.sensitive.observe(paths.flatMap((p) => {
      const kind = sensitiveKind(p, this.snapshot);
      return kind ? [[p, kind] as [string, SensitiveKind]] : [];
    }));
  }

  private fastPath(paths: string[]): void {
    const { metrics } = this.opts;
    const started = performance.now();
    const changed = new Set(paths);
    const patched = patchFileFacts(this.snapshot, this.opts.host, changed);
    const findings = reevaluate(this.scanReport.findings, patched.snapshot, this.checks, changed);
    this.snapshot = patched.snapshot;
    if (findings) this.scanReport = { ...this.scanReport, scannedAt: new Date().toISOString(), findings, summary: summarize(findings) };
    this.observeSensitive(paths);
    metrics.scans.inc({ trigger: 'watch', result: 'ok' });
    metrics.scanDuration.observe((performance.now() - started) / 1000);
    this.opts.onScanned('watch', paths);
    clearTimeout(this.confirmTimer);
    this.confirmTimer = setTimeout(() => void this.rescan('confirm'), this.opts.confirmDelayMs ?? 1_000);
  }

  private async fullScan(trigger: string, paths: string[]): Promise<void> {
    this.adopt(await this.scan(trigger));
    if (trigger === 'interval') {
      this.targets = watchTargets(this.snapshot, this.opts.scan);
      this.watcher?.add(this.targets);
      this.sensitive.observe(sensitivePaths(this.opts.host, this.targets, this.snapshot));
    } else {
      this.observeSensitive(paths);
    }
    this.opts.onScanned(trigger, paths);
  }
}
