// kube-proxy's --config file (KubeProxyConfiguration): the settings its checks read.
import type { HostAccess } from './host.js';
import { lastFlag } from './flags.js';
import { getPath } from '../../common/json.js';
import { parseConfig } from './yaml.js';
import type { DiscoveredComponent, KubeProxyConfigFact } from '../facts/snapshot.js';

export function gatherKubeProxyConfig(host: HostAccess, proxy: DiscoveredComponent | undefined): KubeProxyConfigFact | undefined {
  const p = proxy && lastFlag(proxy.flags, 'config');
  if (!p) return undefined;
  const r = host.processView(proxy.pid).readText(p, 1024 * 1024);
  if (!r.ok) return { path: p, error: r.error };
  const parsed = parseConfig(r.text);
  if (!parsed.ok) return { path: p, error: { path: p, code: 'EINVAL', message: `invalid kube-proxy config: ${parsed.message}` } };
  const metrics = getPath(parsed.value, 'metricsBindAddress');
  const kubeconfig = getPath(parsed.value, 'clientConnection.kubeconfig');
  return {
    path: p,
    ...(typeof metrics === 'string' ? { metricsBindAddress: metrics } : {}),
    ...(typeof kubeconfig === 'string' ? { kubeconfig } : {}),
  };
}
