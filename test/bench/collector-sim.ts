// Simulated cluster reports for the collector benchmark: N nodes × ~150 findings shaped like real scans
// (CIS component settings, file modes, ports, containers), deterministic for a given node index.
import { findingId } from '../../agent/evaluate/check.js';
import { summarize, SEVERITIES, type Finding, type NodeReport, type Resource, type Status } from '../../proto/report.js';

const COMPONENTS = ['kubelet', 'kube-apiserver', 'etcd', 'kube-proxy', 'containerd'];

function finding(checkId: string, cis: string | null, component: string, resource: Resource, status: Status,
  value: unknown, i: number, extra: Partial<Finding> = {}): Finding {
  return {
    id: findingId(checkId, resource),
    checkId,
    cis,
    status,
    severity: SEVERITIES[i % SEVERITIES.length],
    title: `${component} check ${checkId}`,
    component,
    resource,
    evidence: { source: 'flag', key: `--setting-${i}`, value },
    remediation: `Set the ${checkId} setting as the CIS Benchmark recommends.`,
    ...extra,
  };
}

/** The findings of node `n`: one configuration shared by the cluster, 2% of the nodes drifted on a tenth of their
 * settings; `variant` flips ~1% of the statuses (churn) when it differs from 0. */
export function simulatedFindings(n: number, variant = 0, perNode = 150): Finding[] {
  const out: Finding[] = [];
  const drifted = n % 50 === 7;
  const statusFor = (i: number): Status => {
    const flip = variant > 0 && (i * 7 + n + variant) % 100 === 0;
    const base: Status = i % 4 === 0 ? 'fail' : (i % 17 === 0 ? 'warn' : 'pass');
    const own: Status = drifted && i % 10 === 3 ? (base === 'pass' ? 'fail' : 'pass') : base;
    return flip ? (own === 'pass' ? 'fail' : 'pass') : own;
  };
  for (let i = 0; out.length < perNode - 30; i++) {
    const component = COMPONENTS[i % COMPONENTS.length];
    const cis = `${1 + (i % 4)}.${1 + (i % 3)}.${i}`;
    const status = statusFor(i);
    out.push(finding(`cis-${cis}`, cis, component, { kind: 'component', component }, status, status === 'pass', i));
  }
  for (let i = 0; i < 10; i++) {
    const status = statusFor(200 + i);
    out.push(finding(`port-exposed`, null, 'node', { kind: 'port', protocol: 'tcp', address: i % 2 ? '0.0.0.0' : '127.0.0.1', port: 10000 + i * 50 },
      status, 'listening', 200 + i));
  }
  for (let i = 0; i < 20; i++) {
    const pod = `app-${n % 50}-${i % 5}`;
    const pss = ['privileged', 'hostNamespaces', 'hostPathVolumes', 'runAsNonRoot'][i % 4];
    const status = statusFor(300 + i);
    out.push(finding(`pss-${pss}`, null, 'container', {
      kind: 'container', id: `c${n}-${i}`, namespace: `ns-${i % 3}`, pod, container: `c${i % 4}`, image: 'registry.local/app:1',
    }, status, status !== 'pass', 300 + i, { pss, level: 'baseline' }));
  }
  return out.slice(0, perNode);
}

export function simulatedReport(n: number, variant = 0, perNode = 150, scannedAt = new Date()): NodeReport {
  const findings = simulatedFindings(n, variant, perNode);
  return {
    schemaVersion: 1,
    node: {
      name: `node-${String(n).padStart(5, '0')}`,
      roles: n < 3 ? ['control-plane'] : ['worker'],
      kernel: '6.1.0',
      agentVersion: '0.1.0',
    },
    scannedAt: scannedAt.toISOString(),
    findings,
    summary: summarize(findings),
  };
}
