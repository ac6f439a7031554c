// CIS Kubernetes Benchmark 1.12, section 3: control-plane configuration. 3.1.x and 3.2.2 are manual reviews: they
// warn with the facts a reviewer needs, read from the API server's settings, so they apply where it runs.
// kube-bench's cfg/cis-1.12/controlplane.yaml.
import { parseGoBool } from '../../../../common/bool.js';
import { setting, settings } from '../../../facts/inputs.js';
import type { Row } from '../../rows.js';
import { isSet } from '../../ops.js';
import { isSetting, manualReview } from '../../judges/control-plane.js';

const authReviewRemediation = 'Authenticate people through OIDC (--oidc-* flags or --authentication-config) or an authenticating proxy/webhook, and keep client certificates, service account tokens and bootstrap tokens for machines.';

export const CONTROL_PLANE: Row[] = [
  {
    id: 'cis-3.1.1', cis: '3.1.1', title: 'Avoid client certificates for human users', severity: 'medium',
    component: 'cluster', runsOn: 'kube-apiserver', reads: [setting('kube-apiserver', 'client-ca-file')],
    judge: manualReview('client-ca-file', 'no client certificates issued to people', (ctx) =>
      isSetting(ctx, 'client-ca-file')
        ? `client certificates signed by ${String(ctx.setting('client-ca-file').value)} are accepted and cannot be revoked; check that none were issued to people`
        : 'client certificate authentication is off'),
    remediation: authReviewRemediation,
  },
  {
    id: 'cis-3.1.2', cis: '3.1.2', title: 'Avoid service account tokens for human users', severity: 'medium',
    component: 'cluster', runsOn: 'kube-apiserver',
    reads: settings('kube-apiserver', 'service-account-issuer', 'oidc-issuer-url', 'authentication-config'),
    judge: manualReview('service-account-issuer', 'no service account tokens used by people', (ctx) => {
      const oidc = isSetting(ctx, 'oidc-issuer-url') || isSetting(ctx, 'authentication-config');
      return `service account tokens are accepted; check that no one uses them as a personal credential${oidc ? '' : ' (no OIDC or structured authentication is configured for people)'}`;
    }),
    remediation: authReviewRemediation,
  },
  {
    id: 'cis-3.1.3', cis: '3.1.3', title: 'Avoid bootstrap tokens for human users', severity: 'medium',
    component: 'cluster', runsOn: 'kube-apiserver', reads: [setting('kube-apiserver', 'enable-bootstrap-token-auth')],
    judge: manualReview('enable-bootstrap-token-auth', 'bootstrap tokens used only to join nodes', (ctx) =>
      parseGoBool(ctx.setting('enable-bootstrap-token-auth').value) === true
        ? 'bootstrap token authentication is on; check that tokens in kube-system are short-lived and used only to join nodes'
        : 'bootstrap token authentication is off'),
    remediation: authReviewRemediation + ' Delete bootstrap tokens once nodes have joined (kubeadm token delete).',
  },
  {
    id: 'cis-3.2.1', cis: '3.2.1', title: 'API server has an audit policy file', severity: 'medium',
    component: 'kube-apiserver', reads: [setting('kube-apiserver', 'audit-policy-file')],
    op: isSet({ failDetail: 'without a policy the API server records no audit events, even with --audit-log-path' }),
    remediation: 'Write an audit Policy (e.g. /etc/kubernetes/audit-policy.yaml), mount it into the kube-apiserver pod and set --audit-policy-file to it, with --audit-log-path or an audit webhook.',
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil judges the flag.',
  },
  {
    id: 'cis-3.2.2', cis: '3.2.2', title: 'Audit policy covers secrets, exec and workload changes', severity: 'medium',
    component: 'kube-apiserver', reads: [setting('kube-apiserver', 'audit-policy-file')],
    judge: manualReview('audit-policy-file', 'policy logs secrets/configmaps at Metadata, exec/attach/portforward and RBAC/workload changes', (ctx) =>
      isSetting(ctx, 'audit-policy-file')
        ? `review the rules of ${String(ctx.setting('audit-policy-file').value)}`
        : 'no --audit-policy-file: nothing is audited (see cis-3.2.1)'),
    remediation: 'Make the audit policy log at least Metadata for secrets, configmaps and tokenreviews, RequestResponse for pods/exec, pods/attach, pods/portforward and RBAC changes, and Request for workload changes; avoid logging secret bodies.',
  },
];
