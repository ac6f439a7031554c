// Does the CNI in use enforce NetworkPolicy? Known from its plugin types; unknown plugins say so.
const ENFORCING_PLUGINS: Record<string, string> = {
  calico: 'Calico (or Canal: Flannel with Calico policy)',
  cilium: 'Cilium',
  'cilium-cni': 'Cilium',
  antrea: 'Antrea',
  'weave-net': 'Weave Net',
  'kube-router': 'kube-router',
  'ovn-k8s-cni-overlay': 'OVN-Kubernetes',
  'kube-ovn': 'Kube-OVN',
};

/** Plugins that only wire interfaces, addresses or ports: none of them filters pod traffic. */
const NON_ENFORCING_PLUGINS = new Set([
  'flannel', 'bridge', 'ptp', 'macvlan', 'ipvlan', 'host-device', 'vlan', 'loopback', 'portmap', 'bandwidth',
  'tuning', 'firewall', 'sbr', 'vrf', 'host-local', 'dhcp', 'static', 'dummy', 'tap',
]);

interface PolicyVerdict { enforces?: boolean; reason: string }

export function networkPolicySupport(
  plugins: string[],
  opts: { kubeRouterBridge?: boolean; distribution?: 'k3s' | 'rke2' | 'hyperkube'; k3sPolicyDisabled?: boolean } = {},
): PolicyVerdict {
  const enforcing = plugins.find((p) => ENFORCING_PLUGINS[p] !== undefined || p.startsWith('weave-'));
  if (enforcing) return { enforces: true, reason: `${ENFORCING_PLUGINS[enforcing] ?? 'Weave Net'} (plugin type ${enforcing}) enforces NetworkPolicy` };
  if (opts.kubeRouterBridge) return { enforces: true, reason: 'kube-router (bridge kube-bridge) enforces NetworkPolicy' };
  if (opts.distribution === 'k3s' && !opts.k3sPolicyDisabled) {
    return { enforces: true, reason: `k3s runs its embedded network policy controller alongside ${plugins.join(', ') || 'its CNI'}` };
  }
  const unknown = plugins.filter((p) => !NON_ENFORCING_PLUGINS.has(p));
  if (plugins.length > 0 && unknown.length === 0) {
    return {
      enforces: false,
      reason: plugins.includes('flannel')
        ? 'Flannel alone does not enforce NetworkPolicy: policies are accepted by the API and silently ignored'
        : `${plugins.join(', ')} only wire pod networking: NetworkPolicies are accepted by the API and silently ignored`,
    };
  }
  if (unknown.length > 0) return { reason: `NetworkPolicy support of plugin type(s) ${unknown.join(', ')} is not known to Vigil` };
  return { reason: 'no CNI plugin configured' };
}
