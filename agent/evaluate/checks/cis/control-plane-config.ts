// CIS 3: control-plane configuration. 3.1.x and 3.2.2 are manual reviews: they warn with the facts a reviewer needs,
// read from the API server's flags, so they only apply where the API server runs.
import type { Check } from '../../check.js';
import type { ComponentFact } from '../../../facts/snapshot.js';
import { parseGoBool } from '../../../../common/bool.js';
import { componentCheck, flagEvidence, flagsSet, isSet, lastFlag, type Judgement } from './helpers.js';

function review(flag: string, expected: string, detail: (c: ComponentFact) => string) {
  return (c: ComponentFact): Judgement => ({
    status: 'warn',
    evidence: flagEvidence(c, flag, expected, { detail: `manual review: ${detail(c)}` }),
  });
}

function auditPolicy(c: ComponentFact): Judgement {
  const j = flagsSet('audit-policy-file')(c);
  if (j.status === 'fail') j.evidence.detail += '; without a policy the API server records no audit events, even with --audit-log-path';
  return j;
}

const authReviewRemediation = 'Authenticate people through OIDC (--oidc-* flags or --authentication-config) or an authenticating proxy/webhook, and keep client certificates, service account tokens and bootstrap tokens for machines.';

export const controlPlaneConfigChecks: Check[] = [
  componentCheck({
    id: 'cis-3.1.1', cis: '3.1.1', title: 'Avoid client certificates for human users', severity: 'medium',
    component: 'cluster', runsOn: 'kube-apiserver',
    judge: review('client-ca-file', 'no client certificates issued to people', (c) =>
      isSet(c, 'client-ca-file')
        ? `client certificates signed by ${lastFlag(c, 'client-ca-file')} are accepted and cannot be revoked; check that none were issued to people`
        : 'client certificate authentication is off'),
    remediation: authReviewRemediation,
  }),
  componentCheck({
    id: 'cis-3.1.2', cis: '3.1.2', title: 'Avoid service account tokens for human users', severity: 'medium',
    component: 'cluster', runsOn: 'kube-apiserver',
    judge: review('service-account-issuer', 'no service account tokens used by people', (c) => {
      const oidc = isSet(c, 'oidc-issuer-url') || isSet(c, 'authentication-config');
      return `service account tokens are accepted; check that no one uses them as a personal credential${oidc ? '' : ' (no OIDC or structured authentication is configured for people)'}`;
    }),
    remediation: authReviewRemediation,
  }),
  componentCheck({
    id: 'cis-3.1.3', cis: '3.1.3', title: 'Avoid bootstrap tokens for human users', severity: 'medium',
    component: 'cluster', runsOn: 'kube-apiserver',
    judge: review('enable-bootstrap-token-auth', 'bootstrap tokens used only to join nodes', (c) =>
      parseGoBool(lastFlag(c, 'enable-bootstrap-token-auth')) === true
        ? 'bootstrap token authentication is on; check that tokens in kube-system are short-lived and used only to join nodes'
        : 'bootstrap token authentication is off'),
    remediation: authReviewRemediation + ' Delete bootstrap tokens once nodes have joined (kubeadm token delete).',
  }),
  componentCheck({
    id: 'cis-3.2.1', cis: '3.2.1', title: 'API server has an audit policy file', severity: 'medium',
    component: 'kube-apiserver', judge: auditPolicy,
    remediation: 'Write an audit Policy (e.g. /etc/kubernetes/audit-policy.yaml), mount it into the kube-apiserver pod and set --audit-policy-file to it, with --audit-log-path or an audit webhook.',
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil judges the flag.',
  }),
  componentCheck({
    id: 'cis-3.2.2', cis: '3.2.2', title: 'Audit policy covers secrets, exec and workload changes', severity: 'medium',
    component: 'kube-apiserver',
    judge: review('audit-policy-file', 'policy logs secrets/configmaps at Metadata, exec/attach/portforward and RBAC/workload changes', (c) =>
      isSet(c, 'audit-policy-file')
        ? `review the rules of ${lastFlag(c, 'audit-policy-file')}`
        : 'no --audit-policy-file: nothing is audited (see cis-3.2.1)'),
    remediation: 'Make the audit policy log at least Metadata for secrets, configmaps and tokenreviews, RequestResponse for pods/exec, pods/attach, pods/portforward and RBAC changes, and Request for workload changes; avoid logging secret bodies.',
  }),
];
