// The PodSpec adapter: rendered manifests judged by the same container checks as running containers.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { containersFactFromManifests, containersFromPodSpec, podTemplateOf } from '../../../agent/gather/containers/pod-spec.js';
import { evaluate } from '../../../agent/evaluate/check.js';
import { containersChecks } from '../../../agent/evaluate/checks/containers/index.js';
import type { Snapshot } from '../../../agent/facts/snapshot.js';
import type { Finding } from '../../../proto/report.js';

const judge = (manifests: unknown[]): Finding[] =>
  evaluate({ containers: containersFactFromManifests(manifests.map((m, i) => ({ manifest: m, path: `m${i}.yaml` }))) } as unknown as Snapshot, containersChecks);

const failures = (fs: Finding[], container: string): string[] =>
  [...new Set(fs.filter((f) => f.status === 'fail' && (f.resource as { container?: string }).container === container).map((f) => f.checkId))].sort();

const RESTRICTED_POD = parse(`
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: shop }
spec:
  securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: RuntimeDefault } }
  volumes:
    - { name: tmp, emptyDir: {} }
    - { name: cfg, configMap: { name: web } }
  containers:
    - name: nginx
      image: nginx:1.27
      ports: [{ containerPort: 8080 }]
      env: [{ name: LOG_LEVEL, value: info }]
      volumeMounts: [{ name: tmp, mountPath: /tmp }, { name: cfg, mountPath: /etc/nginx, readOnly: true }]
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: { drop: [ALL], add: [NET_BIND_SERVICE] }
`);

const BAD_DAEMONSET = parse(`
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: node-agent, namespace: kube-system }
spec:
  template:
    metadata:
      annotations: { container.apparmor.security.beta.kubernetes.io/agent: unconfined }
    spec:
      hostPID: true
      hostNetwork: true
      securityContext: { sysctls: [{ name: kernel.msgmax, value: "65536" }] }
      volumes:
        - { name: root, hostPath: { path: / } }
        - { name: sock, hostPath: { path: /run/containerd/containerd.sock, type: Socket } }
        - { name: nfs, nfs: { server: 10.0.0.1, path: /export } }
      initContainers:
        - name: setup
          image: busybox
          securityContext: { privileged: true, runAsUser: 0 }
      containers:
        - name: agent
          image: example/agent:1
          ports: [{ containerPort: 9100, hostPort: 9100 }]
          env:
            - { name: API_TOKEN, value: abc }
            - name: DB_PASSWORD
              valueFrom: { secretKeyRef: { name: db, key: password } }
          volumeMounts: [{ name: root, mountPath: /host, readOnly: true }, { name: sock, mountPath: /run/containerd/containerd.sock }]
          securityContext:
            capabilities: { add: [SYS_ADMIN, NET_RAW] }
            seccompProfile: { type: Unconfined }
            procMount: Unmasked
            seLinuxOptions: { type: spc_t }
`);

describe('PodSpec adapter', () => {
  it('finds the pod template of workload kinds', () => {
    expect(podTemplateOf(BAD_DAEMONSET)!.meta).toMatchObject({ namespace: 'kube-system', pod: 'node-agent' });
    expect(podTemplateOf({ kind: 'CronJob', metadata: { name: 'c' }, spec: { jobTemplate: { spec: { template: { spec: { containers: [] } } } } } })).toBeDefined();
    expect(podTemplateOf({ kind: 'ConfigMap' })).toBeUndefined();
  });

  it('reads the literal fields with pod-level defaults', () => {
    const [c] = containersFromPodSpec(RESTRICTED_POD.spec, { namespace: 'shop', pod: 'web' });
    expect(c).toMatchObject({ runtime: 'manifest', namespace: 'shop', pod: 'web', container: 'nginx', image: 'nginx:1.27' });
    expect(c.declared).toMatchObject({
      sources: ['podspec'], capabilities: { added: ['NET_BIND_SERVICE'], dropped: ['ALL'] }, allowPrivilegeEscalation: false,
      seccomp: 'runtime-default', runAsUser: 1000, runAsNonRoot: true, readOnlyRootFilesystem: true, hostPorts: [], hostNamespaces: [],
    });
    expect(c.declared!.mounts.map((m) => m.origin)).toEqual(['volume', 'volume']);
  });

  it('passes a restricted pod on every PSS control', () => {
    const fs = judge([RESTRICTED_POD]);
    expect(fs.filter((f) => f.level && f.status !== 'pass')).toEqual([]);
    expect(failures(fs, 'nginx')).toEqual([]);
  });

  it('fails a hostile DaemonSet on the controls it breaks, per container', () => {
    const fs = judge([BAD_DAEMONSET]);
    expect(failures(fs, 'agent')).toEqual([
      'container-apparmor', 'container-capabilities-baseline', 'container-capabilities-restricted', 'container-host-network',
      'container-host-path', 'container-host-pid', 'container-host-ports', 'container-net-raw', 'container-privilege-escalation',
      'container-proc-mount', 'container-read-only-root-fs', 'container-restricted-volumes', 'container-run-as-non-root',
      'container-seccomp-baseline', 'container-seccomp-restricted', 'container-secret-env', 'container-selinux',
      'container-sensitive-host-mount', 'container-sysctls',
    ]);
    expect(failures(fs, 'setup')).toEqual(expect.arrayContaining(['container-privileged', 'container-run-as-user', 'container-root-uid', 'container-host-path']));
    const sensitive = fs.filter((f) => f.checkId === 'container-sensitive-host-mount' && f.status === 'fail');
    expect(sensitive.map((f) => f.severity).sort()).toEqual(['critical', 'high']);
    const env = fs.find((f) => f.checkId === 'container-secret-env' && (f.resource as { container?: string }).container === 'agent')!;
    expect(env.evidence.value).toEqual(['API_TOKEN']);
    const restricted = fs.find((f) => f.checkId === 'container-restricted-volumes' && f.status === 'fail')!;
    expect(restricted.evidence.value).toEqual(expect.arrayContaining(['nfs:nfs', 'hostPath:/']));
  });

  it('warns on secrets taken from a Secret into env', () => {
    const fs = judge([{ kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', envFrom: [{ secretRef: { name: 'all' } }] }] } }]);
    expect(fs.find((f) => f.checkId === 'container-secret-env')).toMatchObject({ status: 'warn', evidence: { value: ['envFrom secret all'] } });
  });

  it('survives junk', () => {
    expect(containersFromPodSpec(null)).toEqual([]);
    expect(containersFromPodSpec({ containers: [null, 7, { name: 5, securityContext: 'x', env: 'y', ports: [{}] }] })).toHaveLength(1);
    expect(judge([undefined, 'x', { kind: 'Pod' }])).toHaveLength(containersChecks.length - 1);
  });
});
