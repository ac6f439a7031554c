// Two whole control-plane nodes for the CIS checks: one configured the way the benchmark asks, one the opposite.
import type { Snapshot } from '../../../agent/facts/snapshot.js';
import type { Check, Verdict } from '../../../agent/evaluate/check.js';
import { BENCHMARK_CHECKS } from '../../../agent/evaluate/catalogue.js';
import { emptySnapshot, file, setKubelet, withComponent, withFiles, withKubelet } from './snapshot-factory.js';

const ETCD_USER = { uid: 999, gid: 999, user: 'etcd', group: 'etcd' };
const ALICE = { uid: 1000, gid: 1000, user: 'alice', group: 'alice' };

export function hardenedNode(): Snapshot {
  const s = emptySnapshot();
  withComponent(s, 'kube-apiserver', [
    '--anonymous-auth=false',
    '--enable-admission-plugins=NodeRestriction,DenyServiceExternalIPs,EventRateLimit,AlwaysPullImages',
    '--authorization-mode=Node,RBAC',
    '--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt',
    '--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key',
    '--kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt',
    '--profiling=false',
    '--audit-log-path=/var/log/kubernetes/audit.log',
    '--audit-log-maxage=30', '--audit-log-maxbackup=10', '--audit-log-maxsize=100',
    '--audit-policy-file=/etc/kubernetes/audit-policy.yaml',
    '--request-timeout=60s',
    '--service-account-key-file=/etc/kubernetes/pki/sa.pub',
    '--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt',
    '--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key',
    '--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt',
    '--tls-cert-file=/etc/kubernetes/pki/apiserver.crt',
    '--tls-private-key-file=/etc/kubernetes/pki/apiserver.key',
    '--client-ca-file=/etc/kubernetes/pki/ca.crt',
    '--encryption-provider-config=/etc/kubernetes/enc.yaml',
    '--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_AES_128_GCM_SHA256',
    '--service-account-extend-token-expiration=false',
  ]);
  s.encryptionConfig = { path: '/etc/kubernetes/enc.yaml', resources: [{ resources: ['secrets'], providers: ['aescbc', 'identity'] }] };
  withComponent(s, 'kube-controller-manager', [
    '--terminated-pod-gc-threshold=10', '--profiling=false', '--use-service-account-credentials=true',
    '--service-account-private-key-file=/etc/kubernetes/pki/sa.key', '--root-ca-file=/etc/kubernetes/pki/ca.crt',
    '--bind-address=127.0.0.1',
  ]);
  withComponent(s, 'kube-scheduler', ['--profiling=false', '--bind-address=127.0.0.1']);
  withComponent(s, 'etcd', [
    '--cert-file=/etc/kubernetes/pki/etcd/server.crt', '--key-file=/etc/kubernetes/pki/etcd/server.key',
    '--client-cert-auth=true', '--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt',
    '--peer-key-file=/etc/kubernetes/pki/etcd/peer.key', '--peer-client-cert-auth=true',
    '--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt', '--data-dir=/var/lib/etcd',
  ]);
  withComponent(s, 'kube-proxy', ['--metrics-bind-address=127.0.0.1:10249']);
  withKubelet(s, 'config');
  setKubelet(s, {
    'authentication.x509.clientCAFile': '/etc/kubernetes/pki/ca.crt',
    tlsCertFile: '/var/lib/kubelet/pki/kubelet.crt',
    tlsPrivateKeyFile: '/var/lib/kubelet/pki/kubelet.key',
    rotateCertificates: true,
    serverTLSBootstrap: true,
    tlsCipherSuites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'],
    podPidsLimit: 4096,
    seccompDefault: true,
    protectKernelDefaults: true,
  });

  withFiles(s, 'apiserver.manifest', file('/etc/kubernetes/manifests/kube-apiserver.yaml', 0o600));
  withFiles(s, 'controller-manager.manifest', file('/etc/kubernetes/manifests/kube-controller-manager.yaml', 0o600));
  withFiles(s, 'scheduler.manifest', file('/etc/kubernetes/manifests/kube-scheduler.yaml', 0o400));
  withFiles(s, 'etcd.manifest', file('/etc/kubernetes/manifests/etcd.yaml', 0o600));
  withFiles(s, 'etcd.data-dir', file('/var/lib/etcd', 0o700, { ...ETCD_USER, type: 'dir' }));
  withFiles(s, 'admin.kubeconfig', file('/etc/kubernetes/admin.conf', 0o600), file('/etc/kubernetes/super-admin.conf', 0o600));
  withFiles(s, 'scheduler.kubeconfig', file('/etc/kubernetes/scheduler.conf', 0o600));
  withFiles(s, 'controller-manager.kubeconfig', file('/etc/kubernetes/controller-manager.conf', 0o600));
  withFiles(s, 'pki.tree',
    file('/etc/kubernetes/pki', 0o755, { type: 'dir' }),
    file('/etc/kubernetes/pki/ca.crt', 0o644), file('/etc/kubernetes/pki/ca.key', 0o600));
  withFiles(s, 'pki.cert', file('/etc/kubernetes/pki/ca.crt', 0o644));
  withFiles(s, 'pki.key', file('/etc/kubernetes/pki/ca.key', 0o600));
  withFiles(s, 'kubelet.service', file('/etc/systemd/system/kubelet.service.d/10-kubeadm.conf', 0o600));
  withFiles(s, 'kubelet.kubeconfig', file('/etc/kubernetes/kubelet.conf', 0o600));
  withFiles(s, 'kubelet.config', file('/var/lib/kubelet/config.yaml', 0o600));
  withFiles(s, 'kubelet.client-ca', file('/etc/kubernetes/pki/ca.crt', 0o644));
  withFiles(s, 'kube-proxy.kubeconfig', file('/etc/kubernetes/proxy.conf', 0o600));
  s.cni.files = [file('/etc/cni/net.d/10-bridge.conflist', 0o600), file('/var/lib/cni/networks/cbr0/10.0.0.2', 0o600)];
  return s;
}

export function weakNode(): Snapshot {
  const s = emptySnapshot();
  withComponent(s, 'kube-apiserver', [
    '--anonymous-auth=true',
    '--token-auth-file=/etc/kubernetes/tokens.csv',
    '--enable-admission-plugins=AlwaysAdmit',
    '--disable-admission-plugins=ServiceAccount,NamespaceLifecycle',
    '--authorization-mode=AlwaysAllow',
    '--profiling',
    '--audit-log-maxage=7', '--audit-log-maxbackup=1', '--audit-log-maxsize=10',
    '--service-account-lookup=false',
    '--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_128_CBC_SHA',
  ]);
  withComponent(s, 'kube-controller-manager', [
    '--profiling=true', '--use-service-account-credentials=false',
    '--feature-gates=RotateKubeletServerCertificate=false', '--bind-address=0.0.0.0',
  ]);
  withComponent(s, 'kube-scheduler', ['--profiling=true']);
  withComponent(s, 'etcd', ['--client-cert-auth=false', '--auto-tls=true', '--peer-auto-tls=true', '--peer-client-cert-auth=false']);
  withComponent(s, 'kube-proxy', ['--metrics-bind-address=0.0.0.0:10249']);
  withKubelet(s, 'flags-only', ['--hostname-override=evil']);
  setKubelet(s, {
    hostnameOverride: 'evil',
    streamingConnectionIdleTimeout: '0s',
    makeIPTablesUtilChains: false,
    eventRecordQPS: -1,
    tlsCipherSuites: ['TLS_RSA_WITH_AES_128_CBC_SHA'],
    'featureGates.RotateKubeletServerCertificate': false,
  }, 'flag');

  const loose = (path: string, mode = 0o644) => file(path, mode, ALICE);
  withFiles(s, 'apiserver.manifest', loose('/etc/kubernetes/manifests/kube-apiserver.yaml'));
  withFiles(s, 'controller-manager.manifest', loose('/etc/kubernetes/manifests/kube-controller-manager.yaml'));
  withFiles(s, 'scheduler.manifest', loose('/etc/kubernetes/manifests/kube-scheduler.yaml'));
  withFiles(s, 'etcd.manifest', loose('/etc/kubernetes/manifests/etcd.yaml'));
  withFiles(s, 'etcd.data-dir', file('/var/lib/etcd', 0o755, { type: 'dir' }));
  withFiles(s, 'admin.kubeconfig', loose('/etc/kubernetes/admin.conf'));
  withFiles(s, 'scheduler.kubeconfig', loose('/etc/kubernetes/scheduler.conf'));
  withFiles(s, 'controller-manager.kubeconfig', loose('/etc/kubernetes/controller-manager.conf'));
  withFiles(s, 'pki.tree', file('/etc/kubernetes/pki', 0o755, { ...ALICE, type: 'dir' }));
  withFiles(s, 'pki.cert', loose('/etc/kubernetes/pki/ca.crt', 0o666));
  withFiles(s, 'pki.key', loose('/etc/kubernetes/pki/ca.key', 0o640));
  withFiles(s, 'kubelet.service', loose('/etc/systemd/system/kubelet.service'));
  withFiles(s, 'kubelet.kubeconfig', loose('/etc/kubernetes/kubelet.conf'));
  withFiles(s, 'kubelet.config', loose('/var/lib/kubelet/config.yaml'));
  withFiles(s, 'kubelet.client-ca', loose('/etc/kubernetes/pki/ca.crt', 0o664));
  withFiles(s, 'kube-proxy.kubeconfig', loose('/etc/kubernetes/proxy.conf'));
  s.cni.files = [loose('/etc/cni/net.d/10-bridge.conflist')];
  return s;
}

/** Checks that are manual reviews: they warn whatever the configuration. */
export const MANUAL_REVIEW = new Set(['cis-1.2.20', 'cis-3.1.1', 'cis-3.1.2', 'cis-3.1.3', 'cis-3.2.2']);

/** The CIS benchmark table's checks (sections 1-4, and the kubelet's protectKernelDefaults). */
export const CIS_CHECKS: Check[] = [...BENCHMARK_CHECKS];

function check(id: string): Check {
  const found = CIS_CHECKS.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id}`);
  return found;
}

/** Verdicts of one check on a snapshot. */
export const run = (id: string, s: Snapshot): Verdict[] => check(id).evaluate(s);

/** The single verdict of a check that judges one component. */
export function one(id: string, s: Snapshot): Verdict {
  const verdicts = run(id, s);
  if (verdicts.length !== 1) throw new Error(`${id}: expected one verdict, got ${verdicts.length}`);
  return verdicts[0];
}
