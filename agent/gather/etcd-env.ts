// etcd reads every flag from an ETCD_* variable too. Only the ones the checks judge are kept: others can hold
// secrets (ETCD_ROOT_PASSWORD on some images) and must not leave gather.
const ETCD_ENV_FLAGS = [
  'cert-file', 'key-file', 'client-cert-auth', 'auto-tls', 'trusted-ca-file',
  'peer-cert-file', 'peer-key-file', 'peer-client-cert-auth', 'peer-auto-tls', 'peer-trusted-ca-file',
  'data-dir', 'config-file', 'name', 'initial-cluster',
  'listen-client-urls', 'listen-client-http-urls', 'listen-peer-urls', 'advertise-client-urls', 'initial-advertise-peer-urls',
];

export const ETCD_ENV_KEPT: ReadonlySet<string> = new Set(ETCD_ENV_FLAGS.map((f) => `ETCD_${f.toUpperCase().replace(/-/g, '_')}`));
