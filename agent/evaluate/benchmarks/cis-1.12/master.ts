// CIS Kubernetes Benchmark 1.12, section 1: control-plane node configuration files (1.1), kube-apiserver (1.2),
// kube-controller-manager (1.3), kube-scheduler (1.4). One row per CIS id; kube-bench's cfg/cis-1.12/master.yaml.
import { fact, files, setting, settings } from '../../../facts/inputs.js';
import type { Row } from '../../rows.js';
import {
  ROOT, allSet, equals, isSet, loopback, modeAtMost, notSet, onlyFrom, ownerIs, review,
} from '../../ops.js';
import { anonymousAuth, auditRetention, authorizers, encryptionProvider } from '../../judges/apiserver.js';
import { ADMISSION_FLAGS, admissionPlugin } from '../../judges/admission.js';
import { schedulerProfiling, serverCertRotationGate } from '../../judges/control-plane.js';

const chmod = (mode: string, what: string) => `Run \`chmod ${mode} ${what}\` on the node (or the path the component actually uses).`;
const chownRoot = (what: string) => `Run \`chown root:root ${what}\` on the node.`;

const APISERVER_MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';
const inApiserverManifest = (change: string) =>
  `Edit the kube-apiserver manifest (${APISERVER_MANIFEST}, or the API server's unit/arguments) and ${change}.`;
const inControllerManagerManifest = (change: string) =>
  `Edit the kube-controller-manager manifest (/etc/kubernetes/manifests/kube-controller-manager.yaml, or its unit/arguments) and ${change}.`;
const inSchedulerManifest = (change: string) =>
  `Edit the kube-scheduler manifest (/etc/kubernetes/manifests/kube-scheduler.yaml, or its unit/arguments) and ${change}.`;

const admissionRemediation = (name: string, on: boolean) => on
  ? `Add ${name} to --enable-admission-plugins in the kube-apiserver manifest (${APISERVER_MANIFEST}), keeping the plugins already listed.`
  : `Remove ${name} from --enable-admission-plugins in the kube-apiserver manifest (${APISERVER_MANIFEST}).`;
const notDisabledRemediation = (name: string) =>
  `Remove ${name} from --disable-admission-plugins in the kube-apiserver manifest (${APISERVER_MANIFEST}); it is on by default.`;
const EFFECTIVE_PLUGINS = 'Vigil judges the effective plugin set (defaults, --enable/--disable-admission-plugins and the deprecated --admission-control), not only the flag text.';
const admissionReads = settings('kube-apiserver', ...ADMISSION_FLAGS);

const APISERVER_STRONG_CIPHERS = [
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305', 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
] as const;

const UNSET_AUTHORIZERS = 'With --authorization-config (structured authorization) Vigil warns instead of failing.';
const LOOPBACK_DEFAULT = 'kube-bench passes when --bind-address is not set; the real default is 0.0.0.0 (all interfaces), so Vigil fails. Any loopback address (127.0.0.0/8, ::1) passes.';

export const MASTER: Row[] = [
  // 1.1.1-1.1.8: static pod manifests
  {
    id: 'cis-1.1.1', cis: '1.1.1', title: 'API server static-pod manifest mode 600 or tighter', severity: 'high',
    component: 'kube-apiserver', runsOn: 'kube-apiserver', reads: [files('apiserver.manifest')], op: modeAtMost(0o600),
    missing: 'no kube-apiserver manifest found (the API server does not run as a static pod)',
    remediation: chmod('600', '/etc/kubernetes/manifests/kube-apiserver.yaml'),
  },
  {
    id: 'cis-1.1.2', cis: '1.1.2', title: 'API server static-pod manifest owned by root', severity: 'high',
    component: 'kube-apiserver', runsOn: 'kube-apiserver', reads: [files('apiserver.manifest')], op: ownerIs(ROOT),
    missing: 'no kube-apiserver manifest found (the API server does not run as a static pod)',
    remediation: chownRoot('/etc/kubernetes/manifests/kube-apiserver.yaml'),
  },
  {
    id: 'cis-1.1.3', cis: '1.1.3', title: 'Controller-manager manifest mode 600 or tighter', severity: 'high',
    component: 'kube-controller-manager', runsOn: 'kube-controller-manager', reads: [files('controller-manager.manifest')], op: modeAtMost(0o600),
    missing: 'no kube-controller-manager manifest found (it does not run as a static pod)',
    remediation: chmod('600', '/etc/kubernetes/manifests/kube-controller-manager.yaml'),
  },
  {
    id: 'cis-1.1.4', cis: '1.1.4', title: 'Controller-manager manifest owned by root', severity: 'high',
    component: 'kube-controller-manager', runsOn: 'kube-controller-manager', reads: [files('controller-manager.manifest')], op: ownerIs(ROOT),
    missing: 'no kube-controller-manager manifest found (it does not run as a static pod)',
    remediation: chownRoot('/etc/kubernetes/manifests/kube-controller-manager.yaml'),
  },
  {
    id: 'cis-1.1.5', cis: '1.1.5', title: 'Scheduler manifest mode 600 or tighter', severity: 'high',
    component: 'kube-scheduler', runsOn: 'kube-scheduler', reads: [files('scheduler.manifest')], op: modeAtMost(0o600),
    missing: 'no kube-scheduler manifest found (it does not run as a static pod)',
    remediation: chmod('600', '/etc/kubernetes/manifests/kube-scheduler.yaml'),
  },
  {
    id: 'cis-1.1.6', cis: '1.1.6', title: 'Scheduler manifest owned by root', severity: 'high',
    component: 'kube-scheduler', runsOn: 'kube-scheduler', reads: [files('scheduler.manifest')], op: ownerIs(ROOT),
    missing: 'no kube-scheduler manifest found (it does not run as a static pod)',
    remediation: chownRoot('/etc/kubernetes/manifests/kube-scheduler.yaml'),
  },
  {
    id: 'cis-1.1.7', cis: '1.1.7', title: 'etcd static-pod manifest mode 600 or tighter', severity: 'high',
    component: 'etcd', runsOn: 'etcd', reads: [files('etcd.manifest')], op: modeAtMost(0o600),
    missing: 'no etcd manifest found (etcd does not run as a static pod)',
    remediation: chmod('600', '/etc/kubernetes/manifests/etcd.yaml'),
  },
  {
    id: 'cis-1.1.8', cis: '1.1.8', title: 'etcd static-pod manifest owned by root', severity: 'high',
    component: 'etcd', runsOn: 'etcd', reads: [files('etcd.manifest')], op: ownerIs(ROOT),
    missing: 'no etcd manifest found (etcd does not run as a static pod)',
    remediation: chownRoot('/etc/kubernetes/manifests/etcd.yaml'),
  },
  // 1.1.9-1.1.10: CNI configuration and state
  {
    id: 'cis-1.1.9', cis: '1.1.9', title: 'CNI config and state files mode 600 or tighter', severity: 'medium',
    component: 'kubelet', runsOn: 'kubelet', reads: [files('cni')], op: modeAtMost(0o600),
    missing: 'no CNI configuration or state files found',
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil judges every CNI config and state file found.',
    remediation: 'Run `chmod 600` on every file in the CNI config dir (kubelet --cni-conf-dir, default /etc/cni/net.d) and under /var/lib/cni/networks/.',
  },
  {
    id: 'cis-1.1.10', cis: '1.1.10', title: 'CNI config and state files owned by root', severity: 'medium',
    component: 'kubelet', runsOn: 'kubelet', reads: [files('cni')], op: ownerIs(ROOT),
    missing: 'no CNI configuration or state files found',
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil judges every CNI config and state file found.',
    remediation: 'Run `chown root:root` on every file in the CNI config dir (default /etc/cni/net.d) and under /var/lib/cni/networks/.',
  },
  // 1.1.11-1.1.12: etcd data directory
  {
    id: 'cis-1.1.11', cis: '1.1.11', title: 'etcd data directory mode 700 or tighter', severity: 'high',
    component: 'etcd', runsOn: 'etcd', reads: [files('etcd.data-dir')], op: modeAtMost(0o700),
    missing: 'etcd data directory not found',
    remediation: 'Run `chmod 700` on the etcd data directory (etcd --data-dir, e.g. chmod 700 /var/lib/etcd).',
  },
  {
    id: 'cis-1.1.12', cis: '1.1.12', title: 'etcd data directory owned by etcd user', severity: 'medium',
    component: 'etcd', runsOn: 'etcd', reads: [files('etcd.data-dir')], op: ownerIs({ user: 'etcd', group: 'etcd' }),
    missing: 'etcd data directory not found',
    remediation: 'Create an `etcd` user and group if needed and run `chown etcd:etcd` on the etcd data directory (etcd --data-dir, e.g. chown etcd:etcd /var/lib/etcd).',
  },
  // 1.1.13-1.1.18: kubeconfigs
  {
    id: 'cis-1.1.13', cis: '1.1.13', title: 'Admin kubeconfig files mode 600 or tighter', severity: 'critical',
    component: 'cluster', reads: [files('admin.kubeconfig')], op: modeAtMost(0o600),
    missing: 'no admin kubeconfig (admin.conf, super-admin.conf) found',
    remediation: chmod('600', '/etc/kubernetes/admin.conf /etc/kubernetes/super-admin.conf'),
  },
  {
    id: 'cis-1.1.14', cis: '1.1.14', title: 'Admin kubeconfig files owned by root', severity: 'critical',
    component: 'cluster', reads: [files('admin.kubeconfig')], op: ownerIs(ROOT),
    missing: 'no admin kubeconfig (admin.conf, super-admin.conf) found',
    remediation: chownRoot('/etc/kubernetes/admin.conf /etc/kubernetes/super-admin.conf'),
  },
  {
    id: 'cis-1.1.15', cis: '1.1.15', title: 'Scheduler kubeconfig mode 600 or tighter', severity: 'high',
    component: 'kube-scheduler', runsOn: 'kube-scheduler', reads: [files('scheduler.kubeconfig')], op: modeAtMost(0o600),
    missing: 'no kube-scheduler kubeconfig found',
    remediation: chmod('600', '/etc/kubernetes/scheduler.conf'),
  },
  {
    id: 'cis-1.1.16', cis: '1.1.16', title: 'Scheduler kubeconfig owned by root', severity: 'high',
    component: 'kube-scheduler', runsOn: 'kube-scheduler', reads: [files('scheduler.kubeconfig')], op: ownerIs(ROOT),
    missing: 'no kube-scheduler kubeconfig found',
    remediation: chownRoot('/etc/kubernetes/scheduler.conf'),
  },
  {
    id: 'cis-1.1.17', cis: '1.1.17', title: 'Controller-manager kubeconfig mode 600 or tighter', severity: 'high',
    component: 'kube-controller-manager', runsOn: 'kube-controller-manager', reads: [files('controller-manager.kubeconfig')], op: modeAtMost(0o600),
    missing: 'no kube-controller-manager kubeconfig found',
    remediation: chmod('600', '/etc/kubernetes/controller-manager.conf'),
  },
  {
    id: 'cis-1.1.18', cis: '1.1.18', title: 'Controller-manager kubeconfig owned by root', severity: 'high',
    component: 'kube-controller-manager', runsOn: 'kube-controller-manager', reads: [files('controller-manager.kubeconfig')], op: ownerIs(ROOT),
    missing: 'no kube-controller-manager kubeconfig found',
    remediation: chownRoot('/etc/kubernetes/controller-manager.conf'),
  },
  // 1.1.19-1.1.21: PKI
  {
    id: 'cis-1.1.19', cis: '1.1.19', title: 'PKI directory tree owned by root', severity: 'high',
    component: 'cluster', reads: [files('pki.tree')], op: ownerIs(ROOT),
    missing: 'no Kubernetes PKI directory found',
    remediation: 'Run `chown -R root:root /etc/kubernetes/pki/`.',
  },
  {
    id: 'cis-1.1.20', cis: '1.1.20', title: 'PKI certificates mode 644 or tighter', severity: 'medium',
    component: 'cluster', reads: [files('pki.cert')], op: modeAtMost(0o644),
    missing: 'no certificate files found in the Kubernetes PKI directory',
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil judges every *.crt file in the PKI tree.',
    remediation: 'Run `find /etc/kubernetes/pki -name "*.crt" -exec chmod 644 {} +`.',
  },
  {
    id: 'cis-1.1.21', cis: '1.1.21', title: 'PKI private keys mode 600 or tighter', severity: 'critical',
    component: 'cluster', reads: [files('pki.key')], op: modeAtMost(0o600),
    missing: 'no private key files found in the Kubernetes PKI directory',
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil judges every *.key file in the PKI tree.',
    remediation: 'Run `find /etc/kubernetes/pki -name "*.key" -exec chmod 600 {} +`.',
  },

  // 1.2: kube-apiserver
  {
    id: 'cis-1.2.1', cis: '1.2.1', title: 'API server rejects anonymous requests', severity: 'medium',
    component: 'kube-apiserver', reads: settings('kube-apiserver', 'anonymous-auth', 'authentication-config'), judge: anonymousAuth,
    remediation: inApiserverManifest('set --anonymous-auth=false (or, with --authentication-config, restrict anonymous to the health endpoints); make sure health probes do not rely on anonymous access'),
    differsFromKubeBench: 'kube-bench lists this as a manual check. Vigil judges the effective value: unset means the default true and fails; with --authentication-config and no flag it warns.',
  },
  {
    id: 'cis-1.2.2', cis: '1.2.2', title: 'No static token file on API server', severity: 'high',
    component: 'kube-apiserver', reads: [setting('kube-apiserver', 'token-auth-file')], op: notSet(),
    remediation: inApiserverManifest('remove --token-auth-file; use client certificates, OIDC or webhook token authentication instead'),
  },
  {
    id: 'cis-1.2.3', cis: '1.2.3', title: 'DenyServiceExternalIPs admission plugin turned on', severity: 'medium',
    component: 'kube-apiserver', reads: admissionReads, judge: admissionPlugin('DenyServiceExternalIPs', { wantOn: true, defaultOn: false }),
    remediation: admissionRemediation('DenyServiceExternalIPs', true) + ' It blocks new Services with spec.externalIPs (CVE-2020-8554); keep it off only if you rely on externalIPs.',
    differsFromKubeBench: `kube-bench lists this as a manual check. ${EFFECTIVE_PLUGINS}`,
  },
  {
    id: 'cis-1.2.4', cis: '1.2.4', title: 'API server authenticates to kubelets with cert', severity: 'high',
    component: 'kube-apiserver', reads: settings('kube-apiserver', 'kubelet-client-certificate', 'kubelet-client-key'), op: allSet(),
    remediation: inApiserverManifest('set --kubelet-client-certificate and --kubelet-client-key to a client certificate and key the kubelets trust (kubeadm: /etc/kubernetes/pki/apiserver-kubelet-client.crt/.key)'),
  },
  {
    id: 'cis-1.2.5', cis: '1.2.5', title: 'API server verifies kubelet serving certificates', severity: 'medium',
    component: 'kube-apiserver', reads: [setting('kube-apiserver', 'kubelet-certificate-authority')], op: isSet(),
    remediation: inApiserverManifest('set --kubelet-certificate-authority to the CA that signs the kubelet serving certificates (the kubelets need CA-signed serving certs, e.g. serverTLSBootstrap: true)'),
  },
  {
    id: 'cis-1.2.6', cis: '1.2.6', title: 'API server authorization never AlwaysAllow', severity: 'critical',
    component: 'kube-apiserver', reads: settings('kube-apiserver', 'authorization-mode', 'authorization-config'),
    judge: authorizers((m) => !m.includes('AlwaysAllow'), 'set, without AlwaysAllow'),
    remediation: inApiserverManifest('set --authorization-mode to Node,RBAC (never AlwaysAllow)'),
    differsFromKubeBench: 'Unset --authorization-mode is judged as the API server default AlwaysAllow; with --authorization-config (structured authorization) Vigil warns instead of failing.',
  },
  {
    id: 'cis-1.2.7', cis: '1.2.7', title: 'Node authorizer enabled on API server', severity: 'medium',
    component: 'kube-apiserver', reads: settings('kube-apiserver', 'authorization-mode', 'authorization-config'),
    judge: authorizers((m) => m.includes('Node'), 'includes Node'),
    remediation: inApiserverManifest('include Node in --authorization-mode, e.g. --authorization-mode=Node,RBAC'),
    differsFromKubeBench: UNSET_AUTHORIZERS,
  },
  {
    id: 'cis-1.2.8', cis: '1.2.8', title: 'RBAC authorizer enabled on API server', severity: 'high',
    component: 'kube-apiserver', reads: settings('kube-apiserver', 'authorization-mode', 'authorization-config'),
    judge: authorizers((m) => m.includes('RBAC'), 'includes RBAC'),
    remediation: inApiserverManifest('include RBAC in --authorization-mode, e.g. --authorization-mode=Node,RBAC'),
    differsFromKubeBench: UNSET_AUTHORIZERS,
  },
  {
    id: 'cis-1.2.9', cis: '1.2.9', title: 'EventRateLimit admission plugin turned on', severity: 'low',
    component: 'kube-apiserver', reads: admissionReads, judge: admissionPlugin('EventRateLimit', { wantOn: true, defaultOn: false }),
    remediation: admissionRemediation('EventRateLimit', true) + ' It needs --admission-control-config-file naming an EventRateLimit configuration with limits.',
    differsFromKubeBench: `kube-bench lists this as a manual check. ${EFFECTIVE_PLUGINS}`,
  },
  {
    id: 'cis-1.2.10', cis: '1.2.10', title: 'AlwaysAdmit admission plugin not turned on', severity: 'high',
    component: 'kube-apiserver', reads: admissionReads, judge: admissionPlugin('AlwaysAdmit', { wantOn: false, defaultOn: false }),
    remediation: admissionRemediation('AlwaysAdmit', false),
    differsFromKubeBench: EFFECTIVE_PLUGINS,
  },
  {
    id: 'cis-1.2.11', cis: '1.2.11', title: 'AlwaysPullImages admission plugin turned on', severity: 'medium',
    component: 'kube-apiserver', reads: admissionReads, judge: admissionPlugin('AlwaysPullImages', { wantOn: true, defaultOn: false }),
    remediation: admissionRemediation('AlwaysPullImages', true) + ' It makes every pod re-check registry credentials, so private images cached on a node cannot be used by pods without pull rights.',
    differsFromKubeBench: `kube-bench lists this as a manual check. ${EFFECTIVE_PLUGINS}`,
  },
  {
    id: 'cis-1.2.12', cis: '1.2.12', title: 'ServiceAccount admission plugin not disabled', severity: 'medium',
    component: 'kube-apiserver', reads: admissionReads, judge: admissionPlugin('ServiceAccount', { wantOn: true, defaultOn: true }),
    remediation: notDisabledRemediation('ServiceAccount'),
    differsFromKubeBench: EFFECTIVE_PLUGINS,
  },
  {
    id: 'cis-1.2.13', cis: '1.2.13', title: 'NamespaceLifecycle admission plugin not disabled', severity: 'medium',
    component: 'kube-apiserver', reads: admissionReads, judge: admissionPlugin('NamespaceLifecycle', { wantOn: true, defaultOn: true }),
    remediation: notDisabledRemediation('NamespaceLifecycle'),
    differsFromKubeBench: EFFECTIVE_PLUGINS,
  },
  {
    id: 'cis-1.2.14', cis: '1.2.14', title: 'NodeRestriction admission plugin turned on', severity: 'high',
    component: 'kube-apiserver', reads: admissionReads, judge: admissionPlugin('NodeRestriction', { wantOn: true, defaultOn: false }),
    remediation: admissionRemediation('NodeRestriction', true) + ' Kubelets must use node credentials (system:node:<name>) for it to take effect.',
    differsFromKubeBench: EFFECTIVE_PLUGINS,
  },
  {
    id: 'cis-1.2.15', cis: '1.2.15', title: 'API server profiling endpoints off', severity: 'low',
    component: 'kube-apiserver', reads: [setting('kube-apiserver', 'profiling')], op: equals(false),
    remediation: inApiserverManifest('set --profiling=false'),
  },
  {
    id: 'cis-1.2.16', cis: '1.2.16', title: 'API server writes an audit log', severity: 'medium',
    component: 'kube-apiserver', reads: [setting('kube-apiserver', 'audit-log-path')], op: isSet(),
    remediation: inApiserverManifest('set --audit-log-path (e.g. /var/log/kubernetes/audit/audit.log, mounted from the host) together with --audit-policy-file'),
  },
  {
    id: 'cis-1.2.17', cis: '1.2.17', title: 'Audit log files kept 30+ days', severity: 'medium',
    component: 'kube-apiserver', reads: settings('kube-apiserver', 'audit-log-maxage', 'audit-log-path'), judge: auditRetention('audit-log-maxage', 30),
    remediation: inApiserverManifest('set --audit-log-maxage=30 or more'),
  },
  {
    id: 'cis-1.2.18', cis: '1.2.18', title: 'At least 10 rotated audit log files kept', severity: 'medium',
    component: 'kube-apiserver', reads: settings('kube-apiserver', 'audit-log-maxbackup', 'audit-log-path'), judge: auditRetention('audit-log-maxbackup', 10),
    remediation: inApiserverManifest('set --audit-log-maxbackup=10 or more'),
  },
  {
    id: 'cis-1.2.19', cis: '1.2.19', title: 'Audit log rotation size 100 MB or more', severity: 'medium',
    component: 'kube-apiserver', reads: settings('kube-apiserver', 'audit-log-maxsize', 'audit-log-path'), judge: auditRetention('audit-log-maxsize', 100),
    remediation: inApiserverManifest('set --audit-log-maxsize=100 or more (megabytes)'),
  },
  {
    id: 'cis-1.2.20', cis: '1.2.20', title: 'API server request timeout chosen deliberately', severity: 'low',
    component: 'kube-apiserver', reads: [setting('kube-apiserver', 'request-timeout')],
    op: review('a value chosen for this cluster (manual review)',
      'manual check: raise it only if large list/watch requests time out; very high values make the API server easier to exhaust'),
    remediation: inApiserverManifest('set --request-timeout only when needed (e.g. --request-timeout=300s for slow large lists); keep the default 60s otherwise'),
  },
  {
    id: 'cis-1.2.21', cis: '1.2.21', title: 'Service account tokens checked against etcd', severity: 'medium',
    component: 'kube-apiserver', reads: [setting('kube-apiserver', 'service-account-lookup')], op: equals(true),
    remediation: inApiserverManifest('remove --service-account-lookup=false (or set it to true) so deleted service accounts\' tokens stop working'),
  },
  {
    id: 'cis-1.2.22', cis: '1.2.22', title: 'Service account token verification key configured', severity: 'medium',
    component: 'kube-apiserver', reads: [setting('kube-apiserver', 'service-account-key-file')],
    op: isSet({ failDetail: 'the API server then verifies tokens with the key of --tls-private-key-file' }),
    remediation: inApiserverManifest('set --service-account-key-file to the public key matching the controller-manager\'s --service-account-private-key-file (kubeadm: /etc/kubernetes/pki/sa.pub)'),
  },
  {
    id: 'cis-1.2.23', cis: '1.2.23', title: 'API server authenticates to etcd with cert', severity: 'high',
    component: 'kube-apiserver', reads: settings('kube-apiserver', 'etcd-certfile', 'etcd-keyfile'), op: allSet(),
    remediation: inApiserverManifest('set --etcd-certfile and --etcd-keyfile to a client certificate and key etcd trusts (kubeadm: /etc/kubernetes/pki/apiserver-etcd-client.crt/.key)'),
  },
  {
    id: 'cis-1.2.24', cis: '1.2.24', title: 'API server serving certificate and key set', severity: 'medium',
    component: 'kube-apiserver', reads: settings('kube-apiserver', 'tls-cert-file', 'tls-private-key-file'), op: allSet(),
    remediation: inApiserverManifest('set --tls-cert-file and --tls-private-key-file to a CA-signed serving certificate and key (kubeadm: /etc/kubernetes/pki/apiserver.crt/.key)'),
  },
  {
    id: 'cis-1.2.25', cis: '1.2.25', title: 'API server client-certificate CA configured', severity: 'high',
    component: 'kube-apiserver', reads: [setting('kube-apiserver', 'client-ca-file')], op: isSet(),
    remediation: inApiserverManifest('set --client-ca-file to the cluster CA certificate (kubeadm: /etc/kubernetes/pki/ca.crt)'),
  },
  {
    id: 'cis-1.2.26', cis: '1.2.26', title: 'API server verifies etcd with a CA', severity: 'high',
    component: 'kube-apiserver', reads: [setting('kube-apiserver', 'etcd-cafile')], op: isSet(),
    remediation: inApiserverManifest('set --etcd-cafile to the etcd CA certificate (kubeadm: /etc/kubernetes/pki/etcd/ca.crt)'),
  },
  {
    id: 'cis-1.2.27', cis: '1.2.27', title: 'Secrets encryption-at-rest config supplied', severity: 'medium',
    component: 'kube-apiserver', reads: [setting('kube-apiserver', 'encryption-provider-config')],
    op: isSet({ failDetail: 'secrets are stored in etcd in plain text' }),
    remediation: 'Write an EncryptionConfiguration (e.g. /etc/kubernetes/enc/encryption-config.yaml) that encrypts secrets with aescbc, secretbox or kms v2, mount it into the kube-apiserver pod and set --encryption-provider-config to it; then rewrite existing secrets (kubectl get secrets -A -o json | kubectl replace -f -).',
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil judges the flag.',
  },
  {
    id: 'cis-1.2.28', cis: '1.2.28', title: 'Encryption-at-rest uses a strong provider', severity: 'high',
    component: 'kube-apiserver', reads: [setting('kube-apiserver', 'encryption-provider-config'), fact('encryptionConfig')], judge: encryptionProvider,
    remediation: 'In the file named by --encryption-provider-config, list a strong provider (aescbc, secretbox or kms v2) FIRST for the resources entry covering secrets; identity may follow only as a read fallback. Restart the API server and rewrite existing secrets (kubectl get secrets -A -o json | kubectl replace -f -).',
    differsFromKubeBench: 'kube-bench reads the provider after the last "providers:" line of the file, and it is a manual check. Vigil judges the first provider of the first resources entry that covers secrets (secrets, *. or *.*), which is the one the API server uses to write. aesgcm passes (a strong AEAD) with a note that its key must be rotated; kube-bench\'s list has only aescbc, kms and secretbox.',
  },
  {
    id: 'cis-1.2.29', cis: '1.2.29', title: 'API server restricted to strong TLS ciphers', severity: 'medium',
    component: 'kube-apiserver', reads: [setting('kube-apiserver', 'tls-cipher-suites')],
    op: onlyFrom(APISERVER_STRONG_CIPHERS, {
      expected: 'only strong AEAD suites', listName: 'the strong list',
      unsetDetail: "not set: Go's default suite list is used, which includes CBC-mode suites",
    }),
    remediation: inApiserverManifest(`set --tls-cipher-suites to strong AEAD suites only, e.g. --tls-cipher-suites=${APISERVER_STRONG_CIPHERS.slice(3, 5).join(',')},TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384`),
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil judges every listed suite against the strong list.',
  },
  {
    id: 'cis-1.2.30', cis: '1.2.30', title: 'Projected SA token lifetimes not auto-extended', severity: 'low',
    component: 'kube-apiserver', reads: [setting('kube-apiserver', 'service-account-extend-token-expiration')], op: equals(false),
    remediation: inApiserverManifest('set --service-account-extend-token-expiration=false'),
  },

  // 1.3: kube-controller-manager
  {
    id: 'cis-1.3.1', cis: '1.3.1', title: 'Terminated pod garbage-collection threshold configured', severity: 'low',
    component: 'kube-controller-manager', reads: [setting('kube-controller-manager', 'terminated-pod-gc-threshold')],
    op: isSet({ failDetail: 'the default (12500) lets terminated pods pile up before collection' }),
    remediation: inControllerManagerManifest('set --terminated-pod-gc-threshold to a value that suits the cluster, e.g. --terminated-pod-gc-threshold=10'),
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil fails when the flag is not set.',
  },
  {
    id: 'cis-1.3.2', cis: '1.3.2', title: 'Controller-manager profiling endpoints off', severity: 'low',
    component: 'kube-controller-manager', reads: [setting('kube-controller-manager', 'profiling')], op: equals(false),
    remediation: inControllerManagerManifest('set --profiling=false'),
  },
  {
    id: 'cis-1.3.3', cis: '1.3.3', title: 'Controllers run with per-controller service accounts', severity: 'medium',
    component: 'kube-controller-manager', reads: [setting('kube-controller-manager', 'use-service-account-credentials')], op: equals(true),
    remediation: inControllerManagerManifest('set --use-service-account-credentials=true (RBAC must grant the per-controller service accounts their roles, as the default bootstrap policy does)'),
  },
  {
    id: 'cis-1.3.4', cis: '1.3.4', title: 'Service account signing key configured', severity: 'medium',
    component: 'kube-controller-manager', reads: [setting('kube-controller-manager', 'service-account-private-key-file')], op: isSet(),
    remediation: inControllerManagerManifest('set --service-account-private-key-file to the service account signing key (kubeadm: /etc/kubernetes/pki/sa.key)'),
  },
  {
    id: 'cis-1.3.5', cis: '1.3.5', title: 'Root CA bundle handed to service accounts', severity: 'low',
    component: 'kube-controller-manager', reads: [setting('kube-controller-manager', 'root-ca-file')], op: isSet(),
    remediation: inControllerManagerManifest('set --root-ca-file to the cluster CA certificate (kubeadm: /etc/kubernetes/pki/ca.crt)'),
  },
  {
    id: 'cis-1.3.6', cis: '1.3.6', title: 'Kubelet serving-cert rotation gate not disabled', severity: 'medium',
    component: 'kube-controller-manager', reads: [setting('kube-controller-manager', 'feature-gates')], judge: serverCertRotationGate,
    remediation: inControllerManagerManifest('remove RotateKubeletServerCertificate=false from --feature-gates'),
    differsFromKubeBench: 'Vigil reads --feature-gates as a map (last value of a repeated gate wins, any Go boolean spelling of false), not as a substring.',
  },
  {
    id: 'cis-1.3.7', cis: '1.3.7', title: 'Controller-manager listens on loopback only', severity: 'medium',
    component: 'kube-controller-manager', reads: [setting('kube-controller-manager', 'bind-address')], op: loopback('127.0.0.1 (loopback)'),
    remediation: inControllerManagerManifest('set --bind-address=127.0.0.1'),
    differsFromKubeBench: LOOPBACK_DEFAULT,
  },

  // 1.4: kube-scheduler
  {
    id: 'cis-1.4.1', cis: '1.4.1', title: 'Scheduler profiling endpoints off', severity: 'low',
    component: 'kube-scheduler', reads: settings('kube-scheduler', 'profiling', 'config'), judge: schedulerProfiling,
    remediation: inSchedulerManifest('set --profiling=false, or enableProfiling: false in the KubeSchedulerConfiguration named by --config'),
    differsFromKubeBench: 'When --config is set the flag is ignored by the scheduler, so Vigil warns instead of judging the flag.',
  },
  {
    id: 'cis-1.4.2', cis: '1.4.2', title: 'Scheduler listens on loopback only', severity: 'medium',
    component: 'kube-scheduler', reads: [setting('kube-scheduler', 'bind-address')], op: loopback('127.0.0.1 (loopback)'),
    remediation: inSchedulerManifest('set --bind-address=127.0.0.1'),
    differsFromKubeBench: LOOPBACK_DEFAULT,
  },
];
