// The Kubernetes manifests under deploy/: the Kustomize tree is whole (every resource and patch target exists, no
// duplicate objects), the agent and collector pod specs keep the least-privilege properties deploy/README.md
// promises, and the pieces that must agree do (the collector's token checks and the agents' projected tokens,
// the init container and the CronJob, the Role and what `certs ensure` writes, NATS users and their nkeys).
// Structural checks always run; rendering needs `kubectl` (its built-in kustomize), which .ci/run installs, so
// with VIGIL_REQUIRE_INTEGRATION=1 a missing kubectl fails instead of skipping. No cluster runs here: rendered
// objects are checked as data, not applied.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMap, isSeq, parseDocument, type YAMLSeq } from 'yaml';
import { DEFAULTS } from '../../../collector/certs/command.js';
import { TRUST_KEYS, natsSecretName } from '../../../collector/certs/cluster-store.js';
import { describeWithDaemons } from '../../harness/integration.js';
import {
  DEPLOY, KUBECTL, REPO_ROOT, collectResources, findObject, isDirectory, kubectlKustomize, kubectlKustomizeWith, objectKey,
  parseYamlFile, podSpec, readKustomization, type K8sObject,
} from './kustomize.js';

const NAMESPACE = 'vigil';
const OVERLAYS = ['single', 'ha'] as const;
const KUSTOMIZATION_DIRS = [
  join(DEPLOY, 'base'),
  ...OVERLAYS.map((o) => join(DEPLOY, 'overlays', o)),
  join(DEPLOY, 'images'),
  join(DEPLOY, 'components', 'k3s-rke2'),
  join(DEPLOY, 'components', 'cert-manager'),
  join(DEPLOY, 'job'),
  join(DEPLOY, 'job', 'node'),
  join(DEPLOY, 'job', 'with-reports'),
  join(DEPLOY, 'job', 'every-node'),
];
const AGENT_FILE = join(DEPLOY, 'base', 'agent-daemonset.yaml');
/** Capabilities the agent may add, each needing a comment that starts with its name. */
const AGENT_CAPS_ALLOWED = ['DAC_READ_SEARCH', 'SYS_PTRACE'];
const OUTBOX_HOST_PATH = '/var/lib/vigil/outbox';
/** Host paths that hand out root on the node, read-only or not: never mounted. */
const FORBIDDEN_HOST_PATHS = [
  '/', '/run', '/var/run', '/var/run/docker.sock', '/run/containerd', '/run/containerd/containerd.sock',
  '/var/run/crio', '/var/run/crio/crio.sock', '/run/k3s/containerd/containerd.sock', '/dev', '/root', '/home',
  '/var/lib/docker', '/var/lib/containerd', '/etc/vigil/pki',
];

const baseObjects = collectResources(join(DEPLOY, 'base')).map((r) => r.object);
if (!KUBECTL) console.warn('deploy manifests: kubectl not on PATH; overlays validated structurally only, not rendered');

function container(workload: K8sObject, name: string, kind: 'containers' | 'initContainers' = 'containers'): any {
  const c = (podSpec(workload)[kind] ?? []).find((x: { name: string }) => x.name === name);
  if (!c) throw new Error(`${workload.metadata.name} has no ${kind} ${name}`);
  return c;
}

/** The comment of a sequence item: the first item's comment is parsed onto the sequence itself. */
function itemComment(seq: YAMLSeq, index: number): string {
  const item = seq.items[index] as { commentBefore?: string | null };
  return ((index === 0 ? item.commentBefore ?? seq.commentBefore : item.commentBefore) ?? '').trim();
}

function argValue(args: string[], flag: string): string | undefined {
  return argValues(args, flag)[0];
}

function argValues(args: string[], flag: string): string[] {
  const prefix = `--${flag}=`;
  const out: string[] = [];
  args.forEach((a, i) => {
    if (a.startsWith(prefix)) out.push(a.slice(prefix.length));
    else if (a === `--${flag}`) out.push(args[i + 1]);
  });
  return out;
}

/** The pod volume a container path comes from: [volume, path inside the volume]. */
function volumeOf(spec: any, c: any, path: string): [any, string] {
  const mount = c.volumeMounts.filter((m: { mountPath: string }) => path.startsWith(`${m.mountPath}/`))
    .sort((a: { mountPath: string }, b: { mountPath: string }) => b.mountPath.length - a.mountPath.length)[0];
  if (!mount) throw new Error(`${path}: not under any mount of ${c.name}`);
  const volume = spec.volumes.find((v: { name: string }) => v.name === mount.name);
  return [volume, path.slice(mount.mountPath.length + 1)];
}

/** The agent's least privilege: shared by the DaemonSet, the one-shot Job and the once-per-node scan. */
function checkScanningContainer(spec: any, c: any, opts: { outbox: 'hostPath' | 'emptyDir' | 'none' }): void {
  const sc = c.securityContext;
  expect(spec.hostPID).toBe(true);
  expect(spec.hostNetwork ?? false).toBe(false);
  expect(spec.hostIPC ?? false).toBe(false);
  expect(spec.automountServiceAccountToken).toBe(false);
  expect(spec.tolerations).toContainEqual({ operator: 'Exists' });
  expect(sc.privileged).toBe(false);
  expect(sc.allowPrivilegeEscalation).toBe(false);
  expect(sc.readOnlyRootFilesystem).toBe(true);
  expect(sc.capabilities.drop).toEqual(['ALL']);
  for (const cap of sc.capabilities.add ?? []) expect(AGENT_CAPS_ALLOWED).toContain(cap);
  expect((sc.seccompProfile ?? spec.securityContext?.seccompProfile)?.type).toBe('RuntimeDefault');
  for (const kind of ['requests', 'limits']) {
    expect(c.resources[kind].cpu).toBeTruthy();
    expect(c.resources[kind].memory).toBeTruthy();
  }
  // Every hostPath: mounted read-only at /host/<same path>, except the DaemonSet's outbox; none of the root-granting ones.
  const mounts = new Map<string, { mountPath: string; readOnly?: boolean }>(c.volumeMounts.map((m: { name: string }) => [m.name, m]));
  const hostPaths = spec.volumes.filter((v: { hostPath?: unknown }) => v.hostPath);
  expect(hostPaths.length).toBeGreaterThan(5);
  for (const v of hostPaths) {
    const path: string = v.hostPath.path;
    const mount = mounts.get(v.name);
    expect(mount, `hostPath volume ${v.name} is mounted`).toBeDefined();
    expect(FORBIDDEN_HOST_PATHS).not.toContain(path.replace(/\/$/, '') || '/');
    if (path === OUTBOX_HOST_PATH) {
      expect(opts.outbox).toBe('hostPath');
      expect(v.hostPath.type).toBe('DirectoryOrCreate');
      expect(mount!.readOnly ?? false).toBe(false);
    } else {
      expect(mount!.readOnly, `${v.name} (${path}) is read-only`).toBe(true);
      expect(mount!.mountPath).toBe(`/host${path}`);
    }
  }
}

/** Host paths a scanning pod mounts, as `name path type -> mountPath`, for comparing the three of them. */
function hostMounts(spec: any, c: any): string[] {
  return spec.volumes.filter((v: any) => v.hostPath && v.hostPath.path !== OUTBOX_HOST_PATH).map((v: any) => {
    const m = c.volumeMounts.find((x: { name: string }) => x.name === v.name);
    return `${v.name} ${v.hostPath.path} ${v.hostPath.type ?? ''} -> ${m?.mountPath} ro=${m?.readOnly}`;
  }).sort();
}

/** The agent's identity: a projected token for the collector's audience plus the collector's CA, nothing per node. */
function checkAgentIdentity(objects: K8sObject[], spec: any, c: any): void {
  const tokenFile = argValue(c.args, 'token-file')!;
  const [tokenVolume, tokenPath] = volumeOf(spec, c, tokenFile);
  const projected = tokenVolume.projected.sources.find((s: any) => s.serviceAccountToken)?.serviceAccountToken;
  expect(projected.path).toBe(tokenPath);
  expect(projected.expirationSeconds).toBe(3600);
  const deploy = findObject(objects, 'Deployment', 'vigil-collector');
  const collectorArgs: string[] = container(deploy, 'collector').args;
  expect(projected.audience).toBe(argValue(collectorArgs, 'sa-audience'));
  expect(argValue(collectorArgs, 'sa-subject')).toBe(`system:serviceaccount:${NAMESPACE}:${spec.serviceAccountName}`);
  expect(findObject(objects, 'ServiceAccount', spec.serviceAccountName).automountServiceAccountToken).toBe(false);
  // The CA comes from the collector's trust ConfigMap, the key certs ensure publishes it under.
  const [caVolume, caPath] = volumeOf(spec, c, argValue(c.args, 'tls-ca')!);
  const fromConfigMap = caVolume.projected.sources.find((s: any) => s.configMap)?.configMap;
  expect(fromConfigMap.name).toBe(DEFAULTS.trustConfigMap);
  expect(fromConfigMap.items).toEqual([{ key: TRUST_KEYS.ca, path: caPath }]);
  // No client certificate and no per-node key anywhere.
  expect(argValue(c.args, 'tls-cert')).toBeUndefined();
  expect(argValue(c.args, 'tls-key')).toBeUndefined();
  // --collector names the collector Service's gRPC port, by the name its certificate carries.
  const svc = findObject(objects, 'Service', 'vigil-collector');
  const grpc = svc.spec.ports.find((p: { name: string }) => p.name === 'grpc');
  expect(argValue(c.args, 'collector')).toBe(`vigil-collector.${svc.metadata.namespace ?? NAMESPACE}.svc:${grpc.port}`);
}

function checkAgent(objects: K8sObject[]): void {
  const ds = findObject(objects, 'DaemonSet', 'vigil-agent');
  const spec = podSpec(ds);
  const agent = container(ds, 'agent');
  checkScanningContainer(spec, agent, { outbox: 'hostPath' });
  checkAgentIdentity(objects, spec, agent);
  expect(findObject(objects, 'PriorityClass', spec.priorityClassName).value).toBeGreaterThan(0);

  // Probes on /healthz of the metrics port, which the agent is told to listen on.
  const metricsPort = agent.ports.find((p: { name: string }) => p.name === 'metrics').containerPort;
  expect(argValue(agent.args, 'metrics-listen')).toBe(`0.0.0.0:${metricsPort}`);
  for (const probe of [agent.livenessProbe, agent.readinessProbe]) {
    expect(probe.httpGet.path).toBe('/healthz');
    expect([metricsPort, 'metrics']).toContain(probe.httpGet.port);
  }
  // Node name from the downward API, host root where the host paths are mounted, proc root = own /proc (hostPID).
  const nodeEnv = agent.env.find((e: { name: string }) => e.name === 'NODE_NAME');
  expect(nodeEnv.valueFrom.fieldRef.fieldPath).toBe('spec.nodeName');
  expect(argValue(agent.args, 'node-name')).toBe('$(NODE_NAME)');
  expect(argValue(agent.args, 'host-root')).toBe('/host');
  expect(argValue(agent.args, 'proc-root')).toBe('/proc');
  expect(agent.args).not.toContain('--insecure');
  expect(argValue(agent.args, 'outbox-dir')).toBe(OUTBOX_HOST_PATH);
  const outbox = spec.volumes.find((v: any) => v.hostPath?.path === OUTBOX_HOST_PATH);
  expect(agent.volumeMounts.find((m: { name: string }) => m.name === outbox.name).mountPath).toBe(argValue(agent.args, 'outbox-dir'));
}

function checkCollector(objects: K8sObject[]): void {
  const deploy = findObject(objects, 'Deployment', 'vigil-collector');
  const spec = podSpec(deploy);
  const c = container(deploy, 'collector');
  const init = container(deploy, 'certs', 'initContainers');

  // Its token is mounted (JWKS, its own Secrets) and what it may do is the Role below.
  expect(spec.automountServiceAccountToken).toBe(true);
  expect(spec.hostPID ?? false).toBe(false);
  expect(spec.hostNetwork ?? false).toBe(false);
  expect(spec.securityContext.runAsNonRoot).toBe(true);
  expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
  for (const x of [c, init]) {
    const sc = x.securityContext;
    expect(sc.privileged).toBe(false);
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(sc.readOnlyRootFilesystem).toBe(true);
    expect(sc.capabilities).toEqual({ drop: ['ALL'] });
    expect((sc.seccompProfile ?? spec.securityContext.seccompProfile).type).toBe('RuntimeDefault');
    for (const kind of ['requests', 'limits']) {
      expect(x.resources[kind].cpu).toBeTruthy();
      expect(x.resources[kind].memory).toBeTruthy();
    }
  }
  expect(spec.volumes.some((v: { hostPath?: unknown }) => v.hostPath)).toBe(false);
  expect(c.livenessProbe.httpGet.path).toBe('/healthz');
  expect(c.readinessProbe.httpGet.path).toBe('/readyz');
  expect(c.args).not.toContain('--no-auth');
  expect(c.args).not.toContain('--insecure');

  // The serving certificate and the tokens come from the Secrets the init container makes.
  const secretOf = (path: string): string => volumeOf(spec, c, path)[0].secret.secretName;
  expect(secretOf(argValue(c.args, 'tls-cert')!)).toBe(DEFAULTS.tlsSecret);
  expect(secretOf(argValue(c.args, 'tls-key')!)).toBe(DEFAULTS.tlsSecret);
  expect(volumeOf(spec, c, argValue(c.args, 'tls-key')!)[1]).toBe('tls.key');
  expect(secretOf(argValue(c.args, 'tokens')!)).toBe(argValue(init.args, 'api-tokens-secret'));
  expect(volumeOf(spec, c, argValue(c.args, 'tokens')!)[1]).toBe('tokens.txt');
  // Every Secret volume the init container makes is optional (the first pod starts before it exists) and the
  // init container waits for the kubelet to fill it; Secrets it does not make are never optional.
  const made = new Set([DEFAULTS.tlsSecret, argValue(init.args, 'api-tokens-secret'), ...argValues(init.args, 'nats-user').map(natsSecretName)]);
  const waited = new Map(argValues(init.args, 'wait-mounted').map((w) => w.split('=') as [string, string]));
  const external = argValue(init.args, 'ca-file') !== undefined;
  for (const v of spec.volumes.filter((x: { secret?: unknown }) => x.secret)) {
    const name = v.secret.secretName;
    const mountedAt = init.volumeMounts?.find((m: { name: string }) => m.name === v.name)?.mountPath;
    if (v.secret.optional) {
      expect(made.has(name), `${name} is made by certs ensure`).toBe(true);
      expect(waited.get(name), `init waits for ${name}`).toBe(mountedAt);
    } else {
      expect(external && name === DEFAULTS.tlsSecret, `${name} is optional only when the init container makes it`).toBe(true);
    }
  }
  // Token checks: the cluster's issuer as certs ensure publishes it, the API server's keys with the pod's CA.
  const issuer = c.env.find((e: { name: string }) => e.name === 'VIGIL_SA_ISSUER');
  expect(argValue(c.args, 'sa-issuer')).toBe('$(VIGIL_SA_ISSUER)');
  expect(issuer.valueFrom.configMapKeyRef).toEqual({ name: DEFAULTS.trustConfigMap, key: TRUST_KEYS.issuer });
  expect(argValue(c.args, 'sa-jwks-url')).toBe('https://kubernetes.default.svc/openid/v1/jwks');
  expect(argValue(c.args, 'sa-jwks-ca')).toBe('/var/run/secrets/kubernetes.io/serviceaccount/ca.crt');

  // The daily CronJob runs the same certs ensure as the init container (else they would undo each other).
  const cron = findObject(objects, 'CronJob', 'vigil-collector-certs');
  const cronArgs: string[] = cron.spec.jobTemplate.spec.template.spec.containers[0].args;
  expect(cron.spec.jobTemplate.spec.template.spec.serviceAccountName).toBe(spec.serviceAccountName);
  expect([...cronArgs].sort()).toEqual(init.args.filter((a: string) => !a.startsWith('--wait-mounted=')).sort());

  // The Role allows exactly what certs ensure does: get and update on the objects it names, create (which RBAC
  // cannot limit by name) on Secrets and ConfigMaps; the binding gives it to the collector's ServiceAccount.
  const role = findObject(objects, 'Role', 'vigil-collector');
  const named = (resource: string): string[] => role.spec === undefined
    ? (role as any).rules.filter((r: any) => r.resources.includes(resource) && r.resourceNames).flatMap((r: any) => r.resourceNames).sort() : [];
  expect(named('secrets')).toEqual([...(external ? [] : [DEFAULTS.caSecret, DEFAULTS.tlsSecret]), argValue(init.args, 'api-tokens-secret')!,
    ...argValues(init.args, 'nats-user').map(natsSecretName)].sort());
  expect(named('configmaps')).toEqual([DEFAULTS.trustConfigMap]);
  for (const r of (role as any).rules) {
    expect(r.apiGroups).toEqual(['']);
    expect(r.verbs).toEqual(r.resourceNames ? ['get', 'update'] : ['create']);
  }
  const binding = findObject(objects, 'RoleBinding', 'vigil-collector');
  expect((binding as any).roleRef.name).toBe('vigil-collector');
  expect((binding as any).subjects).toEqual([{ kind: 'ServiceAccount', name: spec.serviceAccountName, namespace: NAMESPACE }]);
  const keys = findObject(objects, 'ClusterRole', 'vigil-collector-token-keys');
  expect((keys as any).rules).toEqual([{ nonResourceURLs: ['/.well-known/openid-configuration', '/openid/v1/jwks'], verbs: ['get'] }]);

  // Service, NetworkPolicy and PDB select the collector's pods and name its ports.
  const labels = deploy.spec.template.metadata.labels;
  const selects = (selector: Record<string, string>): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);
  const svc = findObject(objects, 'Service', 'vigil-collector');
  expect(selects(svc.spec.selector)).toBe(true);
  const containerPorts = c.ports.map((p: { name: string }) => p.name);
  for (const p of svc.spec.ports) expect(containerPorts).toContain(p.targetPort);
  expect(argValue(c.args, 'grpc-listen')).toBe(`0.0.0.0:${c.ports.find((p: { name: string }) => p.name === 'grpc').containerPort}`);
  expect(selects(findObject(objects, 'NetworkPolicy', 'vigil-collector').spec.podSelector.matchLabels)).toBe(true);
  expect(selects(findObject(objects, 'PodDisruptionBudget', 'vigil-collector').spec.selector.matchLabels)).toBe(true);

  // Agents reach only the gRPC port; the REST port only from labelled namespaces.
  const ingress = findObject(objects, 'NetworkPolicy', 'vigil-collector').spec.ingress;
  const agentLabels = podSpec(findObject(objects, 'DaemonSet', 'vigil-agent')) && findObject(objects, 'DaemonSet', 'vigil-agent').spec.template.metadata.labels;
  const fromAgents = ingress.find((r: any) => r.from.some((f: any) => f.podSelector?.matchLabels?.['app.kubernetes.io/component'] === 'agent'));
  expect(agentLabels['app.kubernetes.io/component']).toBe('agent');
  expect(fromAgents.ports.map((p: { port: number }) => p.port)).toEqual([7443]);
  const fromNamespaces = ingress.find((r: any) => r.from.some((f: any) => f.namespaceSelector));
  expect(fromNamespaces.from[0].namespaceSelector.matchLabels).toEqual({ 'vigil.dev/api-access': 'true' });
  expect(fromNamespaces.ports.map((p: { port: number }) => p.port)).toEqual([8080]);
}

describe('Kustomize tree (structural, no kubectl needed)', () => {
  it.each(KUSTOMIZATION_DIRS.map((d) => [relative(REPO_ROOT, d), d]))('%s: resources, patches and generators resolve', (_label, dir) => {
    const k = readKustomization(dir);
    const objects = k.kind === 'Component' ? [] : collectResources(dir);
    // Patch targets: the objects the patch names must come in through this kustomization's resources.
    const available = k.kind === 'Component' ? collectResources(join(DEPLOY, 'base')).map((r) => r.object) : objects.map((r) => r.object);
    for (const patch of k.patches) {
      let targets: { kind?: string; name?: string }[] = [];
      if (patch.path) {
        const file = resolve(dir, patch.path);
        const parsed = parseYamlFile(file).objects;
        targets = patch.target ? [patch.target] : parsed.map((o) => ({ kind: o.kind, name: o.metadata.name }));
      } else {
        expect(patch.inline ?? (patch as { patch?: string }).patch, 'inline patch text').toBeTruthy();
        expect(patch.target, 'an inline patch names its target').toBeDefined();
        targets = [patch.target!];
      }
      for (const t of targets) {
        expect(available.some((o) => o.kind === t.kind && o.metadata.name === t.name), `patch target ${t.kind}/${t.name} exists`).toBe(true);
      }
    }
    for (const gen of k.configMapGenerator) {
      for (const f of [...(gen.envs ?? []), ...(gen.files ?? [])]) expect(isDirectory(resolve(dir, f)) || readFileSync(resolve(dir, f)).length > 0).toBe(true);
    }
    for (const comp of k.components) expect(readKustomization(resolve(dir, comp)).kind).toBe('Component');
    // No object twice.
    const keys = objects.map((r) => objectKey(r.object, k.namespace));
    expect(keys.length - new Set(keys).size, `duplicates in ${keys.join(', ')}`).toBe(0);
  });

  it('overlays put everything in one namespace, and that namespace is created by the base', () => {
    const ns = findObject(baseObjects, 'Namespace', NAMESPACE);
    expect(ns.metadata.labels?.['pod-security.kubernetes.io/audit']).toBe('restricted');
    expect(readKustomization(join(DEPLOY, 'base')).namespace).toBe(NAMESPACE);
    for (const o of OVERLAYS) expect(readKustomization(join(DEPLOY, 'overlays', o)).namespace).toBe(NAMESPACE);
  });

  it('every kustomization that brings a Vigil image takes it from the one images component', () => {
    const images = readKustomization(join(DEPLOY, 'images'));
    expect(images.kind).toBe('Component');
    expect((images.raw.images as { name: string }[]).map((i) => i.name).sort()).toEqual(['vigil-agent', 'vigil-collector']);
    for (const dir of [join(DEPLOY, 'base'), join(DEPLOY, 'job', 'node'), join(DEPLOY, 'job', 'with-reports'), join(DEPLOY, 'job', 'every-node')]) {
      expect(readKustomization(dir).components.map((c) => resolve(dir, c)), relative(REPO_ROOT, dir)).toContain(join(DEPLOY, 'images'));
    }
  });

  it('no Secret, private key or token is committed under deploy/', () => {
    const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
    for (const f of walk(DEPLOY)) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
      expect(text, f).not.toMatch(/\bS[A-Z][A-Z2-7]{54,}\b/); // an nkey seed
      if (/\.ya?ml$/.test(f)) expect(parseYamlFile(f).objects.some((o) => o.kind === 'Secret'), f).toBe(false);
    }
  });

  it('the single overlay keeps SQLite on its claim with one writer', () => {
    const dir = join(DEPLOY, 'overlays', 'single');
    const pvc = findObject(collectResources(dir).map((r) => r.object), 'PersistentVolumeClaim', 'vigil-collector-data');
    const patch = findObject(parseYamlFile(join(dir, 'collector-sqlite.yaml')).objects, 'Deployment', 'vigil-collector');
    expect(patch.spec.replicas).toBe(1);
    expect(patch.spec.strategy.type).toBe('Recreate');
    expect(podSpec(patch).volumes[0].persistentVolumeClaim.claimName).toBe(pvc.metadata.name);
  });
});

describe('agent DaemonSet (base file)', () => {
  it('keeps the least-privilege properties', () => checkAgent(baseObjects));

  it('justifies every added capability in a comment that names it', () => {
    const doc = parseDocument(readFileSync(AGENT_FILE, 'utf8'));
    const add = doc.getIn(['spec', 'template', 'spec', 'containers', 0, 'securityContext', 'capabilities', 'add'], true);
    expect(isSeq(add)).toBe(true);
    const seq = add as YAMLSeq;
    expect(seq.items.length).toBeGreaterThan(0);
    seq.items.forEach((item, i) => {
      const cap = String((item as { value: unknown }).value);
      const comment = itemComment(seq, i);
      expect(comment.startsWith(`${cap}:`), `comment for ${cap}: "${comment.slice(0, 60)}"`).toBe(true);
      expect(comment.length).toBeGreaterThan(80);
    });
  });

  it('says why each host path and the identity volume are mounted', () => {
    const doc = parseDocument(readFileSync(AGENT_FILE, 'utf8'));
    const volumes = doc.getIn(['spec', 'template', 'spec', 'volumes'], true) as YAMLSeq;
    volumes.items.forEach((item, i) => {
      if (!isMap(item) || !(item.has('hostPath') || item.has('projected'))) return;
      expect(itemComment(volumes, i).length, `comment for volume ${String(item.get('name'))}`).toBeGreaterThan(15);
    });
  });
});

describe('collector Deployment (base file)', () => {
  it('keeps the restricted-level properties and wiring', () => checkCollector(baseObjects));
});

describeWithDaemons('rendered overlays, components and Jobs (kubectl kustomize)', { kubectl: KUBECTL }, () => {
  const rendered = Object.fromEntries(OVERLAYS.map((o) => [o, kubectlKustomize(join(DEPLOY, 'overlays', o))!])) as Record<(typeof OVERLAYS)[number], K8sObject[]>;

  it.each(OVERLAYS)('%s renders and keeps every property', (overlay) => {
    const objects = rendered[overlay];
    checkAgent(objects);
    checkCollector(objects);
    for (const o of objects) {
      const clusterScoped = ['Namespace', 'PriorityClass', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind);
      expect(o.metadata.namespace, objectKey(o)).toBe(clusterScoped ? undefined : NAMESPACE);
    }
  });

  it('single: one collector on the PVC, started with --data-dir on its mount; agents over gRPC', () => {
    const objects = rendered.single;
    const deploy = findObject(objects, 'Deployment', 'vigil-collector');
    const c = container(deploy, 'collector');
    expect(deploy.spec.replicas).toBe(1);
    expect(deploy.spec.strategy.type).toBe('Recreate');
    const data = podSpec(deploy).volumes.find((v: { name: string }) => v.name === 'data');
    expect(findObject(objects, 'PersistentVolumeClaim', data.persistentVolumeClaim.claimName)).toBeDefined();
    expect(argValue(c.args, 'data-dir')).toBe(c.volumeMounts.find((m: { name: string }) => m.name === 'data').mountPath);
    expect(argValue(c.args, 'database-url')).toBeUndefined();
    expect(argValue(container(findObject(objects, 'DaemonSet', 'vigil-agent'), 'agent').args, 'transport')).toBe('grpc');
  });

  it('ha: three spread collectors on PostgreSQL named in a Secret, the password apart', () => {
    const objects = rendered.ha;
    const deploy = findObject(objects, 'Deployment', 'vigil-collector');
    const spec = podSpec(deploy);
    const c = container(deploy, 'collector');
    expect(deploy.spec.replicas).toBe(3);
    expect(deploy.spec.strategy.rollingUpdate.maxUnavailable).toBe(1);
    expect(findObject(objects, 'PodDisruptionBudget', 'vigil-collector').spec.maxUnavailable).toBe(1);
    const anti = spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
    expect(anti.topologyKey).toBe('kubernetes.io/hostname');
    expect(anti.labelSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'vigil-collector' });
    expect(argValue(c.args, 'data-dir')).toBeUndefined();
    expect(argValue(c.args, 'database-url')).toBe('$(VIGIL_DATABASE_URL)');
    const env = Object.fromEntries(c.env.map((e: { name: string }) => [e.name, e]));
    expect(env.VIGIL_DATABASE_URL.valueFrom.secretKeyRef).toEqual({ name: 'vigil-database', key: 'url' });
    expect(env.PGPASSWORD.valueFrom.secretKeyRef).toEqual({ name: 'vigil-database', key: 'password' });
    expect(objects.some((o) => o.kind === 'Secret')).toBe(false); // the database Secret is the user's
  });

  it('ha: agents and collectors reach NATS with TLS and their own nkeys, which certs ensure makes and NATS knows', () => {
    const objects = rendered.ha;
    const deploy = findObject(objects, 'Deployment', 'vigil-collector');
    const init = container(deploy, 'certs', 'initContainers');
    expect(argValues(init.args, 'nats-user').sort()).toEqual(['agent', 'collector']);
    expect(argValues(init.args, 'service')).toContain('vigil-nats');
    const natsSvc = findObject(objects, 'Service', 'vigil-nats');
    const clientPort = natsSvc.spec.ports.find((p: { name: string }) => p.name === 'client').port;
    const sts = findObject(objects, 'StatefulSet', 'vigil-nats');
    const nats = container(sts, 'nats');
    const conf = readFileSync(join(DEPLOY, 'overlays', 'ha', 'nats', 'nats.conf'), 'utf8');
    for (const [workload, name, user] of [[findObject(objects, 'DaemonSet', 'vigil-agent'), 'agent', 'agent'], [deploy, 'collector', 'collector']] as const) {
      const c = container(workload, name);
      const spec = podSpec(workload);
      expect(argValue(c.args, 'nats-url')).toBe(`tls://vigil-nats.${NAMESPACE}.svc:${clientPort}`);
      const [seedVolume, seedKey] = volumeOf(spec, c, argValue(c.args, 'nats-nkey-seed-file')!);
      expect([seedVolume.secret.secretName, seedKey]).toEqual([natsSecretName(user), 'seed']);
      const [caVolume] = volumeOf(spec, c, argValue(c.args, 'nats-tls-ca')!);
      expect(caVolume.secret?.secretName ?? caVolume.projected.sources.find((s: any) => s.configMap).configMap.name)
        .toBe(name === 'agent' ? DEFAULTS.trustConfigMap : DEFAULTS.tlsSecret);
      // nats-server reads the user's public key from the environment, which comes from the trust ConfigMap.
      const variable = `VIGIL_NATS_${user.toUpperCase()}_NKEY`;
      expect(conf).toContain(`nkey: $${variable}`);
      expect(nats.env.find((e: { name: string }) => e.name === variable).valueFrom.configMapKeyRef)
        .toEqual({ name: DEFAULTS.trustConfigMap, key: TRUST_KEYS.natsNkey(user) });
    }
    expect(argValue(container(findObject(objects, 'DaemonSet', 'vigil-agent'), 'agent').args, 'transport')).toBe('nats');
    // Three servers, spread, drained one at a time; the config file is the one the test runs with nats-server.
    expect(sts.spec.replicas).toBe(3);
    expect(findObject(objects, 'PodDisruptionBudget', 'vigil-nats').spec.maxUnavailable).toBe(1);
    const cm = findObject(objects, 'ConfigMap', 'vigil-nats-config') as unknown as { data: Record<string, string> };
    expect(cm.data['nats.conf']).toBe(conf);
    for (let i = 0; i < 3; i++) expect(conf).toContain(`nats://${sts.metadata.name}-${i}.${sts.spec.serviceName}:6222`);
    // nats-server serves the collector's certificate (tls.crt and tls.key only) where nats.conf looks for it.
    const [tlsVolume] = volumeOf(podSpec(sts), nats, '/etc/nats/tls/tls.crt');
    expect(tlsVolume.secret.secretName).toBe(DEFAULTS.tlsSecret);
    expect(tlsVolume.secret.items.map((i: { key: string }) => i.key).sort()).toEqual(['tls.crt', 'tls.key']);
    expect(conf).toMatch(/cert_file: \/etc\/nats\/tls\/tls\.crt/);
    // Route port only from the NATS pods; agents may leave for NATS.
    const natsPolicy = findObject(objects, 'NetworkPolicy', 'vigil-nats').spec.ingress;
    expect(natsPolicy.find((r: any) => r.ports.some((p: any) => p.port === 6222)).from).toEqual([{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'vigil-nats' } } }]);
    const agentEgress = findObject(objects, 'NetworkPolicy', 'vigil-agent').spec.egress;
    expect(agentEgress.some((r: any) => r.to?.[0]?.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'vigil-nats' && r.ports[0].port === clientPort)).toBe(true);
  });

  it('the k3s/rke2 component adds read-only rancher mounts on top of an overlay', () => {
    const objects = kubectlKustomizeWith([join(DEPLOY, 'overlays', 'single')], [join(DEPLOY, 'components', 'k3s-rke2')]);
    checkAgent(objects);
    const ds = findObject(objects, 'DaemonSet', 'vigil-agent');
    const paths = podSpec(ds).volumes.filter((v: any) => v.hostPath).map((v: any) => v.hostPath.path);
    expect(paths).toEqual(expect.arrayContaining(['/etc/rancher', '/var/lib/rancher']));
    expect(argValue(container(ds, 'agent').args, 'containerd-state-dir')).toBe('/run/k3s/containerd');
  });

  it.each(OVERLAYS)('the cert-manager component on %s: cert-manager issues, certs ensure only publishes the CA', (overlay) => {
    const objects = kubectlKustomizeWith([join(DEPLOY, 'overlays', overlay)], [join(DEPLOY, 'components', 'cert-manager')]);
    checkAgent(objects);
    checkCollector(objects);
    const deploy = findObject(objects, 'Deployment', 'vigil-collector');
    const init = container(deploy, 'certs', 'initContainers');
    const [caVolume, caKey] = volumeOf(podSpec(deploy), init, argValue(init.args, 'ca-file')!);
    expect([caVolume.secret.secretName, caKey]).toEqual([DEFAULTS.tlsSecret, 'ca.crt']);
    const cert = findObject(objects, 'Certificate', 'vigil-collector');
    expect(cert.spec.secretName).toBe(DEFAULTS.tlsSecret);
    const agentHost = argValue(container(findObject(objects, 'DaemonSet', 'vigil-agent'), 'agent').args, 'collector')!.split(':')[0];
    expect(cert.spec.dnsNames).toEqual(expect.arrayContaining([agentHost, `vigil-nats.${NAMESPACE}.svc`]));
    expect(cert.spec.issuerRef).toEqual({ name: 'vigil-ca', kind: 'Issuer' });
    expect(findObject(objects, 'Issuer', 'vigil-ca').spec.ca.secretName).toBe(findObject(objects, 'Certificate', 'vigil-ca').spec.secretName);
    const cronSpec = findObject(objects, 'CronJob', 'vigil-collector-certs').spec.jobTemplate.spec.template.spec;
    const [cronCa] = volumeOf(cronSpec, cronSpec.containers[0], argValue(cronSpec.containers[0].args, 'ca-file')!);
    expect(cronCa.secret.items).toEqual([{ key: 'ca.crt', path: 'ca.crt' }]);
  });

  it('images: one `kustomize edit set image` in deploy/images moves every Vigil image of every kustomization', () => {
    // What `kustomize edit set image vigil-agent=R/vigil-agent:T vigil-collector=R/vigil-collector:T` writes
    // (kustomize itself is not installed here), layered over the shipped component as a user's edit would be.
    const edited = 'images:\n  - name: vigil-agent\n    newName: registry.example/team/vigil-agent\n    newTag: "9.9.9"\n'
      + '  - name: vigil-collector\n    newName: registry.example/team/vigil-collector\n    newTag: "9.9.9"\n';
    const shipped = ['single', 'ha'].map((o) => join(DEPLOY, 'overlays', o)).concat(['job', join('job', 'with-reports'), join('job', 'every-node')].map((d) => join(DEPLOY, d)));
    for (const dir of shipped) {
      const images = (objects: K8sObject[]): string[] => objects.flatMap((o) => {
        const spec = o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.kind === 'Pod' ? o.spec : o.spec?.template?.spec;
        return spec ? [...(spec.initContainers ?? []), ...spec.containers].map((c: { image: string }) => c.image) : [];
      });
      const before = images(kubectlKustomize(dir)!).filter((i) => i.startsWith('vigil-'));
      expect(before.length, relative(REPO_ROOT, dir)).toBeGreaterThan(0);
      for (const i of before) expect(i).toMatch(/^vigil-(agent|collector):0\.1\.0$/);
      const after = images(kubectlKustomizeWith([dir], [], edited)).filter((i) => /vigil-(agent|collector)/.test(i));
      expect(after.length).toBe(before.length);
      for (const i of after) expect(i).toMatch(/^registry\.example\/team\/vigil-(agent|collector):9\.9\.9$/);
    }
  });

  it('every non-root container can read the Secrets and ConfigMaps it mounts (group read through fsGroup)', () => {
    const all = [
      ...rendered.single, ...rendered.ha,
      ...kubectlKustomizeWith([join(DEPLOY, 'overlays', 'ha')], [join(DEPLOY, 'components', 'cert-manager')]),
      ...kubectlKustomize(join(DEPLOY, 'job', 'with-reports'))!, ...kubectlKustomize(join(DEPLOY, 'job', 'every-node'))!,
    ];
    let checked = 0;
    for (const o of all) {
      const spec = o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.kind === 'Pod' ? o.spec : o.spec?.template?.spec;
      if (!spec) continue;
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        const uid = c.securityContext?.runAsUser ?? spec.securityContext?.runAsUser;
        if (uid === 0) continue;
        for (const m of c.volumeMounts ?? []) {
          const v = spec.volumes.find((x: { name: string }) => x.name === m.name);
          if (!v) {
            expect(o.spec.volumeClaimTemplates?.map((t: K8sObject) => t.metadata.name), `${o.metadata.name}: volume ${m.name}`).toContain(m.name);
            continue;
          }
          const source = v.secret ?? v.configMap ?? v.projected;
          if (!source) continue;
          const mode = source.defaultMode ?? 0o644;
          const readable = (mode & 0o004) !== 0 || ((mode & 0o040) !== 0 && spec.securityContext?.fsGroup !== undefined);
          expect(readable, `${o.kind}/${o.metadata.name} ${c.name} reads ${m.name} (mode ${mode.toString(8)}, uid ${uid})`).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(5);
  });

  it('the one-shot Job scans with the agent\'s privileges and mounts, logs the table, and can write reports', () => {
    const agent = findObject(rendered.single, 'DaemonSet', 'vigil-agent');
    const job = findObject(kubectlKustomize(join(DEPLOY, 'job'))!, 'Job', 'vigil-scan');
    const spec = podSpec(job);
    const scan = container(job, 'scan');
    checkScanningContainer(spec, scan, { outbox: 'none' });
    expect(hostMounts(spec, scan)).toEqual(hostMounts(podSpec(agent), container(agent, 'agent')));
    expect(scan.securityContext.capabilities).toEqual(container(agent, 'agent').securityContext.capabilities);
    expect(job.metadata.namespace).toBe('vigil-scan');
    expect(spec.restartPolicy).toBe('Never');
    expect(job.spec.backoffLimit).toBe(0);
    const script = scan.args.join('\n');
    expect(script).toMatch(/scan --host-root=\/host --proc-root=\/proc .*--format table/);
    expect(script).toMatch(/for format in \$VIGIL_REPORT_FORMATS; do[\s\S]*> "\/reports\/vigil-\$NODE_NAME\.\$format"/);
    expect(spec.volumes.find((v: { name: string }) => v.name === 'reports').emptyDir).toBeDefined();

    const withReports = kubectlKustomize(join(DEPLOY, 'job', 'with-reports'))!;
    const jobR = findObject(withReports, 'Job', 'vigil-scan');
    const scanR = container(jobR, 'scan');
    expect(scanR.env.find((e: { name: string }) => e.name === 'VIGIL_REPORT_FORMATS').value).toBe('json sarif');
    const claim = podSpec(jobR).volumes.find((v: { name: string }) => v.name === 'reports').persistentVolumeClaim.claimName;
    expect(findObject(withReports, 'PersistentVolumeClaim', claim)).toBeDefined();
    const reader = findObject(withReports, 'Pod', 'vigil-scan-reports');
    expect(reader.spec.volumes[0].persistentVolumeClaim).toEqual({ claimName: claim, readOnly: true });
  });

  it('the once-per-node scan delivers with the agent\'s identity and privileges, then idles unprivileged', () => {
    const objects = rendered.single;
    const agent = findObject(objects, 'DaemonSet', 'vigil-agent');
    const everyNode = kubectlKustomize(join(DEPLOY, 'job', 'every-node'))!;
    const ds = findObject(everyNode, 'DaemonSet', 'vigil-scan-once');
    const spec = podSpec(ds);
    const scan = container(ds, 'scan', 'initContainers');
    checkScanningContainer(spec, scan, { outbox: 'emptyDir' });
    checkAgentIdentity(objects, spec, scan);
    expect(scan.args.slice(0, 2)).toEqual(['run', '--once']);
    expect(hostMounts(spec, scan)).toEqual(hostMounts(podSpec(agent), container(agent, 'agent')));
    expect(spec.volumes.find((v: { name: string }) => v.name === 'identity')).toEqual(podSpec(agent).volumes.find((v: { name: string }) => v.name === 'identity'));
    expect(ds.metadata.namespace).toBe(NAMESPACE);
    expect(ds.spec.template.metadata.labels['app.kubernetes.io/component']).toBe('agent');
    expect(ds.spec.selector.matchLabels['app.kubernetes.io/name']).not.toBe(agent.spec.selector.matchLabels['app.kubernetes.io/name']);
    const done = container(ds, 'done');
    expect(done.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(done.volumeMounts ?? []).toEqual([]);
  });
});
