// CIS 1.2: kube-apiserver flags. Admission plugins and encryption at rest live in their own modules.
import type { Check } from '../../check.js';
import type { ComponentFact } from '../../../facts/snapshot.js';
import { apiserverAdmissionChecks } from './apiserver-admission.js';
import { apiserverEncryptionChecks } from './apiserver-encryption.js';
import {
  componentCheck, flagBool, flagEvidence, flagIntAtLeast, flagNotSet, flagsSet, isSet, lastFlag, listFlag,
  validElements, type Judgement,
} from './helpers.js';

const MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';
const inManifest = (change: string) => `Edit the kube-apiserver manifest (${MANIFEST}, or the API server's unit/arguments) and ${change}.`;

export const APISERVER_STRONG_CIPHERS = [
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305', 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
] as const;

function anonymousAuth(c: ComponentFact): Judgement {
  const raw = lastFlag(c, 'anonymous-auth');
  if (raw === undefined && isSet(c, 'authentication-config')) {
    return {
      status: 'warn',
      evidence: flagEvidence(c, 'anonymous-auth', 'false', {
        detail: `anonymous access is configured by --authentication-config ${lastFlag(c, 'authentication-config')}, which Vigil does not read; check its anonymous section`,
      }),
    };
  }
  return flagBool('anonymous-auth', false, true)(c);
}

/** Authorization checks read --authorization-mode; with --authorization-config the authorizers are in a file Vigil does not read. */
function authorizers(want: (modes: string[]) => boolean, expected: string) {
  return (c: ComponentFact): Judgement => {
    const modes = listFlag(c, 'authorization-mode');
    if (!modes && isSet(c, 'authorization-config')) {
      return {
        status: 'warn',
        evidence: flagEvidence(c, 'authorization-mode', expected, {
          detail: `authorizers are configured by --authorization-config ${lastFlag(c, 'authorization-config')}, which Vigil does not read`,
        }),
      };
    }
    if (modes && modes.length === 0) {
      return {
        status: 'fail',
        evidence: flagEvidence(c, 'authorization-mode', expected, { value: [], detail: 'set but empty: no authorizer is named (the API server refuses to start with it)' }),
      };
    }
    const effective = modes ?? ['AlwaysAllow'];
    return {
      status: want(effective) ? 'pass' : 'fail',
      evidence: flagEvidence(c, 'authorization-mode', expected, { value: effective, defaultValue: 'AlwaysAllow' }),
    };
  };
}

function auditRetention(flag: string, min: number) {
  const judge = flagIntAtLeast(flag, min, 0);
  return (c: ComponentFact): Judgement => {
    const j = judge(c);
    if (!isSet(c, 'audit-log-path')) j.evidence.detail += '; --audit-log-path is not set, so no audit log is written at all (see cis-1.2.16)';
    return j;
  };
}

function cipherSuites(c: ComponentFact): Judgement {
  const suites = listFlag(c, 'tls-cipher-suites');
  const { ok, rejected } = validElements(suites, APISERVER_STRONG_CIPHERS);
  const detail = !suites ? "not set: Go's default suite list is used, which includes CBC-mode suites"
    : rejected.length > 0 ? `not in the strong list: ${rejected.join(', ')}` : undefined;
  return {
    status: ok ? 'pass' : 'fail',
    evidence: flagEvidence(c, 'tls-cipher-suites', 'only strong AEAD suites', { value: suites, detail }),
  };
}

function requestTimeout(c: ComponentFact): Judgement {
  return {
    status: 'warn',
    evidence: flagEvidence(c, 'request-timeout', 'a value chosen for this cluster (manual review)', {
      defaultValue: '1m0s',
      detail: 'manual check: raise it only if large list/watch requests time out; very high values make the API server easier to exhaust',
    }),
  };
}

const authChecks: Check[] = [
  componentCheck({
    id: 'cis-1.2.1', cis: '1.2.1', title: 'API server rejects anonymous requests', severity: 'medium',
    component: 'kube-apiserver', judge: anonymousAuth,
    remediation: inManifest('set --anonymous-auth=false (or, with --authentication-config, restrict anonymous to the health endpoints); make sure health probes do not rely on anonymous access'),
    differsFromKubeBench: 'kube-bench lists this as a manual check. Vigil judges the effective value: unset means the default true and fails; with --authentication-config and no flag it warns.',
  }),
  componentCheck({
    id: 'cis-1.2.2', cis: '1.2.2', title: 'No static token file on API server', severity: 'high',
    component: 'kube-apiserver', judge: flagNotSet('token-auth-file'),
    remediation: inManifest('remove --token-auth-file; use client certificates, OIDC or webhook token authentication instead'),
  }),
  componentCheck({
    id: 'cis-1.2.4', cis: '1.2.4', title: 'API server authenticates to kubelets with cert', severity: 'high',
    component: 'kube-apiserver', judge: flagsSet('kubelet-client-certificate', 'kubelet-client-key'),
    remediation: inManifest('set --kubelet-client-certificate and --kubelet-client-key to a client certificate and key the kubelets trust (kubeadm: /etc/kubernetes/pki/apiserver-kubelet-client.crt/.key)'),
  }),
  componentCheck({
    id: 'cis-1.2.5', cis: '1.2.5', title: 'API server verifies kubelet serving certificates', severity: 'medium',
    component: 'kube-apiserver', judge: flagsSet('kubelet-certificate-authority'),
    remediation: inManifest('set --kubelet-certificate-authority to the CA that signs the kubelet serving certificates (the kubelets need CA-signed serving certs, e.g. serverTLSBootstrap: true)'),
  }),
  componentCheck({
    id: 'cis-1.2.6', cis: '1.2.6', title: 'API server authorization never AlwaysAllow', severity: 'critical',
    component: 'kube-apiserver', judge: authorizers((m) => !m.includes('AlwaysAllow'), 'set, without AlwaysAllow'),
    remediation: inManifest('set --authorization-mode to Node,RBAC (never AlwaysAllow)'),
    differsFromKubeBench: 'Unset --authorization-mode is judged as the API server default AlwaysAllow; with --authorization-config (structured authorization) Vigil warns instead of failing.',
  }),
  componentCheck({
    id: 'cis-1.2.7', cis: '1.2.7', title: 'Node authorizer enabled on API server', severity: 'medium',
    component: 'kube-apiserver', judge: authorizers((m) => m.includes('Node'), 'includes Node'),
    remediation: inManifest('include Node in --authorization-mode, e.g. --authorization-mode=Node,RBAC'),
    differsFromKubeBench: 'With --authorization-config (structured authorization) Vigil warns instead of failing.',
  }),
  componentCheck({
    id: 'cis-1.2.8', cis: '1.2.8', title: 'RBAC authorizer enabled on API server', severity: 'high',
    component: 'kube-apiserver', judge: authorizers((m) => m.includes('RBAC'), 'includes RBAC'),
    remediation: inManifest('include RBAC in --authorization-mode, e.g. --authorization-mode=Node,RBAC'),
    differsFromKubeBench: 'With --authorization-config (structured authorization) Vigil warns instead of failing.',
  }),
];

const auditChecks: Check[] = [
  componentCheck({
    id: 'cis-1.2.15', cis: '1.2.15', title: 'API server profiling endpoints off', severity: 'low',
    component: 'kube-apiserver', judge: flagBool('profiling', false, true),
    remediation: inManifest('set --profiling=false'),
  }),
  componentCheck({
    id: 'cis-1.2.16', cis: '1.2.16', title: 'API server writes an audit log', severity: 'medium',
    component: 'kube-apiserver', judge: flagsSet('audit-log-path'),
    remediation: inManifest('set --audit-log-path (e.g. /var/log/kubernetes/audit/audit.log, mounted from the host) together with --audit-policy-file'),
  }),
  componentCheck({
    id: 'cis-1.2.17', cis: '1.2.17', title: 'Audit log files kept 30+ days', severity: 'medium',
    component: 'kube-apiserver', judge: auditRetention('audit-log-maxage', 30),
    remediation: inManifest('set --audit-log-maxage=30 or more'),
  }),
  componentCheck({
    id: 'cis-1.2.18', cis: '1.2.18', title: 'At least 10 rotated audit log files kept', severity: 'medium',
    component: 'kube-apiserver', judge: auditRetention('audit-log-maxbackup', 10),
    remediation: inManifest('set --audit-log-maxbackup=10 or more'),
  }),
  componentCheck({
    id: 'cis-1.2.19', cis: '1.2.19', title: 'Audit log rotation size 100 MB or more', severity: 'medium',
    component: 'kube-apiserver', judge: auditRetention('audit-log-maxsize', 100),
    remediation: inManifest('set --audit-log-maxsize=100 or more (megabytes)'),
  }),
  componentCheck({
    id: 'cis-1.2.20', cis: '1.2.20', title: 'API server request timeout chosen deliberately', severity: 'low',
    component: 'kube-apiserver', judge: requestTimeout,
    remediation: inManifest('set --request-timeout only when needed (e.g. --request-timeout=300s for slow large lists); keep the default 60s otherwise'),
  }),
];

const credentialChecks: Check[] = [
  componentCheck({
    id: 'cis-1.2.21', cis: '1.2.21', title: 'Service account tokens checked against etcd', severity: 'medium',
    component: 'kube-apiserver', judge: flagBool('service-account-lookup', true, true),
    remediation: inManifest('remove --service-account-lookup=false (or set it to true) so deleted service accounts\' tokens stop working'),
  }),
  componentCheck({
    id: 'cis-1.2.22', cis: '1.2.22', title: 'Service account token verification key configured', severity: 'medium',
    component: 'kube-apiserver',
    judge: (c) => {
      const j = flagsSet('service-account-key-file')(c);
      if (j.status === 'fail') j.evidence.detail += '; the API server then verifies tokens with the key of --tls-private-key-file';
      return j;
    },
    remediation: inManifest('set --service-account-key-file to the public key matching the controller-manager\'s --service-account-private-key-file (kubeadm: /etc/kubernetes/pki/sa.pub)'),
  }),
  componentCheck({
    id: 'cis-1.2.23', cis: '1.2.23', title: 'API server authenticates to etcd with cert', severity: 'high',
    component: 'kube-apiserver', judge: flagsSet('etcd-certfile', 'etcd-keyfile'),
    remediation: inManifest('set --etcd-certfile and --etcd-keyfile to a client certificate and key etcd trusts (kubeadm: /etc/kubernetes/pki/apiserver-etcd-client.crt/.key)'),
  }),
  componentCheck({
    id: 'cis-1.2.24', cis: '1.2.24', title: 'API server serving certificate and key set', severity: 'medium',
    component: 'kube-apiserver', judge: flagsSet('tls-cert-file', 'tls-private-key-file'),
    remediation: inManifest('set --tls-cert-file and --tls-private-key-file to a CA-signed serving certificate and key (kubeadm: /etc/kubernetes/pki/apiserver.crt/.key)'),
  }),
  componentCheck({
    id: 'cis-1.2.25', cis: '1.2.25', title: 'API server client-certificate CA configured', severity: 'high',
    component: 'kube-apiserver', judge: flagsSet('client-ca-file'),
    remediation: inManifest('set --client-ca-file to the cluster CA certificate (kubeadm: /etc/kubernetes/pki/ca.crt)'),
  }),
  componentCheck({
    id: 'cis-1.2.26', cis: '1.2.26', title: 'API server verifies etcd with a CA', severity: 'high',
    component: 'kube-apiserver', judge: flagsSet('etcd-cafile'),
    remediation: inManifest('set --etcd-cafile to the etcd CA certificate (kubeadm: /etc/kubernetes/pki/etcd/ca.crt)'),
  }),
  componentCheck({
    id: 'cis-1.2.29', cis: '1.2.29', title: 'API server restricted to strong TLS ciphers', severity: 'medium',
    component: 'kube-apiserver', judge: cipherSuites,
    remediation: inManifest(`set --tls-cipher-suites to strong AEAD suites only, e.g. --tls-cipher-suites=${APISERVER_STRONG_CIPHERS.slice(3, 5).join(',')},TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384`),
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil judges every listed suite against the strong list.',
  }),
  componentCheck({
    id: 'cis-1.2.30', cis: '1.2.30', title: 'Projected SA token lifetimes not auto-extended', severity: 'low',
    component: 'kube-apiserver', judge: flagBool('service-account-extend-token-expiration', false, true),
    remediation: inManifest('set --service-account-extend-token-expiration=false'),
  }),
];

export const apiserverChecks: Check[] = [
  ...authChecks,
  ...apiserverAdmissionChecks,
  ...auditChecks,
  ...credentialChecks,
  ...apiserverEncryptionChecks,
];
