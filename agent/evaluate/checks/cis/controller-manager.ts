// CIS 1.3: kube-controller-manager flags.
import type { Check } from '../../check.js';
import type { ComponentFact } from '../../../facts/snapshot.js';
import { parseGoBool } from '../../../../common/bool.js';
import { bindAddressLoopback, componentCheck, featureGates, flagBool, flagEvidence, flagsSet, type Judgement } from './helpers.js';

const inManifest = (change: string) =>
  `Edit the kube-controller-manager manifest (/etc/kubernetes/manifests/kube-controller-manager.yaml, or its unit/arguments) and ${change}.`;

function serverCertRotationGate(c: ComponentFact): Judgement {
  const raw = featureGates(c).RotateKubeletServerCertificate;
  const off = raw !== undefined && parseGoBool(raw) === false;
  return {
    status: off ? 'fail' : 'pass',
    evidence: flagEvidence(c, 'feature-gates', 'RotateKubeletServerCertificate not false', {
      value: raw === undefined ? undefined : `RotateKubeletServerCertificate=${raw}`,
      detail: raw === undefined ? 'the gate is on by default since Kubernetes 1.12' : undefined,
    }),
  };
}

function terminatedPodGc(c: ComponentFact): Judgement {
  const j = flagsSet('terminated-pod-gc-threshold')(c);
  if (j.status === 'fail') j.evidence.detail += '; the default (12500) lets terminated pods pile up before collection';
  return j;
}

export const controllerManagerChecks: Check[] = [
  componentCheck({
    id: 'cis-1.3.1', cis: '1.3.1', title: 'Terminated pod garbage-collection threshold configured', severity: 'low',
    component: 'kube-controller-manager', judge: terminatedPodGc,
    remediation: inManifest('set --terminated-pod-gc-threshold to a value that suits the cluster, e.g. --terminated-pod-gc-threshold=10'),
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil fails when the flag is not set.',
  }),
  componentCheck({
    id: 'cis-1.3.2', cis: '1.3.2', title: 'Controller-manager profiling endpoints off', severity: 'low',
    component: 'kube-controller-manager', judge: flagBool('profiling', false, true),
    remediation: inManifest('set --profiling=false'),
  }),
  componentCheck({
    id: 'cis-1.3.3', cis: '1.3.3', title: 'Controllers run with per-controller service accounts', severity: 'medium',
    component: 'kube-controller-manager', judge: flagBool('use-service-account-credentials', true, false),
    remediation: inManifest('set --use-service-account-credentials=true (RBAC must grant the per-controller service accounts their roles, as the default bootstrap policy does)'),
  }),
  componentCheck({
    id: 'cis-1.3.4', cis: '1.3.4', title: 'Service account signing key configured', severity: 'medium',
    component: 'kube-controller-manager', judge: flagsSet('service-account-private-key-file'),
    remediation: inManifest('set --service-account-private-key-file to the service account signing key (kubeadm: /etc/kubernetes/pki/sa.key)'),
  }),
  componentCheck({
    id: 'cis-1.3.5', cis: '1.3.5', title: 'Root CA bundle handed to service accounts', severity: 'low',
    component: 'kube-controller-manager', judge: flagsSet('root-ca-file'),
    remediation: inManifest('set --root-ca-file to the cluster CA certificate (kubeadm: /etc/kubernetes/pki/ca.crt)'),
  }),
  componentCheck({
    id: 'cis-1.3.6', cis: '1.3.6', title: 'Kubelet serving-cert rotation gate not disabled', severity: 'medium',
    component: 'kube-controller-manager', judge: serverCertRotationGate,
    remediation: inManifest('remove RotateKubeletServerCertificate=false from --feature-gates'),
    differsFromKubeBench: 'Vigil reads --feature-gates as a map (last value of a repeated gate wins, any Go boolean spelling of false), not as a substring.',
  }),
  componentCheck({
    id: 'cis-1.3.7', cis: '1.3.7', title: 'Controller-manager listens on loopback only', severity: 'medium',
    component: 'kube-controller-manager', judge: bindAddressLoopback('0.0.0.0'),
    remediation: inManifest('set --bind-address=127.0.0.1'),
    differsFromKubeBench: 'kube-bench passes when --bind-address is not set; the real default is 0.0.0.0 (all interfaces), so Vigil fails. Any loopback address (127.0.0.0/8, ::1) passes.',
  }),
];
