// Hand-built NodeReports for the renderer tests: a control-plane node, and a node with no Kubernetes at all.
import { findingId } from '../../../agent/evaluate/check.js';
import { summarize, type Finding, type NodeReport, type Resource } from '../../../proto/report.js';

interface FindingSpec {
  checkId: string; cis: string | null; status: Finding['status']; title: string; resource: Resource;
  evidence: Finding['evidence']; remediation?: string; severity?: Finding['severity']; component?: string;
  discriminator?: string;
}

export function finding(p: FindingSpec): Finding {
  return {
    id: findingId(p.checkId, p.resource, p.discriminator),
    checkId: p.checkId,
    cis: p.cis,
    status: p.status,
    severity: p.severity ?? 'medium',
    title: p.title,
    component: p.component ?? 'node',
    resource: p.resource,
    evidence: p.evidence,
    remediation: p.remediation ?? `Fix ${p.checkId}.`,
  };
}

const apiserver: Resource = { kind: 'component', component: 'kube-apiserver', pid: 101, source: 'process' };
const file = (path: string): Resource => ({ kind: 'file', path });

export function report(findings: Finding[], components: NodeReport['node']['components'] = {}): NodeReport {
  return {
    schemaVersion: 1,
    node: { name: 'cp-1', roles: ['control-plane'], components, agentVersion: '0.1.0' },
    scannedAt: '2025-01-02T03:04:05.000Z',
    findings,
    summary: summarize(findings),
  };
}

const controlPlaneFindings: Finding[] = [
  finding({
    checkId: 'cis.1.1.1', cis: '1.1.1', status: 'pass', title: 'API server static-pod manifest mode 600 or tighter',
    component: 'kube-apiserver', resource: file('/etc/kubernetes/manifests/kube-apiserver.yaml'),
    evidence: { source: 'stat', path: '/etc/kubernetes/manifests/kube-apiserver.yaml', value: '600', expected: '600 or tighter' },
  }),
  finding({
    checkId: 'cis.1.2.1', cis: '1.2.1', status: 'fail', severity: 'high', component: 'kube-apiserver',
    title: 'Anonymous requests to the API server are disabled (--anonymous-auth=false) — a deliberately long title to force truncation',
    resource: apiserver,
    evidence: { source: 'flag', key: 'anonymous-auth', value: 'true', expected: 'false' },
    remediation: 'Set --anonymous-auth=false in <kube-apiserver.yaml> & restart "it".',
  }),
  finding({
    checkId: 'cis.1.2.10', cis: '1.2.10', status: 'warn', severity: 'low', component: 'kube-apiserver',
    title: 'Admission plugin EventRateLimit is set', resource: apiserver,
    evidence: { source: 'flag', key: 'enable-admission-plugins', value: ['NodeRestriction'], detail: 'needs a config file review' },
  }),
  finding({
    checkId: 'cis.1.2.2', cis: '1.2.2', status: 'skip', component: 'kube-apiserver', title: 'Token auth file is not used',
    resource: apiserver, evidence: { source: 'flag', detail: 'flag removed in this version' },
  }),
  finding({
    checkId: 'cis.2.1', cis: '2.1', status: 'pass', severity: 'high', component: 'etcd', title: 'etcd serves TLS',
    resource: { kind: 'component', component: 'etcd' }, evidence: { source: 'flag', key: 'cert-file', value: '/etc/kubernetes/pki/etcd/server.crt' },
  }),
  // Two findings with one CIS id (two files), one of them failing with a control character in its path.
  finding({
    checkId: 'cis.1.1.13', cis: '1.1.13', status: 'pass', component: 'cluster', title: 'Admin kubeconfig files mode 600 or tighter',
    resource: file('/etc/kubernetes/admin.conf'), evidence: { source: 'stat', value: '600', expected: '600 or tighter' },
  }),
  finding({
    checkId: 'cis.1.1.13', cis: '1.1.13', status: 'fail', severity: 'critical', component: 'cluster',
    title: 'Admin kubeconfig files mode 600 or tighter',
    resource: file('/etc/kubernetes/super\u0007admin.conf'), evidence: { source: 'stat', value: '644', expected: '600 or tighter' },
  }),
  finding({
    checkId: 'cis.4.2.1', cis: '4.2.1', status: 'fail', severity: 'critical', component: 'kubelet',
    title: 'Kubelet anonymous auth is disabled', resource: { kind: 'component', component: 'kubelet' },
    evidence: { source: 'config-file', path: '/var/lib/kubelet/config.yaml', key: 'authentication.anonymous.enabled', value: true, expected: 'false' },
  }),
  finding({
    checkId: 'vigil.gather-error', cis: null, status: 'error', component: 'node', title: 'Could not read /etc/kubernetes/pki/x.key (EACCES)',
    resource: file('/etc/kubernetes/pki/x.key'), discriminator: 'EACCES',
    evidence: { source: 'gather', path: '/etc/kubernetes/pki/x.key', detail: 'EACCES\u0000\u001b[31m permission denied' },
  }),
  finding({
    checkId: 'port.exposed', cis: null, status: 'fail', severity: 'medium', component: 'node', title: 'Port open on all addresses',
    resource: { kind: 'port', protocol: 'tcp', address: '0.0.0.0', port: 10250, process: 'kubelet' },
    evidence: { source: 'proc-net', value: '0.0.0.0:10250', expected: 'loopback or node address' },
  }),
];

export const controlPlaneReport = (): NodeReport => report(controlPlaneFindings, {
  'kube-apiserver': { version: 'v1.30.2', source: 'process' },
  kubelet: { version: 'v1.30.2', source: 'process' },
});

/** A plain Linux host: every CIS check skipped, only host-level checks judged something. */
export const noKubernetesReport = (): NodeReport => report([
  finding({
    checkId: 'cis.1.2.1', cis: '1.2.1', status: 'skip', component: 'kube-apiserver', title: 'Anonymous auth disabled',
    resource: { kind: 'component', component: 'kube-apiserver' }, evidence: { source: 'components', detail: 'kube-apiserver is not running on this node' },
  }),
  finding({
    checkId: 'cis.4.2.1', cis: '4.2.1', status: 'skip', component: 'kubelet', title: 'Kubelet anonymous auth disabled',
    resource: { kind: 'component', component: 'kubelet' }, evidence: { source: 'components', detail: 'kubelet is not running on this node' },
  }),
  finding({
    checkId: 'kernel.kptr-restrict', cis: null, status: 'pass', component: 'kernel', title: 'Kernel pointers are hidden',
    resource: { kind: 'kernel', key: 'kernel.kptr_restrict' }, evidence: { source: 'sysctl', value: '1', expected: '>= 1' },
  }),
  finding({
    checkId: 'kernel.dmesg-restrict', cis: null, status: 'fail', component: 'kernel', title: 'dmesg is restricted',
    resource: { kind: 'kernel', key: 'kernel.dmesg_restrict' }, evidence: { source: 'sysctl', value: '0', expected: '1' },
  }),
]);
