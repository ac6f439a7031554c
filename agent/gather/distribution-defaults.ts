// The arguments k3s and rke2 give their embedded components before the user's `--<component>-arg` values
// (k3s pkg/daemons/control/server.go, pkg/daemons/agent; rke2 reuses them). Without them a stock k3s server
// would be judged as if its apiserver allowed anonymous requests and AlwaysAllow. A user's value for the same
// flag replaces the built-in one (k3s merges them as a map keyed by flag name).
import type { ComponentName } from '../facts/snapshot.js';

type Dist = 'k3s' | 'rke2';

export function builtinArgs(dist: Dist, component: ComponentName, opts: { secretsEncryption: boolean }): string[] {
  const server = `/var/lib/rancher/${dist}/server`;
  const agent = `/var/lib/rancher/${dist}/agent`;
  switch (component) {
    case 'kube-apiserver':
      return [
        '--anonymous-auth=false',
        '--profiling=false',
        '--authorization-mode=Node,RBAC',
        '--enable-admission-plugins=NodeRestriction',
        '--allow-privileged=true',
        `--client-ca-file=${server}/tls/client-ca.crt`,
        `--tls-cert-file=${server}/tls/serving-kube-apiserver.crt`,
        `--tls-private-key-file=${server}/tls/serving-kube-apiserver.key`,
        `--kubelet-certificate-authority=${server}/tls/server-ca.crt`,
        `--kubelet-client-certificate=${server}/tls/client-kube-apiserver.crt`,
        `--kubelet-client-key=${server}/tls/client-kube-apiserver.key`,
        `--service-account-key-file=${server}/tls/service.key`,
        `--service-account-signing-key-file=${server}/tls/service.key`,
        ...(opts.secretsEncryption ? [`--encryption-provider-config=${server}/cred/encryption-config.json`] : []),
      ];
    case 'kube-controller-manager':
      return [
        '--profiling=false',
        '--bind-address=127.0.0.1',
        '--use-service-account-credentials=true',
        `--kubeconfig=${server}/cred/controller.kubeconfig`,
        `--root-ca-file=${server}/tls/server-ca.crt`,
        `--service-account-private-key-file=${server}/tls/service.key`,
      ];
    case 'kube-scheduler':
      return ['--profiling=false', '--bind-address=127.0.0.1', `--kubeconfig=${server}/cred/scheduler.kubeconfig`];
    case 'kubelet':
      return [
        '--anonymous-auth=false',
        '--authentication-token-webhook=true',
        '--authorization-mode=Webhook',
        '--read-only-port=0',
        `--client-ca-file=${agent}/client-ca.crt`,
        `--tls-cert-file=${agent}/serving-kubelet.crt`,
        `--tls-private-key-file=${agent}/serving-kubelet.key`,
        `--kubeconfig=${agent}/kubelet.kubeconfig`,
      ];
    case 'kube-proxy':
      return [`--kubeconfig=${agent}/kubeproxy.kubeconfig`, '--healthz-bind-address=127.0.0.1'];
    case 'etcd':
      return [
        `--data-dir=${server}/db/etcd`,
        '--client-cert-auth=true',
        `--cert-file=${server}/tls/etcd/server-client.crt`,
        `--key-file=${server}/tls/etcd/server-client.key`,
        `--trusted-ca-file=${server}/tls/etcd/server-ca.crt`,
        '--peer-client-cert-auth=true',
        `--peer-cert-file=${server}/tls/etcd/peer-server-client.crt`,
        `--peer-key-file=${server}/tls/etcd/peer-server-client.key`,
        `--peer-trusted-ca-file=${server}/tls/etcd/peer-ca.crt`,
      ];
    default:
      return [];
  }
}
