// CIS 2: etcd. Each setting comes from its flag, else its ETCD_* environment variable, else etcd's default;
// with --config-file etcd ignores both flags and environment, so those checks warn.
import type { Evidence } from '../../../../proto/report.js';
import type { Check } from '../../check.js';
import type { ComponentFact, Snapshot } from '../../../facts/snapshot.js';
import type { CertificateFact } from '../../../facts/pki.js';
import { parseGoBool } from '../../../../common/bool.js';
import { componentCheck, flagOrigin, lastFlag, type Judgement } from './helpers.js';

interface EtcdValue {
  value: string | undefined;
  source: 'flag' | 'env' | 'default';
  key: string;
}

export const envName = (flag: string) => `ETCD_${flag.toUpperCase().replace(/-/g, '_')}`;

/** A command-line flag wins over its environment variable. */
export function etcdSetting(c: ComponentFact, flag: string): EtcdValue {
  const fromFlag = lastFlag(c, flag);
  if (fromFlag !== undefined) return { value: fromFlag, source: 'flag', key: `--${flag}` };
  const env = envName(flag);
  if (c.env[env] !== undefined) return { value: c.env[env], source: 'env', key: env };
  return { value: undefined, source: 'default', key: `--${flag}` };
}

function evidenceOf(c: ComponentFact, v: EtcdValue, expected: string, detail?: string): Evidence {
  const origin = v.source === 'flag' ? `from the ${flagOrigin(c)}`
    : v.source === 'env' ? `from the environment of ${c.name}${c.pid !== undefined ? ` (pid ${c.pid})` : ''}`
      : `neither --${v.key.replace(/^--/, '')} nor ${envName(v.key.replace(/^--/, ''))} is set`;
  const evidence: Evidence = { source: v.source, key: v.key, value: v.value, expected, origin: c.source };
  if (c.path) evidence.path = c.path;
  evidence.detail = detail ? `${origin}; ${detail}` : origin;
  return evidence;
}

function configFile(c: ComponentFact): string | undefined {
  return etcdSetting(c, 'config-file').value || undefined;
}

/** etcd's settings are in a --config-file Vigil does not read: flags and env are ignored by etcd then. */
function viaConfigFile(judge: (c: ComponentFact, s: Snapshot) => Judgement, flag: string, expected: string) {
  return (c: ComponentFact, s: Snapshot): Judgement => {
    const file = configFile(c);
    if (!file) return judge(c, s);
    return {
      status: 'warn',
      evidence: evidenceOf(c, etcdSetting(c, flag), expected,
        `etcd is started with --config-file ${file}, which overrides flags and environment and which Vigil does not read`),
    };
  };
}

function bothSet(first: string, second: string) {
  return viaConfigFile((c) => {
    const a = etcdSetting(c, first);
    const b = etcdSetting(c, second);
    const missing = [first, second].filter((_, i) => ![a, b][i].value?.trim());
    const evidence: Evidence = {
      source: a.value ? a.source : b.source,
      key: `${a.key}, ${b.key}`,
      value: { [a.key]: a.value ?? null, [b.key]: b.value ?? null },
      expected: 'both set',
      origin: c.source,
    };
    if (c.path) evidence.path = c.path;
    if (missing.length > 0) evidence.detail = `not set: ${missing.map((f) => `--${f} (${envName(f)})`).join(', ')}`;
    return { status: missing.length === 0 ? 'pass' : 'fail', evidence };
  }, first, 'both set');
}

function boolIs(flag: string, expected: boolean, defaultValue: boolean) {
  return viaConfigFile((c) => {
    const v = etcdSetting(c, flag);
    const value = v.value === undefined ? defaultValue : parseGoBool(v.value);
    const detail = v.value === undefined ? `etcd default: ${defaultValue}`
      : value === undefined ? `"${v.value}" is not a boolean` : undefined;
    return { status: value === expected ? 'pass' : 'fail', evidence: evidenceOf(c, v, String(expected), detail) };
  }, flag, String(expected));
}

/** The same CA file (or the same CA certificate) as the API server's client CA means etcd trusts every cluster client cert. */
function dedicatedCa(c: ComponentFact, s: Snapshot): Judgement {
  const v = etcdSetting(c, 'trusted-ca-file');
  if (!v.value?.trim()) {
    return { status: 'fail', evidence: evidenceOf(c, v, 'set, to a CA used only by etcd', 'etcd does not verify client certificates against any CA') };
  }
  const apiserver = s.components['kube-apiserver'];
  const clusterCa = apiserver && lastFlag(apiserver, 'client-ca-file');
  if (clusterCa && sameCa(s, v.value, clusterCa)) {
    return {
      status: 'fail',
      evidence: evidenceOf(c, v, 'set, to a CA used only by etcd',
        `shares a CA with kube-apiserver --client-ca-file ${clusterCa}: any certificate of the cluster CA can talk to etcd`),
    };
  }
  return {
    status: 'pass',
    evidence: evidenceOf(c, v, 'set, to a CA used only by etcd',
      clusterCa ? `differs from kube-apiserver --client-ca-file ${clusterCa}` : 'kube-apiserver does not run on this node; uniqueness against the cluster CA not verified'),
  };
}

/** Same path, or a certificate (of a bundle, too) that both files hold: by fingerprint, else by subject and validity. */
function sameCa(s: Snapshot, a: string, b: string): boolean {
  if (a === b) return true;
  const certsOf = (p: string) => s.certificates.filter((cert) => !cert.error && (cert.path === p || cert.aliases?.includes(p)));
  const identity = (cert: CertificateFact) => cert.fingerprint256
    ?? (cert.subject !== undefined ? `${cert.subject}|${cert.serialNumber ?? ''}|${cert.notBefore ?? ''}|${cert.notAfter ?? ''}` : undefined);
  const inA = new Set(certsOf(a).map(identity).filter((id): id is string => id !== undefined));
  return certsOf(b).some((cert) => {
    const id = identity(cert);
    return id !== undefined && inA.has(id);
  });
}

const inEtcd = (change: string) =>
  `Edit the etcd manifest (/etc/kubernetes/manifests/etcd.yaml) or the etcd unit's arguments / ETCD_* environment and ${change}.`;

export const etcdChecks: Check[] = [
  componentCheck({
    id: 'cis-2.1', cis: '2.1', title: 'etcd client-facing TLS cert and key set', severity: 'high',
    component: 'etcd', judge: bothSet('cert-file', 'key-file'),
    remediation: inEtcd('set --cert-file and --key-file (ETCD_CERT_FILE, ETCD_KEY_FILE) to the etcd server certificate and key (kubeadm: /etc/kubernetes/pki/etcd/server.crt/.key)'),
  }),
  componentCheck({
    id: 'cis-2.2', cis: '2.2', title: 'etcd requires client certificates', severity: 'critical',
    component: 'etcd', judge: boolIs('client-cert-auth', true, false),
    remediation: inEtcd('set --client-cert-auth=true (ETCD_CLIENT_CERT_AUTH=true) with --trusted-ca-file'),
  }),
  componentCheck({
    id: 'cis-2.3', cis: '2.3', title: 'etcd does not use self-signed auto TLS', severity: 'medium',
    component: 'etcd', judge: boolIs('auto-tls', false, false),
    remediation: inEtcd('remove --auto-tls (or set --auto-tls=false / ETCD_AUTO_TLS=false) and use CA-signed certificates'),
  }),
  componentCheck({
    id: 'cis-2.4', cis: '2.4', title: 'etcd peer TLS cert and key set', severity: 'high',
    component: 'etcd', judge: bothSet('peer-cert-file', 'peer-key-file'),
    remediation: inEtcd('set --peer-cert-file and --peer-key-file (ETCD_PEER_CERT_FILE, ETCD_PEER_KEY_FILE) to the etcd peer certificate and key (kubeadm: /etc/kubernetes/pki/etcd/peer.crt/.key)'),
  }),
  componentCheck({
    id: 'cis-2.5', cis: '2.5', title: 'etcd peers must present certificates', severity: 'high',
    component: 'etcd', judge: boolIs('peer-client-cert-auth', true, false),
    remediation: inEtcd('set --peer-client-cert-auth=true (ETCD_PEER_CLIENT_CERT_AUTH=true) with --peer-trusted-ca-file'),
  }),
  componentCheck({
    id: 'cis-2.6', cis: '2.6', title: 'etcd peers do not use auto TLS', severity: 'medium',
    component: 'etcd', judge: boolIs('peer-auto-tls', false, false),
    remediation: inEtcd('remove --peer-auto-tls (or set --peer-auto-tls=false / ETCD_PEER_AUTO_TLS=false) and use CA-signed peer certificates'),
  }),
  componentCheck({
    id: 'cis-2.7', cis: '2.7', title: 'etcd uses its own dedicated CA', severity: 'medium',
    component: 'etcd', judge: viaConfigFile(dedicatedCa, 'trusted-ca-file', 'set, to a CA used only by etcd'),
    remediation: inEtcd('set --trusted-ca-file (ETCD_TRUSTED_CA_FILE) to a CA used only for etcd, not the cluster CA (kubeadm: /etc/kubernetes/pki/etcd/ca.crt)'),
    differsFromKubeBench: 'kube-bench lists this as a manual check and only looks for the flag. Vigil also fails when the file is the kube-apiserver --client-ca-file or holds one of its CA certificates (same fingerprint, or same subject, serial and validity).',
  }),
];
