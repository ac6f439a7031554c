// CIS 4.1.3/4.1.4 (kube-proxy kubeconfig) and 4.3.1 (metrics bind address).
import type { Evidence } from '../../../../proto/report.js';
import type { Check } from '../../check.js';
import type { ComponentFact, Snapshot } from '../../../facts/snapshot.js';
import { ROOT, fileOwnershipCheck, filePermissionCheck } from './file-checks.js';
import { hostOf, isLoopbackHost } from '../../../../common/address.js';
import { componentCheck, flagEvidence, lastFlag, type Judgement } from './helpers.js';

// kube-proxy's SetDefaults_KubeProxyConfiguration (pkg/proxy/apis/config/v1alpha1/defaults.go): an empty
// metricsBindAddress becomes 127.0.0.1:10249, or [::1]:10249 when bindAddress is IPv6. Loopback either way.
const DEFAULT_METRICS = '127.0.0.1:10249';
const EXPECTED = 'loopback (127.0.0.1, ::1 or localhost)';

function judgeAddress(address: string, evidence: Evidence): Judgement {
  if (address.trim() === '') {
    return { status: 'pass', evidence: { ...evidence, detail: [evidence.detail, 'empty: the metrics server is disabled'].filter(Boolean).join('; ') } };
  }
  const host = hostOf(address);
  const ok = isLoopbackHost(host);
  const detail = ok ? evidence.detail : [evidence.detail, `metrics are served on ${host || 'all interfaces'}`].filter(Boolean).join('; ');
  return { status: ok ? 'pass' : 'fail', evidence: { ...evidence, ...(detail ? { detail } : {}) } };
}

/** With --config, kube-proxy ignores --metrics-bind-address and uses the file (then its default). */
function metricsBindAddress(c: ComponentFact, s: Snapshot): Judgement {
  const configPath = lastFlag(c, 'config');
  if (configPath) {
    const config = s.kubeProxyConfig;
    if (!config || config.error) {
      return {
        status: 'error',
        evidence: {
          source: 'file', path: config?.path ?? configPath, key: 'metricsBindAddress', expected: EXPECTED,
          detail: config?.error ? `${config.error.code}: ${config.error.message}` : `the kube-proxy config ${configPath} was not read`,
        },
      };
    }
    const ignoredFlag = lastFlag(c, 'metrics-bind-address');
    const note = ignoredFlag !== undefined ? `--metrics-bind-address ${ignoredFlag} is ignored because --config is set` : undefined;
    if (config.metricsBindAddress === undefined || config.metricsBindAddress === '') {
      return {
        status: 'pass',
        evidence: {
          source: 'default', path: config.path, key: 'metricsBindAddress', value: DEFAULT_METRICS, expected: EXPECTED,
          detail: ['not set in the config file: kube-proxy defaults to 127.0.0.1:10249 ([::1]:10249 with an IPv6 bindAddress)', note].filter(Boolean).join('; '),
        },
      };
    }
    return judgeAddress(config.metricsBindAddress, {
      source: 'config-file', path: config.path, key: 'metricsBindAddress', value: config.metricsBindAddress, expected: EXPECTED,
      ...(note ? { detail: note } : {}),
    });
  }
  const flag = lastFlag(c, 'metrics-bind-address');
  if (flag === undefined) {
    return { status: 'pass', evidence: flagEvidence(c, 'metrics-bind-address', EXPECTED, { defaultValue: DEFAULT_METRICS }) };
  }
  return judgeAddress(flag, flagEvidence(c, 'metrics-bind-address', EXPECTED));
}

export const kubeProxyChecks: Check[] = [
  filePermissionCheck({
    id: 'cis-4.1.3', cis: '4.1.3', title: 'kube-proxy kubeconfig mode 600 or tighter', severity: 'medium',
    component: 'kube-proxy', runsOn: 'kube-proxy', files: 'kube-proxy.kubeconfig', mask: 0o600,
    missing: 'no kube-proxy kubeconfig found on the host (it may live in a ConfigMap mounted into the kube-proxy pod)',
    remediation: 'Run `chmod 600` on the kubeconfig kube-proxy uses (--kubeconfig or clientConnection.kubeconfig, e.g. /etc/kubernetes/proxy.conf).',
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil judges the kubeconfig kube-proxy is configured with (or the first default path that exists).',
  }),
  fileOwnershipCheck({
    id: 'cis-4.1.4', cis: '4.1.4', title: 'kube-proxy kubeconfig owned by root', severity: 'medium',
    component: 'kube-proxy', runsOn: 'kube-proxy', files: 'kube-proxy.kubeconfig', owner: ROOT,
    missing: 'no kube-proxy kubeconfig found on the host (it may live in a ConfigMap mounted into the kube-proxy pod)',
    remediation: 'Run `chown root:root` on the kubeconfig kube-proxy uses (--kubeconfig or clientConnection.kubeconfig, e.g. /etc/kubernetes/proxy.conf).',
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil judges the kubeconfig kube-proxy is configured with (or the first default path that exists).',
  }),
  componentCheck({
    id: 'cis-4.3.1', cis: '4.3.1', title: 'kube-proxy metrics bound to loopback', severity: 'low',
    component: 'kube-proxy', judge: metricsBindAddress,
    remediation: 'Set metricsBindAddress: 127.0.0.1:10249 in the kube-proxy configuration (kubeadm: the kube-proxy ConfigMap in kube-system, then restart the kube-proxy pods) or --metrics-bind-address=127.0.0.1:10249 when kube-proxy runs without --config.',
    differsFromKubeBench: 'kube-bench looks for the text 127.0.0.1 in the flag or config. Vigil follows kube-proxy: with --config the flag is ignored and the file (or its default 127.0.0.1:10249) counts; any loopback host (127.0.0.0/8, ::1, localhost) passes; an empty value disables the metrics server and passes.',
  }),
];
