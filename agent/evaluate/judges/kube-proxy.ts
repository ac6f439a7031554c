// kube-proxy judges: the metrics address, from the --config file that overrides the flag.
import { hostOf, isLoopbackHost } from '../../../common/address.js';
import type { Evidence } from '../../../proto/report.js';
import type { Judgement } from '../check.js';
import type { Judge } from '../rows.js';

const LOOPBACK = 'loopback (127.0.0.1, ::1 or localhost)';

function judgeAddress(address: string, evidence: Evidence): Judgement {
  if (address.trim() === '') {
    return { status: 'pass', evidence: { ...evidence, detail: [evidence.detail, 'empty: the metrics server is disabled'].filter(Boolean).join('; ') } };
  }
  const host = hostOf(address);
  const ok = isLoopbackHost(host);
  const detail = ok ? evidence.detail : [evidence.detail, `metrics are served on ${host || 'all interfaces'}`].filter(Boolean).join('; ');
  return { status: ok ? 'pass' : 'fail', evidence: { ...evidence, ...(detail ? { detail } : {}) } };
}

/** CIS 4.3.1: kube-proxy's effective metricsBindAddress (with --config: the file, then its default) is loopback. */
export const kubeProxyMetrics: Judge = (ctx) => {
  const configPath = ctx.setting('config').value;
  const metrics = ctx.setting('metricsBindAddress');
  if (typeof configPath === 'string' && configPath !== '') {
    const config = ctx.snapshot.kubeProxyConfig;
    if (!config || config.error) {
      return {
        status: 'error',
        evidence: {
          source: 'file', path: config?.path ?? configPath, key: 'metricsBindAddress', expected: LOOPBACK,
          detail: config?.error ? `${config.error.code}: ${config.error.message}` : `the kube-proxy config ${configPath} was not read`,
        },
      };
    }
    if (metrics.source !== 'config-file') {
      return {
        status: 'pass',
        evidence: {
          source: 'default', path: config.path, key: 'metricsBindAddress', value: metrics.value, expected: LOOPBACK,
          detail: ['not set in the config file: kube-proxy defaults to 127.0.0.1:10249 ([::1]:10249 with an IPv6 bindAddress)', metrics.note].filter(Boolean).join('; '),
        },
      };
    }
    return judgeAddress(String(metrics.value), {
      source: 'config-file', path: config.path, key: 'metricsBindAddress', value: metrics.value, expected: LOOPBACK,
      ...(metrics.note ? { detail: metrics.note } : {}),
    });
  }
  if (metrics.source !== 'flag') return { status: 'pass', evidence: ctx.evidence(metrics, LOOPBACK) };
  return judgeAddress(String(metrics.value), ctx.evidence(metrics, LOOPBACK));
};
