// A baseline that works the way kube-bench does: one /bin/sh per check, run one after another, each
// reading the host through a pipeline. kube-bench greps the real `ps -ef` for flag checks; against a
// fixture host the fair equivalent reads the fixture's /proc/*/cmdline, so both sides see the same host.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Finding } from '../../proto/report.js';

interface BaselineCheck {
  cis: string;
  /** The shell pipeline kube-bench would run for it, here against the fixture. */
  command: string;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

// Vigil component names → the process name kube-bench greps for.
const PROCESS: Record<string, string> = {
  'kube-apiserver': 'kube-apiserver', 'kube-controller-manager': 'kube-controller-manager',
  'kube-scheduler': 'kube-scheduler', etcd: 'etcd', kubelet: 'kubelet', 'kube-proxy': 'kube-proxy',
  cluster: 'kube-apiserver',
};

/**
 * One audit command per CIS check Vigil judged on this host (a check whose findings were all `skip` is
 * left out: kube-bench would not run it either on a node without that component). File checks stat the
 * file (`stat -c %a` or `%U:%G`, as kube-bench's audits do), flag checks grep the process table.
 */
export function baselineChecks(findings: readonly Finding[], hostRoot: string, procRoot: string): BaselineCheck[] {
  const byCis = new Map<string, Finding[]>();
  for (const f of findings) {
    if (f.cis === null) continue;
    byCis.set(f.cis, [...(byCis.get(f.cis) ?? []), f]);
  }
  const checks: BaselineCheck[] = [];
  for (const [cis, list] of byCis) {
    if (list.every((f) => f.status === 'skip')) continue;
    const file = list.find((f) => f.resource.kind === 'file');
    if (file && file.resource.kind === 'file') {
      const format = /own/i.test(file.title) ? '%U:%G' : '%a';
      const path = quote(join(hostRoot, file.resource.path));
      checks.push({ cis, command: `if test -e ${path}; then stat -c ${format} ${path}; fi` });
    } else {
      const name = PROCESS[list[0].component] ?? list[0].component;
      checks.push({ cis, command: `cat ${quote(procRoot)}/*/cmdline | tr '\\0' ' ' | grep ${quote(name)} | grep -v grep` });
    }
  }
  return checks;
}

/** Runs every check's shell in turn, as kube-bench does; returns how many produced output. */
export function runBaseline(checks: readonly BaselineCheck[]): number {
  let answered = 0;
  for (const c of checks) {
    const r = spawnSync('/bin/sh', ['-c', c.command], { encoding: 'utf8' });
    if (r.error) throw new Error(`baseline check ${c.cis}: ${r.error.message}`);
    if (r.stdout.trim() !== '') answered++;
  }
  return answered;
}
