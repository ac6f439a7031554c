// `npm run bench scan`: a full in-process scan (gather + evaluate) of a kubeadm control-plane fixture host,
// against a baseline that works the way kube-bench does (one shell per check). Goal: < 20 ms per scan and
// ≥ 50× faster than the baseline.
import { availableParallelism, cpus, loadavg, release } from 'node:os';
import { buildHost, type HostSpec } from '../fixtures/build.js';
import { buildReport, scanNode, selectChecks } from '../../agent/scan.js';
import { gatherSnapshot } from '../../agent/gather/index.js';
import { ALL_CHECKS } from '../../agent/evaluate/checks/index.js';
import { baselineChecks, runBaseline } from './kube-bench-baseline.js';

const SCAN_WARMUP = 20;
const SCAN_RUNS = 200;
const BASELINE_WARMUP = 1;
const BASELINE_RUNS = 15;

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('no samples');
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

async function timeRuns(warmup: number, runs: number, once: () => unknown): Promise<{ median: number; p95: number; runs: number }> {
  for (let i = 0; i < warmup; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await once();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { median: percentile(samples, 50), p95: percentile(samples, 95), runs };
}

// Interim fixture until test/fixtures/hosts/kubeadm-control-plane.ts lands: kubeadm's layout, modes and
// flags for a single control-plane node (processes, static pod manifests, kubeconfigs, PKI, kubelet).
const PKI = ['ca.crt', 'ca.key', 'apiserver.crt', 'apiserver.key', 'apiserver-kubelet-client.crt',
  'apiserver-kubelet-client.key', 'apiserver-etcd-client.crt', 'apiserver-etcd-client.key', 'front-proxy-ca.crt',
  'front-proxy-ca.key', 'front-proxy-client.crt', 'front-proxy-client.key', 'sa.key', 'sa.pub', 'etcd/ca.crt',
  'etcd/ca.key', 'etcd/server.crt', 'etcd/server.key', 'etcd/peer.crt', 'etcd/peer.key',
  'etcd/healthcheck-client.crt', 'etcd/healthcheck-client.key'];
const APISERVER = ['kube-apiserver', '--advertise-address=10.0.0.10', '--allow-privileged=true',
  '--authorization-mode=Node,RBAC', '--client-ca-file=/etc/kubernetes/pki/ca.crt',
  '--enable-admission-plugins=NodeRestriction', '--enable-bootstrap-token-auth=true',
  '--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt', '--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt',
  '--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key', '--etcd-servers=https://127.0.0.1:2379',
  '--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt',
  '--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key', '--secure-port=6443',
  '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
  '--service-account-key-file=/etc/kubernetes/pki/sa.pub', '--service-account-signing-key-file=/etc/kubernetes/pki/sa.key',
  '--service-cluster-ip-range=10.96.0.0/12', '--tls-cert-file=/etc/kubernetes/pki/apiserver.crt',
  '--tls-private-key-file=/etc/kubernetes/pki/apiserver.key'];
const CONTROLLER_MANAGER = ['kube-controller-manager', '--bind-address=127.0.0.1',
  '--client-ca-file=/etc/kubernetes/pki/ca.crt', '--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt',
  '--cluster-signing-key-file=/etc/kubernetes/pki/ca.key', '--kubeconfig=/etc/kubernetes/controller-manager.conf',
  '--leader-elect=true', '--root-ca-file=/etc/kubernetes/pki/ca.crt',
  '--service-account-private-key-file=/etc/kubernetes/pki/sa.key', '--use-service-account-credentials=true'];
const SCHEDULER = ['kube-scheduler', '--bind-address=127.0.0.1', '--kubeconfig=/etc/kubernetes/scheduler.conf', '--leader-elect=true'];
const ETCD = ['etcd', '--cert-file=/etc/kubernetes/pki/etcd/server.crt', '--client-cert-auth=true',
  '--data-dir=/var/lib/etcd', '--key-file=/etc/kubernetes/pki/etcd/server.key',
  '--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt', '--peer-client-cert-auth=true',
  '--peer-key-file=/etc/kubernetes/pki/etcd/peer.key', '--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt',
  '--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt'];
const KUBELET = ['/usr/bin/kubelet', '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf',
  '--kubeconfig=/etc/kubernetes/kubelet.conf', '--config=/var/lib/kubelet/config.yaml',
  '--container-runtime-endpoint=unix:///run/containerd/containerd.sock'];
const KUBELET_CONFIG = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
rotateCertificates: true
staticPodPath: /etc/kubernetes/manifests
`;

function manifest(argv: string[]): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${argv[0]}\n  namespace: kube-system\nspec:\n  containers:\n  - command:\n`
    + argv.map((a) => `    - ${a}\n`).join('') + `    name: ${argv[0]}\n  hostNetwork: true\n`;
}

export function interimControlPlane(): HostSpec {
  const secret = { mode: 0o600 };
  const files: HostSpec['files'] = {
    '/etc/hostname': 'cp-1\n',
    '/etc/kubernetes/manifests/kube-apiserver.yaml': { content: manifest(APISERVER), ...secret },
    '/etc/kubernetes/manifests/kube-controller-manager.yaml': { content: manifest(CONTROLLER_MANAGER), ...secret },
    '/etc/kubernetes/manifests/kube-scheduler.yaml': { content: manifest(SCHEDULER), ...secret },
    '/etc/kubernetes/manifests/etcd.yaml': { content: manifest(ETCD), ...secret },
    '/etc/kubernetes/admin.conf': { content: 'apiVersion: v1\nkind: Config\n', ...secret },
    '/etc/kubernetes/super-admin.conf': { content: 'apiVersion: v1\nkind: Config\n', ...secret },
    '/etc/kubernetes/scheduler.conf': { content: 'apiVersion: v1\nkind: Config\n', ...secret },
    '/etc/kubernetes/controller-manager.conf': { content: 'apiVersion: v1\nkind: Config\n', ...secret },
    '/etc/kubernetes/kubelet.conf': { content: 'apiVersion: v1\nkind: Config\n', ...secret },
    '/var/lib/kubelet/config.yaml': { content: KUBELET_CONFIG, mode: 0o644 },
    '/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf': { content: '[Service]\n', mode: 0o644 },
    '/var/lib/etcd': { dir: true, mode: 0o700 },
    '/var/lib/etcd/member/snap/db': { content: '', mode: 0o600 },
  };
  for (const name of PKI) {
    files[`/etc/kubernetes/pki/${name}`] = { content: `-----BEGIN PLACEHOLDER-----\n${name}\n-----END PLACEHOLDER-----\n`, mode: name.endsWith('.crt') ? 0o644 : 0o600 };
  }
  const procs = [APISERVER, CONTROLLER_MANAGER, SCHEDULER, ETCD, KUBELET, ['/usr/bin/containerd']]
    .map((argv, i) => ({ pid: 1000 + i, argv, comm: argv[0].split('/').pop()!.slice(0, 15) }));
  return { files, procs };
}

const ms = (n: number): string => `${n.toFixed(2)} ms`;

export async function run(): Promise<string> {
  const host = buildHost(interimControlPlane());
  try {
    const opts = { hostRoot: host.hostRoot, procRoot: host.procRoot, nodeName: 'cp-1' };
    const { report } = await scanNode(opts);
    const cisChecks = ALL_CHECKS.filter((c) => c.cis !== null).length;
    const baseline = baselineChecks(report.findings, host.hostRoot, host.procRoot);
    if (baseline.length === 0) throw new Error('the scan judged no CIS check on the fixture: nothing to compare against');
    const answered = runBaseline(baseline);

    const scan = await timeRuns(SCAN_WARMUP, SCAN_RUNS, () => scanNode(opts));
    const gather = await timeRuns(SCAN_WARMUP, SCAN_RUNS, () => gatherSnapshot(opts));
    const snapshot = await gatherSnapshot(opts);
    const checks = selectChecks(undefined);
    const evaluate = await timeRuns(SCAN_WARMUP, SCAN_RUNS, () => buildReport(snapshot, checks));
    const shells = await timeRuns(BASELINE_WARMUP, BASELINE_RUNS, () => runBaseline(baseline));
    const ratio = shells.median / scan.median;
    const s = report.summary;
    const goal = (ok: boolean): string => (ok ? 'met' : '**not met**');
    return [
      '## Scan: in-process scan vs a kube-bench-style baseline',
      '',
      `Fixture: kubeadm control-plane node (interim spec in test/bench/scan.ts), ${report.findings.length} findings `
        + `(${s.pass} pass, ${s.fail} fail, ${s.warn} warn, ${s.skip} skip, ${s.error} error) from ${ALL_CHECKS.length} checks `
        + `(${cisChecks} CIS). Baseline: ${baseline.length} shells, one per CIS check the scan judged on this host `
        + `(${answered} produced output), run one after another as kube-bench does.`,
      '',
      '| What | Median | p95 | Runs |',
      '| --- | ---: | ---: | ---: |',
      `| Vigil scan (gatherSnapshot + evaluate, in process) | ${ms(scan.median)} | ${ms(scan.p95)} | ${scan.runs} (after ${SCAN_WARMUP} warm-up) |`,
      `| … of which gatherSnapshot alone | ${ms(gather.median)} | ${ms(gather.p95)} | ${gather.runs} |`,
      `| … of which evaluate + report alone | ${ms(evaluate.median)} | ${ms(evaluate.p95)} | ${evaluate.runs} |`,
      `| kube-bench-style baseline (${baseline.length} × /bin/sh) | ${ms(shells.median)} | ${ms(shells.p95)} | ${shells.runs} (after ${BASELINE_WARMUP} warm-up) |`,
      `| Ratio (baseline median / scan median) | ${ratio.toFixed(1)}× | | |`,
      '',
      `Goals: scan under 20 ms — ${goal(scan.median < 20)}; at least 50× faster than the baseline — ${goal(ratio >= 50)}.`,
      '',
      `Machine: ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), Linux ${release()}, Node ${process.version}, `
        + `load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min, a shared machine); `
        + `measured ${new Date().toISOString().slice(0, 10)}. Command: \`npm run bench scan\`.`,
    ].join('\n');
  } finally {
    host.cleanup();
  }
}
