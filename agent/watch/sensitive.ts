// Changes to sensitive files are findings of their own, with the file's hash, mode and owner before and
// after: a new static pod manifest is a known way to persist on a node, and a swapped kubelet config,
// kubeconfig, CA or unit file changes who the node trusts. The baseline is kept on disk beside the
// outbox, so a change made while the agent was down is reported when it comes back.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { Finding } from '../../proto/report.js';
import { toFinding } from '../evaluate/check.js';
import { sensitiveFileChangedCheck } from '../evaluate/producers.js';
import type { HostAccess } from '../gather/host.js';
import type { SensitiveKind } from './targets.js';

interface FileState {
  exists: boolean;
  sha256?: string;
  mode?: string;
  uid?: number;
  gid?: number;
  owner?: string;
  size?: number;
}

const MAX_HASH_BYTES = 16 * 1024 * 1024;
/** How long a change finding stays open. */
const CHANGE_FINDING_TTL_MS = 24 * 3600 * 1000;

const KIND_LABEL: Record<SensitiveKind, string> = {
  'static-pod-manifest': 'static pod manifest',
  'kubelet-config': 'kubelet config',
  kubeconfig: 'kubeconfig',
  pki: 'PKI file',
  'unit-file': 'kubelet/runtime unit file',
};

function fileState(host: HostAccess, hostPath: string): FileState {
  const fact = host.stat(hostPath);
  if (!fact.exists) return { exists: false };
  const state: FileState = {
    exists: true,
    mode: fact.mode !== undefined ? fact.mode.toString(8).padStart(4, '0') : undefined,
    uid: fact.uid, gid: fact.gid, owner: `${fact.user}:${fact.group}`, size: fact.size,
  };
  if (fact.type === 'file') {
    const r = host.readFile(hostPath, MAX_HASH_BYTES);
    if (r.ok) state.sha256 = createHash('sha256').update(r.data).digest('hex');
  }
  return state;
}

function describeChange(before: FileState | undefined, after: FileState): { change: string; detail: string } {
  if (!before?.exists && after.exists) return { change: 'created', detail: 'file appeared' };
  if (before?.exists && !after.exists) return { change: 'deleted', detail: 'file removed' };
  const parts: string[] = [];
  if (before?.sha256 !== after.sha256) parts.push('content changed');
  if (before?.mode !== after.mode) parts.push(`mode ${before?.mode} → ${after.mode}`);
  if (before?.owner !== after.owner || before?.uid !== after.uid || before?.gid !== after.gid) {
    parts.push(`owner ${before?.owner} → ${after.owner}`);
  }
  return { change: parts.includes('content changed') ? 'modified' : 'metadata', detail: parts.join('; ') };
}

const same = (a: FileState | undefined, b: FileState): boolean =>
  (a?.exists ?? false) === b.exists && a?.sha256 === b.sha256 && a?.mode === b.mode && a?.uid === b.uid && a?.gid === b.gid;

interface Persisted { baseline: Record<string, FileState>; findings: Array<{ at: number; finding: Finding }> }

export class SensitiveFiles {
  private baseline = new Map<string, FileState>();
  private open = new Map<string, { at: number; finding: Finding }>();
  private readonly file: string;
  private hadBaseline = false;

  constructor(private readonly host: HostAccess, stateDir: string, private readonly now = Date.now) {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    this.file = join(stateDir, 'sensitive-baseline.json');
    try {
      const p = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Persisted;
      this.baseline = new Map(Object.entries(p.baseline ?? {}));
      for (const f of p.findings ?? []) this.open.set(f.finding.id, f);
      this.hadBaseline = true;
    } catch { /* first run, or unreadable: start a new baseline */ }
  }

  /**
   * Compares each path with the baseline; every difference becomes (or updates) a change finding.
   * On the very first run the paths are only recorded. Returns true when something changed.
   */
  observe(paths: Iterable<[string, SensitiveKind]>): boolean {
    let changed = false;
    for (const [p, kind] of paths) {
      const after = fileState(this.host, p);
      const before = this.baseline.get(p);
      if (same(before, after)) continue;
      if (!before && !after.exists) continue;
      this.baseline.set(p, after);
      changed = true;
      if (!this.hadBaseline && !before) continue;
      const { change, detail } = describeChange(before, after);
      const high = kind === 'static-pod-manifest' || (kind === 'pki' && change !== 'metadata');
      const finding = toFinding(sensitiveFileChangedCheck, {
        status: 'warn',
        severity: high ? 'high' : 'medium',
        title: `Sensitive file changed: ${KIND_LABEL[kind]} ${change}`,
        resource: { kind: 'file', path: p },
        evidence: { source: 'watch', path: p, key: kind, value: { change, before: before ?? null, after }, detail },
      });
      this.open.set(finding.id, { at: this.now(), finding });
    }
    this.hadBaseline = true;
    if (changed) this.persist();
    return changed;
  }

  /** Open change findings (older than the TTL are dropped). */
  findings(): Finding[] {
    const cutoff = this.now() - CHANGE_FINDING_TTL_MS;
    let expired = false;
    for (const [id, f] of this.open) if (f.at < cutoff) { this.open.delete(id); expired = true; }
    if (expired) this.persist();
    return [...this.open.values()].map((f) => f.finding);
  }

  private persist(): void {
    const data: Persisted = { baseline: Object.fromEntries(this.baseline), findings: [...this.open.values()] };
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(data), { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }
}
