// CIS Kubernetes Benchmark 1.12, section 2: etcd. Each setting is etcd's flag, else its ETCD_* variable, else etcd's
// default; with --config-file etcd ignores both, so every row warns (rows.ts). kube-bench's cfg/cis-1.12/etcd.yaml.
import { fact, setting, settings } from '../../../facts/inputs.js';
import type { Row } from '../../rows.js';
import { allSet, equals } from '../../ops.js';
import { DEDICATED_CA, etcdDedicatedCa } from '../../judges/control-plane.js';

const inEtcd = (change: string) =>
  `Edit the etcd manifest (/etc/kubernetes/manifests/etcd.yaml) or the etcd unit's arguments / ETCD_* environment and ${change}.`;

export const ETCD: Row[] = [
  {
    id: 'cis-2.1', cis: '2.1', title: 'etcd client-facing TLS cert and key set', severity: 'high',
    component: 'etcd', reads: settings('etcd', 'cert-file', 'key-file'), op: allSet('both set'),
    remediation: inEtcd('set --cert-file and --key-file (ETCD_CERT_FILE, ETCD_KEY_FILE) to the etcd server certificate and key (kubeadm: /etc/kubernetes/pki/etcd/server.crt/.key)'),
  },
  {
    id: 'cis-2.2', cis: '2.2', title: 'etcd requires client certificates', severity: 'critical',
    component: 'etcd', reads: [setting('etcd', 'client-cert-auth')], op: equals(true),
    remediation: inEtcd('set --client-cert-auth=true (ETCD_CLIENT_CERT_AUTH=true) with --trusted-ca-file'),
  },
  {
    id: 'cis-2.3', cis: '2.3', title: 'etcd does not use self-signed auto TLS', severity: 'medium',
    component: 'etcd', reads: [setting('etcd', 'auto-tls')], op: equals(false),
    remediation: inEtcd('remove --auto-tls (or set --auto-tls=false / ETCD_AUTO_TLS=false) and use CA-signed certificates'),
  },
  {
    id: 'cis-2.4', cis: '2.4', title: 'etcd peer TLS cert and key set', severity: 'high',
    component: 'etcd', reads: settings('etcd', 'peer-cert-file', 'peer-key-file'), op: allSet('both set'),
    remediation: inEtcd('set --peer-cert-file and --peer-key-file (ETCD_PEER_CERT_FILE, ETCD_PEER_KEY_FILE) to the etcd peer certificate and key (kubeadm: /etc/kubernetes/pki/etcd/peer.crt/.key)'),
  },
  {
    id: 'cis-2.5', cis: '2.5', title: 'etcd peers must present certificates', severity: 'high',
    component: 'etcd', reads: [setting('etcd', 'peer-client-cert-auth')], op: equals(true),
    remediation: inEtcd('set --peer-client-cert-auth=true (ETCD_PEER_CLIENT_CERT_AUTH=true) with --peer-trusted-ca-file'),
  },
  {
    id: 'cis-2.6', cis: '2.6', title: 'etcd peers do not use auto TLS', severity: 'medium',
    component: 'etcd', reads: [setting('etcd', 'peer-auto-tls')], op: equals(false),
    remediation: inEtcd('remove --peer-auto-tls (or set --peer-auto-tls=false / ETCD_PEER_AUTO_TLS=false) and use CA-signed peer certificates'),
  },
  {
    id: 'cis-2.7', cis: '2.7', title: 'etcd uses its own dedicated CA', severity: 'medium',
    component: 'etcd', reads: [setting('etcd', 'trusted-ca-file'), setting('kube-apiserver', 'client-ca-file'), fact('certificates')],
    judge: etcdDedicatedCa, expected: DEDICATED_CA,
    remediation: inEtcd('set --trusted-ca-file (ETCD_TRUSTED_CA_FILE) to a CA used only for etcd, not the cluster CA (kubeadm: /etc/kubernetes/pki/etcd/ca.crt)'),
    differsFromKubeBench: 'kube-bench lists this as a manual check and only looks for the flag. Vigil also fails when the file is the kube-apiserver --client-ca-file or holds one of its CA certificates (same fingerprint, or same subject, serial and validity).',
  },
];
