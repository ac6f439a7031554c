// Where the collector finds the Kubernetes API. In a pod: the in-cluster config (the ServiceAccount token,
// re-read by client-node as the kubelet rotates it, and the cluster CA). Outside: --kubeconfig PATH, with
// --kube-context to pick a context. Nothing else is guessed: ~/.kube/config and $KUBECONFIG are not read
// unless named, so a collector started on a laptop never reads whatever cluster happens to be current.
import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

interface KubeOptions {
  kubeconfig?: string;
  context?: string;
}

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** True inside a pod that has a ServiceAccount token and the API's address. */
export function inClusterAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) && existsSync(IN_CLUSTER_TOKEN);
}

/** Loads the config; throws with a message naming the option when it cannot. */
export function loadKubeConfig(opts: KubeOptions): KubeConfig {
  const kc = new KubeConfig();
  if (opts.kubeconfig) {
    try {
      kc.loadFromFile(opts.kubeconfig);
    } catch (err) {
      throw new Error(`--kubeconfig ${opts.kubeconfig}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (opts.context) {
      if (!kc.getContexts().some((c) => c.name === opts.context)) {
        throw new Error(`--kube-context ${opts.context}: no such context in ${opts.kubeconfig} (has ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
      }
      kc.setCurrentContext(opts.context);
    }
  } else {
    if (opts.context) throw new Error('--kube-context needs --kubeconfig');
    kc.loadFromCluster();
  }
  if (!kc.getCurrentCluster()) throw new Error(`no current cluster in ${opts.kubeconfig ?? 'the in-cluster config'}`);
  return kc;
}

/** The API server's address, for logs (never credentials). */
export const apiServer = (kc: KubeConfig): string => kc.getCurrentCluster()?.server ?? 'unknown';
