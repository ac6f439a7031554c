// Dogfood: Vigil's own container checks (the evaluators that judge running containers) judge Vigil's
// rendered pod specs. The collector must pass Pod Security "restricted" and every other container check;
// the agent's failures must be exactly the exceptions listed below, each with its reason (the same list
// is in deploy/README.md). A new failure, or an exception that no longer fails, breaks this test.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../proto/report.js';
import type { Snapshot } from '../../../agent/facts/snapshot.js';
import { evaluate } from '../../../agent/evaluate/check.js';
import { containersChecks } from '../../../agent/evaluate/checks/containers/index.js';
import { containersFactFromManifests } from '../../../agent/gather/containers/pod-spec.js';
import { DEPLOY, KUBECTL, collectResources, findObject, kubectlKustomize, type K8sObject } from './kustomize.js';

/** Why the agent needs each thing Pod Security baseline/restricted (or Vigil's stricter checks) refuses. */
const AGENT_EXCEPTIONS: Record<string, string> = {
  'container-host-pid':
    "hostPID: the agent judges the node's processes (kubelet, apiserver, etcd flags; every container's real capabilities) through /proc.",
  'container-host-path':
    'hostPath: the agent reads the host files the CIS checks judge (read-only), and keeps its outbox on the node so reports survive restarts.',
  'container-restricted-volumes':
    'restricted volume types exclude hostPath, which the agent needs (see container-host-path).',
  'container-sensitive-host-mount':
    'the host paths the checks read include /etc/kubernetes (PKI, kubeconfigs), /var/lib/kubelet and /sys: read-only, and the CRI socket is not mounted.',
  'container-capabilities-baseline':
    'DAC_READ_SEARCH (read files root does not own: etcd data dir, service-owned keys) and SYS_PTRACE (read /proc/<pid>/environ, fd, ns of more privileged processes) are outside the baseline set.',
  'container-capabilities-restricted':
    'restricted allows adding only NET_BIND_SERVICE; the agent adds DAC_READ_SEARCH and SYS_PTRACE (see container-capabilities-baseline).',
  'container-run-as-non-root':
    'runs as uid 0: owner-only files of root (kubeconfigs, PKI keys) are readable without DAC_OVERRIDE; no capability beyond the two added ones.',
  'container-run-as-user':
    'restricted refuses runAsUser 0 explicitly; the agent sets it, for the reason in container-run-as-non-root.',
  'container-root-uid':
    'uid 0, for the same reason as container-run-as-non-root.',
};

/**
 * The collector passes every Pod Security check everywhere. Beyond Pod Security, the ha overlay gives
 * it PostgreSQL's password as PGPASSWORD from a Secret: node-postgres reads it from there, and the
 * collector has no password-file option yet (a file would let this warning go).
 */
const COLLECTOR_EXCEPTIONS: Record<string, Record<string, string>> = {
  'overlays/ha': {
    'container-secret-env': 'VIGIL_DATABASE_URL and PGPASSWORD from the vigil-database Secret, until the collector can read the database URL or password from a file.',
  },
};

/** Each host path Vigil's sensitive-mount check names on the agent, and why the agent mounts it (read-only). */
const AGENT_SENSITIVE_MOUNTS: Record<string, string> = {
  '/etc/kubernetes': 'static pod manifests, kubeconfigs and PKI: the CIS 1.1 file checks and the control-plane flag checks.',
  '/var/lib/kubelet': "the kubelet's config.yaml and certificates (CIS 4.1, 4.2); the agent never reads below pods/.",
  '/var/lib/etcd': "etcd's data dir, stat only (CIS 1.1.11, 1.1.12).",
  '/run/containerd/io.containerd.runtime.v2.task': "containerd's per-container OCI specs and init.pid (the socket is not under it).",
  '/sys': 'LSM state (AppArmor, SELinux); sysfs subdirectories cannot be mounted one by one when absent.',
};

const COLLECTOR = { kind: 'Deployment', name: 'vigil-collector' };
const AGENT = { kind: 'DaemonSet', name: 'vigil-agent' };

function snapshotOf(manifests: K8sObject[]): Snapshot {
  return {
    node: { name: 'manifests', roles: [] },
    hostRoot: '/',
    procRoot: '/proc',
    components: {},
    files: {},
    containers: containersFactFromManifests(manifests.map((m) => ({ manifest: m, path: `${m.kind}/${m.metadata.name}` }))),
    sockets: [],
    certificates: [],
    keys: [],
    kernel: { sysctls: {} },
    cni: { plugins: [], files: [] },
    errors: [],
  } as unknown as Snapshot;
}

function judge(objects: K8sObject[], target: { kind: string; name: string }): Finding[] {
  const workload = findObject(objects, target.kind, target.name);
  const findings = evaluate(snapshotOf([workload]), containersChecks);
  expect(findings.length).toBeGreaterThan(0);
  // Every finding is about this workload's containers, none is an evaluator error.
  for (const f of findings) {
    expect(f.status, `${f.checkId}: ${f.evidence.detail ?? ''}`).not.toBe('error');
    expect(f.resource.kind).toBe('container');
  }
  return findings;
}

const sources: [string, K8sObject[]][] = [['base', collectResources(join(DEPLOY, 'base')).map((r) => r.object)]];
for (const overlay of ['single', 'ha']) {
  const rendered = kubectlKustomize(join(DEPLOY, 'overlays', overlay));
  if (rendered) sources.push([`overlays/${overlay}`, rendered]);
}
if (sources.length === 1) console.warn('dogfood: kubectl not on PATH; judging the base manifests only, not the rendered overlays');

describe.each(sources)('dogfood: %s', (label, objects) => {
  it('the collector passes Pod Security restricted, and every other container check but the listed ones', () => {
    const findings = judge(objects, COLLECTOR);
    const pss = findings.filter((f) => f.level === 'baseline' || f.level === 'restricted');
    expect(new Set(pss.map((f) => f.level))).toEqual(new Set(['baseline', 'restricted']));
    for (const f of pss) expect(f.status, `${f.checkId}: ${f.evidence.detail ?? ''}`).toBe('pass');
    const failing = [...new Set(findings.filter((f) => f.status === 'fail' || f.status === 'warn').map((f) => f.checkId))].sort();
    expect(failing).toEqual(Object.keys(COLLECTOR_EXCEPTIONS[label] ?? {}).sort());
  });

  it('the agent fails exactly the listed exceptions, each with a reason', () => {
    const findings = judge(objects, AGENT);
    const failing = [...new Set(findings.filter((f) => f.status === 'fail' || f.status === 'warn').map((f) => f.checkId))].sort();
    expect(failing).toEqual(Object.keys(AGENT_EXCEPTIONS).sort());
    for (const reason of Object.values(AGENT_EXCEPTIONS)) expect(reason.length).toBeGreaterThan(40);
    const sensitive = findings.filter((f) => f.checkId === 'container-sensitive-host-mount' && f.status !== 'pass')
      .map((f) => (f.evidence.value as { source: string; readOnly: boolean }));
    expect(sensitive.map((m) => m.source).sort()).toEqual(Object.keys(AGENT_SENSITIVE_MOUNTS).sort());
    for (const m of sensitive) expect(m.readOnly, m.source).toBe(true);
    // Everything else Pod Security checks, the agent passes: not privileged, no privilege escalation,
    // RuntimeDefault seccomp, no host network/IPC, no host ports, default procMount, no unsafe sysctls.
    for (const id of ['container-privileged', 'container-privilege-escalation', 'container-seccomp-restricted',
      'container-host-network', 'container-host-ipc', 'container-host-ports', 'container-proc-mount',
      'container-read-only-root-fs']) {
      const f = findings.filter((x) => x.checkId === id);
      expect(f.length, `${id} judged the agent`).toBeGreaterThan(0);
      for (const x of f) expect(x.status, id).toBe('pass');
    }
  });
});

/**
 * The other workloads deploy/ ships, judged the same way: the ones that scan a node (the one-shot Job, the
 * once-per-node DaemonSet) get exactly the agent's exceptions, for the agent's reasons; everything else
 * (the certificate CronJob, NATS, the reports reader) passes every container check, Pod Security restricted included.
 */
const render = (dir: string): K8sObject[] => (KUBECTL ? kubectlKustomize(join(DEPLOY, dir))! : collectResources(join(DEPLOY, dir)).map((r) => r.object));
const OTHERS: [string, () => K8sObject[], { kind: string; name: string }, Record<string, string>][] = [
  ['job', () => render('job'), { kind: 'Job', name: 'vigil-scan' }, AGENT_EXCEPTIONS],
  ['job/every-node', () => render('job/every-node'), { kind: 'DaemonSet', name: 'vigil-scan-once' }, AGENT_EXCEPTIONS],
  ['job/with-reports', () => render('job/with-reports'), { kind: 'Pod', name: 'vigil-scan-reports' }, {}],
  ['overlays/single', () => render('overlays/single'), { kind: 'CronJob', name: 'vigil-collector-certs' }, {}],
  ['overlays/ha', () => render('overlays/ha'), { kind: 'CronJob', name: 'vigil-collector-certs' }, {}],
  ['overlays/ha', () => render('overlays/ha'), { kind: 'StatefulSet', name: 'vigil-nats' }, {}],
];

describe.each(OTHERS)('dogfood: %s %o', (_label, objects, target, exceptions) => {
  it('fails exactly the listed exceptions, and passes Pod Security restricted otherwise', () => {
    const findings = judge(objects(), target);
    const failing = [...new Set(findings.filter((f) => f.status === 'fail' || f.status === 'warn').map((f) => f.checkId))].sort();
    expect(failing).toEqual(Object.keys(exceptions).sort());
    if (Object.keys(exceptions).length === 0) {
      const pss = findings.filter((f) => f.level === 'baseline' || f.level === 'restricted');
      expect(new Set(pss.map((f) => f.level))).toEqual(new Set(['baseline', 'restricted']));
    }
  });
});
