// CIS 4.1 (kubelet files) and 4.2 (kubelet settings), judged on effective values.
import type { Check } from '../../check.js';
import type { Setting } from '../../../facts/snapshot.js';
import type { Judgement } from './helpers.js';
import { validElements } from './helpers.js';
import { ROOT, fileOwnershipCheck, filePermissionCheck } from './file-checks.js';
import {
  asBool, asList, asNumber, fromConfigFile, isNonEmptyString, kubeletCheck, parseGoDuration, settingEvidence,
} from './kubelet-settings.js';

export const KUBELET_STRONG_CIPHERS = [
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

const fileChecks: Check[] = [
  filePermissionCheck({
    id: 'cis-4.1.1', cis: '4.1.1', title: 'Kubelet systemd unit mode 600 or tighter', severity: 'medium',
    component: 'kubelet', runsOn: 'kubelet', files: 'kubelet.service', mask: 0o600, missing: file['kubelet.service'],
    remediation: 'Run `chmod 600 /etc/systemd/system/kubelet.service.d/10-kubeadm.conf` (or the unit file the kubelet uses).',
  }),
  fileOwnershipCheck({
    id: 'cis-4.1.2', cis: '4.1.2', title: 'Kubelet systemd unit owned by root', severity: 'medium',
    component: 'kubelet', runsOn: 'kubelet', files: 'kubelet.service', owner: ROOT, missing: file['kubelet.service'],
    remediation: 'Run `chown root:root /etc/systemd/system/kubelet.service.d/10-kubeadm.conf` (or the unit file the kubelet uses).',
    differsFromKubeBench: 'kube-bench passes when the unit file is missing; Vigil skips (nothing to judge).',
  }),
  filePermissionCheck({
    id: 'cis-4.1.5', cis: '4.1.5', title: 'Kubelet kubeconfig mode 600 or tighter', severity: 'high',
    component: 'kubelet', runsOn: 'kubelet', files: 'kubelet.kubeconfig', mask: 0o600, missing: file['kubelet.kubeconfig'],
    remediation: 'Run `chmod 600 /etc/kubernetes/kubelet.conf` (or the file named by kubelet --kubeconfig).',
  }),
  fileOwnershipCheck({
    id: 'cis-4.1.6', cis: '4.1.6', title: 'Kubelet kubeconfig owned by root', severity: 'high',
    component: 'kubelet', runsOn: 'kubelet', files: 'kubelet.kubeconfig', owner: ROOT, missing: file['kubelet.kubeconfig'],
    remediation: 'Run `chown root:root /etc/kubernetes/kubelet.conf` (or the file named by kubelet --kubeconfig).',
  }),
  filePermissionCheck({
    id: 'cis-4.1.7', cis: '4.1.7', title: 'Kubelet client CA file mode 644 or tighter', severity: 'medium',
    component: 'kubelet', runsOn: 'kubelet', files: 'kubelet.client-ca', mask: 0o644, missing: file['kubelet.client-ca'],
    remediation: 'Run `chmod 644` on the file named by authentication.x509.clientCAFile / --client-ca-file (kubeadm: /etc/kubernetes/pki/ca.crt).',
    differsFromKubeBench: 'kube-bench lists this as a manual check and falls back to /etc/kubernetes/pki/ca.crt; Vigil judges only the client CA file the kubelet is configured with, and skips when there is none.',
  }),
  fileOwnershipCheck({
    id: 'cis-4.1.8', cis: '4.1.8', title: 'Kubelet client CA file owned by root', severity: 'medium',
    component: 'kubelet', runsOn: 'kubelet', files: 'kubelet.client-ca', owner: ROOT, missing: file['kubelet.client-ca'],
    remediation: 'Run `chown root:root` on the file named by authentication.x509.clientCAFile / --client-ca-file (kubeadm: /etc/kubernetes/pki/ca.crt).',
    differsFromKubeBench: 'kube-bench lists this as a manual check and falls back to /etc/kubernetes/pki/ca.crt; Vigil judges only the client CA file the kubelet is configured with, and skips when there is none.',
  }),
  filePermissionCheck({
    id: 'cis-4.1.9', cis: '4.1.9', title: 'Kubelet config file mode 600 or tighter', severity: 'high',
    component: 'kubelet', runsOn: 'kubelet', files: 'kubelet.config', mask: 0o600, missing: file['kubelet.config'],
    remediation: `Run \`chmod 600 ${CONFIG}\` (or the file named by kubelet --config).`,
  }),
  fileOwnershipCheck({
    id: 'cis-4.1.10', cis: '4.1.10', title: 'Kubelet config file owned by root', severity: 'high',
    component: 'kubelet', runsOn: 'kubelet', files: 'kubelet.config', owner: ROOT, missing: file['kubelet.config'],
    remediation: `Run \`chown root:root ${CONFIG}\` (or the file named by kubelet --config).`,
  }),
];

type S = Record<string, Setting>;

/** A boolean setting whose effective value must equal `want`. */
function boolIs(key: string, want: boolean) {
  return (s: S): Judgement => {
    const value = asBool(s[key].value);
    const detail = s[key].value !== undefined && value === undefined ? `"${String(s[key].value)}" is not a boolean` : undefined;
    return { status: value === want ? 'pass' : 'fail', evidence: settingEvidence(s[key], String(want), detail) };
  };
}

function anonymous(s: S): Judgement {
  const j = boolIs('authentication.anonymous.enabled', false)(s);
  const mode = s['authorization.mode'];
  if (j.status === 'fail' && mode && asList(mode.value)?.includes('AlwaysAllow')) {
    j.severity = 'critical';
    j.evidence.detail = [j.evidence.detail, 'authorization mode is AlwaysAllow: anyone who reaches the kubelet port can run commands in pods']
      .filter(Boolean).join('; ');
  }
  return j;
}

function authorizationMode(s: S): Judgement {
  const setting = s['authorization.mode'];
  // An empty mode in the config file is defaulted to Webhook by the kubelet.
  if (fromConfigFile(setting) && (asList(setting.value) ?? []).length === 0) {
    const evidence = settingEvidence(setting, 'set, not AlwaysAllow', 'empty in the config file: the kubelet defaults it to Webhook');
    return { status: 'pass', evidence: { ...evidence, value: 'Webhook', configured: setting.value } };
  }
  const modes = asList(setting.value);
  const ok = !!modes && modes.length > 0 && !modes.includes('AlwaysAllow');
  return { status: ok ? 'pass' : 'fail', evidence: settingEvidence(setting, 'set, not AlwaysAllow') };
}

function stringSet(key: string, why?: string) {
  return (s: S): Judgement => {
    const ok = isNonEmptyString(s[key].value);
    return { status: ok ? 'pass' : 'fail', evidence: settingEvidence(s[key], 'set', ok ? undefined : why) };
  };
}

function readOnlyPort(s: S): Judgement {
  const setting = s.readOnlyPort;
  const port = setting.value === undefined ? 0 : asNumber(setting.value);
  const detail = port === undefined ? `"${String(setting.value)}" is not a port number`
    : port !== 0 ? `unauthenticated, unencrypted kubelet API on port ${port}` : undefined;
  return { status: port === 0 ? 'pass' : 'fail', evidence: settingEvidence(setting, '0 (disabled)', detail) };
}

/** The kubelet defaults a zero duration read from its config file to 4h; only a flag can really set 0. */
function streamingTimeout(s: S): Judgement {
  const setting = s.streamingConnectionIdleTimeout;
  if (setting.value === undefined) return { status: 'pass', evidence: settingEvidence(setting, 'not 0') };
  const ns = typeof setting.value === 'string' ? parseGoDuration(setting.value) : asNumber(setting.value);
  if (ns === 0 && fromConfigFile(setting)) {
    const evidence = settingEvidence(setting, 'not 0', `the config file says ${String(setting.value)}; the kubelet defaults a zero duration to 4h0m0s`);
    return { status: 'pass', evidence: { ...evidence, value: '4h0m0s', configured: setting.value } };
  }
  const detail = ns === undefined ? `"${String(setting.value)}" is not a duration` : ns === 0 ? 'idle streaming connections never time out' : undefined;
  return { status: ns !== undefined && ns !== 0 ? 'pass' : 'fail', evidence: settingEvidence(setting, 'not 0', detail) };
}

function hostnameOverride(s: S): Judgement {
  const setting = s.hostnameOverride;
  const set = isNonEmptyString(setting.value);
  return {
    status: set ? 'fail' : 'pass',
    evidence: settingEvidence(setting, 'not set', set ? 'some cloud providers need it; if so, document the exception' : undefined),
  };
}

function eventQps(s: S): Judgement {
  const setting = s.eventRecordQPS;
  if (setting.value === undefined) return { status: 'pass', evidence: settingEvidence(setting, '>= 0') };
  const qps = asNumber(setting.value);
  const detail = qps === undefined ? `"${String(setting.value)}" is not a number` : qps === 0 ? '0 means no rate limit: every event is recorded' : undefined;
  return { status: qps !== undefined && qps >= 0 ? 'pass' : 'fail', evidence: settingEvidence(setting, '>= 0', detail) };
}

function servingCert(s: S): Judgement {
  const cert = s.tlsCertFile;
  const key = s.tlsPrivateKeyFile;
  const both = isNonEmptyString(cert.value) && isNonEmptyString(key.value);
  const bootstrap = asBool(s.serverTLSBootstrap.value) === true;
  const evidence = settingEvidence(cert, 'tlsCertFile and tlsPrivateKeyFile set, or serverTLSBootstrap true');
  evidence.key = 'tlsCertFile, tlsPrivateKeyFile';
  evidence.value = { tlsCertFile: cert.value ?? null, tlsPrivateKeyFile: key.value ?? null, serverTLSBootstrap: s.serverTLSBootstrap.value ?? null };
  if (both) return { status: 'pass', evidence };
  if (bootstrap) {
    evidence.source = s.serverTLSBootstrap.source;
    evidence.path = s.serverTLSBootstrap.path;
    evidence.detail = 'serverTLSBootstrap is on: the serving certificate is requested from the cluster CA and rotated';
    return { status: 'pass', evidence };
  }
  evidence.detail = 'the kubelet serves a self-signed certificate it generates itself';
  return { status: 'fail', evidence };
}

function serverRotation(s: S): Judgement {
  const gate = s['featureGates.RotateKubeletServerCertificate'];
  const bootstrap = s.serverTLSBootstrap;
  const gateOn = asBool(gate.value) !== false;
  if (!gateOn) {
    return { status: 'fail', evidence: settingEvidence(gate, 'not false', 'serving-certificate rotation is disabled by the feature gate') };
  }
  const evidence = settingEvidence(bootstrap, 'gate not false, serverTLSBootstrap true');
  evidence.value = { 'featureGates.RotateKubeletServerCertificate': gate.value ?? null, serverTLSBootstrap: bootstrap.value ?? null };
  if (asBool(bootstrap.value) === true) return { status: 'pass', evidence };
  evidence.detail = [
    gate.value === undefined ? 'the gate is on by default (since 1.12)' : undefined,
    'but serverTLSBootstrap is off, so the serving certificate is never rotated',
  ].filter(Boolean).join(', ');
  return { status: 'warn', evidence };
}

function cipherSuites(s: S): Judgement {
  const setting = s.tlsCipherSuites;
  const suites = asList(setting.value);
  const { ok, rejected } = validElements(suites, KUBELET_STRONG_CIPHERS);
  const detail = !suites || suites.length === 0 ? "not set: Go's default suite list is used, which includes CBC-mode suites"
    : rejected.length > 0 ? `not in the strong list: ${rejected.join(', ')}` : undefined;
  return { status: ok ? 'pass' : 'fail', evidence: settingEvidence(setting, 'only strong AEAD suites', detail) };
}

function podPids(s: S): Judgement {
  const setting = s.podPidsLimit;
  const limit = setting.value === undefined ? undefined : asNumber(setting.value);
  const ok = limit !== undefined && limit > 0;
  return {
    status: ok ? 'pass' : 'fail',
    evidence: settingEvidence(setting, '> 0', ok ? undefined : 'no per-pod PID limit: one pod can exhaust the node\'s PIDs'),
  };
}

const settingChecks: Check[] = [
  kubeletCheck({
    id: 'cis-4.2.1', cis: '4.2.1', title: 'Kubelet rejects anonymous requests', severity: 'high',
    keys: ['authentication.anonymous.enabled', 'authorization.mode'], judge: anonymous,
    remediation: inConfig('authentication.anonymous.enabled', 'false', '--anonymous-auth=false'),
    differsFromKubeBench: `${EFFECTIVE} A config-file kubelet without the key passes (default false); a flags-only kubelet without the flag fails (default true). Severity rises to critical when authorization is AlwaysAllow.`,
  }),
  kubeletCheck({
    id: 'cis-4.2.2', cis: '4.2.2', title: 'Kubelet authorization never AlwaysAllow', severity: 'critical',
    keys: ['authorization.mode'], judge: authorizationMode,
    remediation: inConfig('authorization.mode', 'Webhook', '--authorization-mode=Webhook') + ' Webhook authorization also needs authentication.webhook.enabled: true.',
    differsFromKubeBench: `${EFFECTIVE} A config-file kubelet without the key passes (default Webhook); a flags-only kubelet without the flag fails (default AlwaysAllow).`,
  }),
  kubeletCheck({
    id: 'cis-4.2.3', cis: '4.2.3', title: 'Kubelet client CA configured', severity: 'high',
    keys: ['authentication.x509.clientCAFile'], judge: stringSet('authentication.x509.clientCAFile', 'client certificates (e.g. the API server\'s) are not verified'),
    remediation: inConfig('authentication.x509.clientCAFile', '/etc/kubernetes/pki/ca.crt', '--client-ca-file=/etc/kubernetes/pki/ca.crt'),
  }),
  kubeletCheck({
    id: 'cis-4.2.4', cis: '4.2.4', title: 'Kubelet unauthenticated read-only port disabled', severity: 'high',
    keys: ['readOnlyPort'], judge: readOnlyPort,
    remediation: inConfig('readOnlyPort', '0', '--read-only-port=0'),
    differsFromKubeBench: `${EFFECTIVE} kube-bench passes when the setting is absent; a flags-only kubelet then listens on 10255 (legacy default, version-dependent), so Vigil fails it.`,
  }),
  kubeletCheck({
    id: 'cis-4.2.5', cis: '4.2.5', title: 'Idle streaming connections eventually time out', severity: 'low',
    keys: ['streamingConnectionIdleTimeout'], judge: streamingTimeout,
    remediation: inConfig('streamingConnectionIdleTimeout', '4h0m0s (or shorter)', '--streaming-connection-idle-timeout=4h0m0s'),
    differsFromKubeBench: 'kube-bench lists this as a manual check and compares text. Vigil parses the Go duration: 0, 0s, 0h0m0s given by flag fail; a zero duration in the config file passes, because the kubelet defaults it to 4h (kubeadm writes 0s there).',
  }),
  kubeletCheck({
    id: 'cis-4.2.6', cis: '4.2.6', title: 'Kubelet manages its iptables utility chains', severity: 'low',
    keys: ['makeIPTablesUtilChains'], judge: boolIs('makeIPTablesUtilChains', true),
    remediation: inConfig('makeIPTablesUtilChains', 'true', '--make-iptables-util-chains=true'),
  }),
  kubeletCheck({
    id: 'cis-4.2.7', cis: '4.2.7', title: 'Kubelet does not override node hostname', severity: 'low',
    keys: ['hostnameOverride'], judge: hostnameOverride,
    remediation: 'Remove --hostname-override from the kubelet unit (e.g. /etc/systemd/system/kubelet.service.d/10-kubeadm.conf or /var/lib/kubelet/kubeadm-flags.env), then `systemctl daemon-reload && systemctl restart kubelet`.',
  }),
  kubeletCheck({
    id: 'cis-4.2.8', cis: '4.2.8', title: 'Kubelet event rate allows adequate capture', severity: 'low',
    keys: ['eventRecordQPS'], judge: eventQps,
    remediation: inConfig('eventRecordQPS', 'a value that captures the events you need (0 = unlimited)', '--event-qps=<n>'),
    differsFromKubeBench: `kube-bench lists this as a manual check. ${EFFECTIVE}`,
  }),
  kubeletCheck({
    id: 'cis-4.2.9', cis: '4.2.9', title: 'Kubelet serving certificate and key set', severity: 'medium',
    keys: ['tlsCertFile', 'tlsPrivateKeyFile', 'serverTLSBootstrap'], judge: servingCert,
    remediation: 'Set tlsCertFile and tlsPrivateKeyFile (--tls-cert-file, --tls-private-key-file) in the kubelet config to a CA-signed serving certificate, or set serverTLSBootstrap: true and approve the kubelet-serving CSRs; restart the kubelet.',
    differsFromKubeBench: 'kube-bench lists this as a manual check that needs both flags; Vigil also passes a kubelet with serverTLSBootstrap: true, whose serving certificate is CA-signed and rotated.',
  }),
  kubeletCheck({
    id: 'cis-4.2.10', cis: '4.2.10', title: 'Kubelet client certificate rotation not disabled', severity: 'medium',
    keys: ['rotateCertificates'], judge: boolIs('rotateCertificates', true),
    remediation: inConfig('rotateCertificates', 'true', '--rotate-certificates=true'),
    differsFromKubeBench: `${EFFECTIVE} kube-bench passes when the setting is absent; the kubelet default is false (no rotation), so Vigil fails it.`,
  }),
  kubeletCheck({
    id: 'cis-4.2.11', cis: '4.2.11', title: 'Kubelet serving-cert rotation gate not disabled', severity: 'medium',
    keys: ['featureGates.RotateKubeletServerCertificate', 'serverTLSBootstrap'], judge: serverRotation,
    remediation: 'Remove RotateKubeletServerCertificate=false from the kubelet feature gates and set serverTLSBootstrap: true in the kubelet config (or --rotate-server-certificates=true); approve the kubelet-serving CSRs (e.g. with a CSR approver) and restart the kubelet.',
    differsFromKubeBench: 'kube-bench (manual) only looks for the gate set to false. Vigil fails on the gate set to false and warns when the gate is on but serverTLSBootstrap is off, because the serving certificate is then never rotated.',
  }),
  kubeletCheck({
    id: 'cis-4.2.12', cis: '4.2.12', title: 'Kubelet restricted to strong TLS ciphers', severity: 'medium',
    keys: ['tlsCipherSuites'], judge: cipherSuites,
    remediation: inConfig('tlsCipherSuites', `[${KUBELET_STRONG_CIPHERS.join(', ')}]`, `--tls-cipher-suites=${KUBELET_STRONG_CIPHERS.join(',')}`),
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil judges every configured suite against the strong list.',
  }),
  kubeletCheck({
    id: 'cis-4.2.13', cis: '4.2.13', title: 'Per-pod PID limit configured', severity: 'low',
    keys: ['podPidsLimit'], judge: podPids,
    remediation: inConfig('podPidsLimit', 'a positive limit, e.g. 4096', '--pod-max-pids=4096'),
    differsFromKubeBench: 'kube-bench (manual) passes whenever the setting is present; Vigil needs a positive limit, since -1 (the default) and 0 mean no limit.',
  }),
  kubeletCheck({
    id: 'cis-4.2.14', cis: '4.2.14', title: 'Kubelet applies RuntimeDefault seccomp by default', severity: 'medium',
    keys: ['seccompDefault'], judge: boolIs('seccompDefault', true),
    remediation: inConfig('seccompDefault', 'true', '--seccomp-default=true'),
    differsFromKubeBench: 'kube-bench (manual) passes whenever the setting is present; Vigil needs the effective value true.',
  }),
  kubeletCheck({
    id: 'kubelet-protect-kernel-defaults', cis: null, title: 'Kubelet protects kernel defaults', severity: 'low',
    keys: ['protectKernelDefaults'], judge: boolIs('protectKernelDefaults', true),
    remediation: inConfig('protectKernelDefaults', 'true', '--protect-kernel-defaults=true') + ' Set the kernel tunables the kubelet expects first (vm.overcommit_memory=1, vm.panic_on_oom=0, kernel.panic=10, kernel.panic_on_oops=1), or the kubelet will not start.',
  }),
];

export const kubeletChecks: Check[] = [...fileChecks, ...settingChecks];
