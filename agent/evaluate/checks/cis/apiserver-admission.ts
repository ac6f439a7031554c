// CIS 1.2: kube-apiserver admission plugins, judged on the effective plugin set.
import type { Check } from '../../check.js';
import type { ComponentFact } from '../../../facts/snapshot.js';
import { componentCheck, flagEvidence, listFlag, type Judgement } from './helpers.js';

interface PluginState {
  on: boolean;
  /** The flag the verdict rests on. */
  flag: string;
  list: string[] | undefined;
  why: string;
}

/**
 * Effective state of an admission plugin. The deprecated --admission-control list replaces the whole
 * default set; otherwise the set is the defaults plus --enable-admission-plugins minus --disable-admission-plugins
 * (the API server refuses to start when one plugin is in both).
 */
export function admissionPlugin(c: ComponentFact, name: string, defaultOn: boolean): PluginState {
  const legacy = listFlag(c, 'admission-control');
  if (legacy) {
    const on = legacy.includes(name);
    return { on, flag: 'admission-control', list: legacy, why: `${name} ${on ? 'is' : 'is not'} in the deprecated --admission-control list, which replaces the default plugin set` };
  }
  const enabled = listFlag(c, 'enable-admission-plugins');
  const disabled = listFlag(c, 'disable-admission-plugins');
  if (disabled?.includes(name)) {
    return { on: false, flag: 'disable-admission-plugins', list: disabled, why: `${name} is disabled` };
  }
  if (enabled?.includes(name)) {
    return { on: true, flag: 'enable-admission-plugins', list: enabled, why: `${name} is enabled` };
  }
  return defaultOn
    ? { on: true, flag: 'disable-admission-plugins', list: disabled, why: `${name} is on by default and not disabled` }
    : { on: false, flag: 'enable-admission-plugins', list: enabled, why: `${name} is off by default and not in --enable-admission-plugins` };
}

function pluginJudge(name: string, wantOn: boolean, defaultOn: boolean) {
  return (c: ComponentFact): Judgement => {
    const state = admissionPlugin(c, name, defaultOn);
    const expected = wantOn ? `${name} enabled` : `${name} not enabled`;
    return {
      status: state.on === wantOn ? 'pass' : 'fail',
      evidence: flagEvidence(c, state.flag, expected, { value: state.list, detail: state.why }),
    };
  };
}

const admissionRemediation = (name: string, on: boolean) => on
  ? `Add ${name} to --enable-admission-plugins in the kube-apiserver manifest (/etc/kubernetes/manifests/kube-apiserver.yaml), keeping the plugins already listed.`
  : `Remove ${name} from --enable-admission-plugins in the kube-apiserver manifest (/etc/kubernetes/manifests/kube-apiserver.yaml).`;

const notDisabledRemediation = (name: string) =>
  `Remove ${name} from --disable-admission-plugins in the kube-apiserver manifest (/etc/kubernetes/manifests/kube-apiserver.yaml); it is on by default.`;

const EFFECTIVE = 'Vigil judges the effective plugin set (defaults, --enable/--disable-admission-plugins and the deprecated --admission-control), not only the flag text.';

export const apiserverAdmissionChecks: Check[] = [
  componentCheck({
    id: 'cis-1.2.3', cis: '1.2.3', title: 'DenyServiceExternalIPs admission plugin turned on', severity: 'medium',
    component: 'kube-apiserver', judge: pluginJudge('DenyServiceExternalIPs', true, false),
    remediation: admissionRemediation('DenyServiceExternalIPs', true) + ' It blocks new Services with spec.externalIPs (CVE-2020-8554); keep it off only if you rely on externalIPs.',
    differsFromKubeBench: `kube-bench lists this as a manual check. ${EFFECTIVE}`,
  }),
  componentCheck({
    id: 'cis-1.2.9', cis: '1.2.9', title: 'EventRateLimit admission plugin turned on', severity: 'low',
    component: 'kube-apiserver', judge: pluginJudge('EventRateLimit', true, false),
    remediation: admissionRemediation('EventRateLimit', true) + ' It needs --admission-control-config-file naming an EventRateLimit configuration with limits.',
    differsFromKubeBench: `kube-bench lists this as a manual check. ${EFFECTIVE}`,
  }),
  componentCheck({
    id: 'cis-1.2.10', cis: '1.2.10', title: 'AlwaysAdmit admission plugin not turned on', severity: 'high',
    component: 'kube-apiserver', judge: pluginJudge('AlwaysAdmit', false, false),
    remediation: admissionRemediation('AlwaysAdmit', false),
    differsFromKubeBench: EFFECTIVE,
  }),
  componentCheck({
    id: 'cis-1.2.11', cis: '1.2.11', title: 'AlwaysPullImages admission plugin turned on', severity: 'medium',
    component: 'kube-apiserver', judge: pluginJudge('AlwaysPullImages', true, false),
    remediation: admissionRemediation('AlwaysPullImages', true) + ' It makes every pod re-check registry credentials, so private images cached on a node cannot be used by pods without pull rights.',
    differsFromKubeBench: `kube-bench lists this as a manual check. ${EFFECTIVE}`,
  }),
  componentCheck({
    id: 'cis-1.2.12', cis: '1.2.12', title: 'ServiceAccount admission plugin not disabled', severity: 'medium',
    component: 'kube-apiserver', judge: pluginJudge('ServiceAccount', true, true),
    remediation: notDisabledRemediation('ServiceAccount'),
    differsFromKubeBench: EFFECTIVE,
  }),
  componentCheck({
    id: 'cis-1.2.13', cis: '1.2.13', title: 'NamespaceLifecycle admission plugin not disabled', severity: 'medium',
    component: 'kube-apiserver', judge: pluginJudge('NamespaceLifecycle', true, true),
    remediation: notDisabledRemediation('NamespaceLifecycle'),
    differsFromKubeBench: EFFECTIVE,
  }),
  componentCheck({
    id: 'cis-1.2.14', cis: '1.2.14', title: 'NodeRestriction admission plugin turned on', severity: 'high',
    component: 'kube-apiserver', judge: pluginJudge('NodeRestriction', true, false),
    remediation: admissionRemediation('NodeRestriction', true) + ' Kubelets must use node credentials (system:node:<name>) for it to take effect.',
    differsFromKubeBench: EFFECTIVE,
  }),
];
