// CIS Kubernetes Benchmark 1.12, section 4: worker nodes. Kubelet files (4.1) and settings (4.2), judged on
// effective values (flag > --config-dir drop-ins > the --config file the kubelet was started with > the default of
// this kind of kubelet), and kube-proxy (4.1.3, 4.1.4, 4.3.1). kube-bench's cfg/cis-1.12/node.yaml.
import { fact, files, settings } from '../../../facts/inputs.js';
import type { Row } from '../../rows.js';
import { ROOT, above, equals, isSet, modeAtMost, notSet, onlyFrom, ownerIs } from '../../ops.js';
import {
  kubeletAnonymous, kubeletAuthorizationMode, kubeletEventQps, kubeletReadOnlyPort, kubeletServerRotation, kubeletServingCert,
  kubeletStreamingTimeout,
} from '../../judges/kubelet.js';
import { kubeProxyMetrics } from '../../judges/kube-proxy.js';

const KUBELET_STRONG_CIPHERS = [
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
] as const;

const CONFIG = '/var/lib/kubelet/config.yaml';
const inConfig = (key: string, value: string, flag: string) =>
  `Set ${key}: ${value} in the kubelet config file (--config, kubeadm: ${CONFIG}) or pass ${flag}, remove any conflicting flag from the kubelet unit (KUBELET_ARGS, /var/lib/kubelet/kubeadm-flags.env), then \`systemctl daemon-reload && systemctl restart kubelet\`.`;

const EFFECTIVE = 'Vigil judges the effective value: flag, then config drop-ins, then the config file, then the default of this kind of kubelet (config-file defaults differ from the legacy flags-only defaults).';

const file = {
  'kubelet.service': 'no kubelet systemd unit or drop-in found',
  'kubelet.kubeconfig': 'no kubelet kubeconfig found',
  'kubelet.client-ca': 'the kubelet has no client CA file configured (see cis-4.2.3)',
  'kubelet.config': 'the kubelet runs without a --config file',
} as const;

const kubelet = (...keys: string[]) => settings('kubelet', ...keys);

export const NODE: Row[] = [
  // 4.1: kubelet and kube-proxy files
  {
    id: 'cis-4.1.1', cis: '4.1.1', title: 'Kubelet systemd unit mode 600 or tighter', severity: 'medium',
    component: 'kubelet', runsOn: 'kubelet', reads: [files('kubelet.service')], op: modeAtMost(0o600), missing: file['kubelet.service'],
    remediation: 'Run `chmod 600 /etc/systemd/system/kubelet.service.d/10-kubeadm.conf` (or the unit file the kubelet uses).',
  },
  {
    id: 'cis-4.1.2', cis: '4.1.2', title: 'Kubelet systemd unit owned by root', severity: 'medium',
    component: 'kubelet', runsOn: 'kubelet', reads: [files('kubelet.service')], op: ownerIs(ROOT), missing: file['kubelet.service'],
    remediation: 'Run `chown root:root /etc/systemd/system/kubelet.service.d/10-kubeadm.conf` (or the unit file the kubelet uses).',
    differsFromKubeBench: 'kube-bench passes when the unit file is missing; Vigil skips (nothing to judge).',
  },
  {
    id: 'cis-4.1.3', cis: '4.1.3', title: 'kube-proxy kubeconfig mode 600 or tighter', severity: 'medium',
    component: 'kube-proxy', runsOn: 'kube-proxy', reads: [files('kube-proxy.kubeconfig')], op: modeAtMost(0o600),
    missing: 'no kube-proxy kubeconfig found on the host (it may live in a ConfigMap mounted into the kube-proxy pod)',
    remediation: 'Run `chmod 600` on the kubeconfig kube-proxy uses (--kubeconfig or clientConnection.kubeconfig, e.g. /etc/kubernetes/proxy.conf).',
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil judges the kubeconfig kube-proxy is configured with (or the first default path that exists).',
  },
  {
    id: 'cis-4.1.4', cis: '4.1.4', title: 'kube-proxy kubeconfig owned by root', severity: 'medium',
    component: 'kube-proxy', runsOn: 'kube-proxy', reads: [files('kube-proxy.kubeconfig')], op: ownerIs(ROOT),
    missing: 'no kube-proxy kubeconfig found on the host (it may live in a ConfigMap mounted into the kube-proxy pod)',
    remediation: 'Run `chown root:root` on the kubeconfig kube-proxy uses (--kubeconfig or clientConnection.kubeconfig, e.g. /etc/kubernetes/proxy.conf).',
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil judges the kubeconfig kube-proxy is configured with (or the first default path that exists).',
  },
  {
    id: 'cis-4.1.5', cis: '4.1.5', title: 'Kubelet kubeconfig mode 600 or tighter', severity: 'high',
    component: 'kubelet', runsOn: 'kubelet', reads: [files('kubelet.kubeconfig')], op: modeAtMost(0o600), missing: file['kubelet.kubeconfig'],
    remediation: 'Run `chmod 600 /etc/kubernetes/kubelet.conf` (or the file named by kubelet --kubeconfig).',
  },
  {
    id: 'cis-4.1.6', cis: '4.1.6', title: 'Kubelet kubeconfig owned by root', severity: 'high',
    component: 'kubelet', runsOn: 'kubelet', reads: [files('kubelet.kubeconfig')], op: ownerIs(ROOT), missing: file['kubelet.kubeconfig'],
    remediation: 'Run `chown root:root /etc/kubernetes/kubelet.conf` (or the file named by kubelet --kubeconfig).',
  },
  {
    id: 'cis-4.1.7', cis: '4.1.7', title: 'Kubelet client CA file mode 644 or tighter', severity: 'medium',
    component: 'kubelet', runsOn: 'kubelet', reads: [files('kubelet.client-ca')], op: modeAtMost(0o644), missing: file['kubelet.client-ca'],
    remediation: 'Run `chmod 644` on the file named by authentication.x509.clientCAFile / --client-ca-file (kubeadm: /etc/kubernetes/pki/ca.crt).',
    differsFromKubeBench: 'kube-bench lists this as a manual check and falls back to /etc/kubernetes/pki/ca.crt; Vigil judges only the client CA file the kubelet is configured with, and skips when there is none.',
  },
  {
    id: 'cis-4.1.8', cis: '4.1.8', title: 'Kubelet client CA file owned by root', severity: 'medium',
    component: 'kubelet', runsOn: 'kubelet', reads: [files('kubelet.client-ca')], op: ownerIs(ROOT), missing: file['kubelet.client-ca'],
    remediation: 'Run `chown root:root` on the file named by authentication.x509.clientCAFile / --client-ca-file (kubeadm: /etc/kubernetes/pki/ca.crt).',
    differsFromKubeBench: 'kube-bench lists this as a manual check and falls back to /etc/kubernetes/pki/ca.crt; Vigil judges only the client CA file the kubelet is configured with, and skips when there is none.',
  },
  {
    id: 'cis-4.1.9', cis: '4.1.9', title: 'Kubelet config file mode 600 or tighter', severity: 'high',
    component: 'kubelet', runsOn: 'kubelet', reads: [files('kubelet.config')], op: modeAtMost(0o600), missing: file['kubelet.config'],
    remediation: `Run \`chmod 600 ${CONFIG}\` (or the file named by kubelet --config).`,
  },
  {
    id: 'cis-4.1.10', cis: '4.1.10', title: 'Kubelet config file owned by root', severity: 'high',
    component: 'kubelet', runsOn: 'kubelet', reads: [files('kubelet.config')], op: ownerIs(ROOT), missing: file['kubelet.config'],
    remediation: `Run \`chown root:root ${CONFIG}\` (or the file named by kubelet --config).`,
  },

  // 4.2: kubelet settings
  {
    id: 'cis-4.2.1', cis: '4.2.1', title: 'Kubelet rejects anonymous requests', severity: 'high',
    component: 'kubelet', reads: kubelet('authentication.anonymous.enabled', 'authorization.mode'), judge: kubeletAnonymous,
    remediation: inConfig('authentication.anonymous.enabled', 'false', '--anonymous-auth=false'),
    differsFromKubeBench: `${EFFECTIVE} A config-file kubelet without the key passes (default false); a flags-only kubelet without the flag fails (default true). Severity rises to critical when authorization is AlwaysAllow.`,
  },
  {
    id: 'cis-4.2.2', cis: '4.2.2', title: 'Kubelet authorization never AlwaysAllow', severity: 'critical',
    component: 'kubelet', reads: kubelet('authorization.mode'), judge: kubeletAuthorizationMode,
    remediation: inConfig('authorization.mode', 'Webhook', '--authorization-mode=Webhook') + ' Webhook authorization also needs authentication.webhook.enabled: true.',
    differsFromKubeBench: `${EFFECTIVE} A config-file kubelet without the key passes (default Webhook); a flags-only kubelet without the flag fails (default AlwaysAllow).`,
  },
  {
    id: 'cis-4.2.3', cis: '4.2.3', title: 'Kubelet client CA configured', severity: 'high',
    component: 'kubelet', reads: kubelet('authentication.x509.clientCAFile'),
    op: isSet({ failDetail: 'client certificates (e.g. the API server\'s) are not verified' }),
    remediation: inConfig('authentication.x509.clientCAFile', '/etc/kubernetes/pki/ca.crt', '--client-ca-file=/etc/kubernetes/pki/ca.crt'),
  },
  {
    id: 'cis-4.2.4', cis: '4.2.4', title: 'Kubelet unauthenticated read-only port disabled', severity: 'high',
    component: 'kubelet', reads: kubelet('readOnlyPort'), judge: kubeletReadOnlyPort,
    remediation: inConfig('readOnlyPort', '0', '--read-only-port=0'),
    differsFromKubeBench: `${EFFECTIVE} kube-bench passes when the setting is absent; a flags-only kubelet then listens on 10255 (legacy default, version-dependent), so Vigil fails it.`,
  },
  {
    id: 'cis-4.2.5', cis: '4.2.5', title: 'Idle streaming connections eventually time out', severity: 'low',
    component: 'kubelet', reads: kubelet('streamingConnectionIdleTimeout'), judge: kubeletStreamingTimeout,
    remediation: inConfig('streamingConnectionIdleTimeout', '4h0m0s (or shorter)', '--streaming-connection-idle-timeout=4h0m0s'),
    differsFromKubeBench: 'kube-bench lists this as a manual check and compares text. Vigil parses the Go duration: 0, 0s, 0h0m0s given by flag fail; a zero duration in the config file passes, because the kubelet defaults it to 4h (kubeadm writes 0s there).',
  },
  {
    id: 'cis-4.2.6', cis: '4.2.6', title: 'Kubelet manages its iptables utility chains', severity: 'low',
    component: 'kubelet', reads: kubelet('makeIPTablesUtilChains'), op: equals(true),
    remediation: inConfig('makeIPTablesUtilChains', 'true', '--make-iptables-util-chains=true'),
  },
  {
    id: 'cis-4.2.7', cis: '4.2.7', title: 'Kubelet does not override node hostname', severity: 'low',
    component: 'kubelet', reads: kubelet('hostnameOverride'),
    op: notSet({ failDetail: 'some cloud providers need it; if so, document the exception' }),
    remediation: 'Remove --hostname-override from the kubelet unit (e.g. /etc/systemd/system/kubelet.service.d/10-kubeadm.conf or /var/lib/kubelet/kubeadm-flags.env), then `systemctl daemon-reload && systemctl restart kubelet`.',
  },
  {
    id: 'cis-4.2.8', cis: '4.2.8', title: 'Kubelet event rate allows adequate capture', severity: 'low',
    component: 'kubelet', reads: kubelet('eventRecordQPS'), judge: kubeletEventQps,
    remediation: inConfig('eventRecordQPS', 'a value that captures the events you need (0 = unlimited)', '--event-qps=<n>'),
    differsFromKubeBench: `kube-bench lists this as a manual check. ${EFFECTIVE}`,
  },
  {
    id: 'cis-4.2.9', cis: '4.2.9', title: 'Kubelet serving certificate and key set', severity: 'medium',
    component: 'kubelet', reads: kubelet('tlsCertFile', 'tlsPrivateKeyFile', 'serverTLSBootstrap'), judge: kubeletServingCert,
    remediation: 'Set tlsCertFile and tlsPrivateKeyFile (--tls-cert-file, --tls-private-key-file) in the kubelet config to a CA-signed serving certificate, or set serverTLSBootstrap: true and approve the kubelet-serving CSRs; restart the kubelet.',
    differsFromKubeBench: 'kube-bench lists this as a manual check that needs both flags; Vigil also passes a kubelet with serverTLSBootstrap: true, whose serving certificate is CA-signed and rotated.',
  },
  {
    id: 'cis-4.2.10', cis: '4.2.10', title: 'Kubelet client certificate rotation not disabled', severity: 'medium',
    component: 'kubelet', reads: kubelet('rotateCertificates'), op: equals(true),
    remediation: inConfig('rotateCertificates', 'true', '--rotate-certificates=true'),
    differsFromKubeBench: `${EFFECTIVE} kube-bench passes when the setting is absent; the kubelet default is false (no rotation), so Vigil fails it.`,
  },
  {
    id: 'cis-4.2.11', cis: '4.2.11', title: 'Kubelet serving-cert rotation gate not disabled', severity: 'medium',
    component: 'kubelet', reads: kubelet('featureGates.RotateKubeletServerCertificate', 'serverTLSBootstrap'), judge: kubeletServerRotation,
    remediation: 'Remove RotateKubeletServerCertificate=false from the kubelet feature gates and set serverTLSBootstrap: true in the kubelet config (or --rotate-server-certificates=true); approve the kubelet-serving CSRs (e.g. with a CSR approver) and restart the kubelet.',
    differsFromKubeBench: 'kube-bench (manual) only looks for the gate set to false. Vigil fails on the gate set to false and warns when the gate is on but serverTLSBootstrap is off, because the serving certificate is then never rotated.',
  },
  {
    id: 'cis-4.2.12', cis: '4.2.12', title: 'Kubelet restricted to strong TLS ciphers', severity: 'medium',
    component: 'kubelet', reads: kubelet('tlsCipherSuites'),
    op: onlyFrom(KUBELET_STRONG_CIPHERS, {
      expected: 'only strong AEAD suites', listName: 'the strong list',
      unsetDetail: "not set: Go's default suite list is used, which includes CBC-mode suites",
    }),
    remediation: inConfig('tlsCipherSuites', `[${KUBELET_STRONG_CIPHERS.join(', ')}]`, `--tls-cipher-suites=${KUBELET_STRONG_CIPHERS.join(',')}`),
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil judges every configured suite against the strong list.',
  },
  {
    id: 'cis-4.2.13', cis: '4.2.13', title: 'Per-pod PID limit configured', severity: 'low',
    component: 'kubelet', reads: kubelet('podPidsLimit'), op: above(0, { failDetail: 'no per-pod PID limit: one pod can exhaust the node\'s PIDs' }),
    remediation: inConfig('podPidsLimit', 'a positive limit, e.g. 4096', '--pod-max-pids=4096'),
    differsFromKubeBench: 'kube-bench (manual) passes whenever the setting is present; Vigil needs a positive limit, since -1 (the default) and 0 mean no limit.',
  },
  {
    id: 'cis-4.2.14', cis: '4.2.14', title: 'Kubelet applies RuntimeDefault seccomp by default', severity: 'medium',
    component: 'kubelet', reads: kubelet('seccompDefault'), op: equals(true),
    remediation: inConfig('seccompDefault', 'true', '--seccomp-default=true'),
    differsFromKubeBench: 'kube-bench (manual) passes whenever the setting is present; Vigil needs the effective value true.',
  },
  // Not in CIS 1.12 (earlier versions had it as 4.2.6): kept as Vigil's own check.
  {
    id: 'kubelet-protect-kernel-defaults', cis: null, title: 'Kubelet protects kernel defaults', severity: 'low',
    component: 'kubelet', reads: kubelet('protectKernelDefaults'), op: equals(true),
    remediation: inConfig('protectKernelDefaults', 'true', '--protect-kernel-defaults=true') + ' Set the kernel tunables the kubelet expects first (vm.overcommit_memory=1, vm.panic_on_oom=0, kernel.panic=10, kernel.panic_on_oops=1), or the kubelet will not start.',
  },

  // 4.3: kube-proxy
  {
    id: 'cis-4.3.1', cis: '4.3.1', title: 'kube-proxy metrics bound to loopback', severity: 'low',
    component: 'kube-proxy', reads: [...settings('kube-proxy', 'config', 'metricsBindAddress'), fact('kubeProxyConfig')], judge: kubeProxyMetrics,
    remediation: 'Set metricsBindAddress: 127.0.0.1:10249 in the kube-proxy configuration (kubeadm: the kube-proxy ConfigMap in kube-system, then restart the kube-proxy pods) or --metrics-bind-address=127.0.0.1:10249 when kube-proxy runs without --config.',
    differsFromKubeBench: 'kube-bench looks for the text 127.0.0.1 in the flag or config. Vigil follows kube-proxy: with --config the flag is ignored and the file (or its default 127.0.0.1:10249) counts; any loopback host (127.0.0.0/8, ::1, localhost) passes; an empty value disables the metrics server and passes.',
  },
];
