// The Kubernetes manifests under deploy/: the Kustomize tree is whole (every resource and patch target
// exists, no duplicate objects), and the agent and collector pod specs keep the least-privilege
// properties the security model in deploy/README.md promises. Structural checks always run; the
// rendered overlays are checked too when `kubectl` (with its built-in kustomize) is on PATH.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMap, isSeq, parseDocument, type YAMLSeq } from 'yaml';
import {
  DEPLOY, KUBECTL, REPO_ROOT, collectResources, findObject, isDirectory, kubectlKustomize, objectKey,
  parseYamlFile, podSpec, readKustomization, type K8sObject,
} from './kustomize.js';

const OVERLAYS = ['single', 'ha'] as const;
const KUSTOMIZATION_DIRS = [
  join(DEPLOY, 'base'),
  ...OVERLAYS.map((o) => join(DEPLOY, 'overlays', o)),
  join(DEPLOY, 'components', 'k3s-rke2'),
];
const AGENT_FILE = join(DEPLOY, 'base', 'agent-daemonset.yaml');
/** Capabilities the agent may add, each needing a comment that starts with its name. */
const AGENT_CAPS_ALLOWED = ['DAC_READ_SEARCH', 'SYS_PTRACE'];
const OUTBOX_HOST_PATH = '/var/lib/vigil/outbox';
/** Host paths that hand out root on the node, read-only or not: never mounted. */
const FORBIDDEN_HOST_PATHS = [
  '/', '/run', '/var/run', '/var/run/docker.sock', '/run/containerd', '/run/containerd/containerd.sock',
  '/var/run/crio', '/var/run/crio/crio.sock', '/run/k3s/containerd/containerd.sock', '/dev', '/root', '/home',
  '/var/lib/docker', '/var/lib/containerd',
];

const baseObjects = collectResources(join(DEPLOY, 'base')).map((r) => r.object);
const rendered = Object.fromEntries(OVERLAYS.map((o) => [o, kubectlKustomize(join(DEPLOY, 'overlays', o))])) as
  Record<(typeof OVERLAYS)[number], K8sObject[] | undefined>;
if (!KUBECTL) console.warn('deploy manifests: kubectl not on PATH; overlays validated structurally only, not rendered');

function container(workload: K8sObject, name: string): any {
  const c = podSpec(workload).containers.find((x: { name: string }) => x.name === name);
  if (!c) throw new Error(`${workload.metadata.name} has no container ${name}`);
  return c;
}

/** The comment of a sequence item: the first item's comment is parsed onto the sequence itself. */
function itemComment(seq: YAMLSeq, index: number): string {
  const item = seq.items[index] as { commentBefore?: string | null };
  return ((index === 0 ? item.commentBefore ?? seq.commentBefore : item.commentBefore) ?? '').trim();
}

function argValue(args: string[], flag: string): string | undefined {
  const prefix = `--${flag}=`;
  const i = args.findIndex((a) => a === `--${flag}` || a.startsWith(prefix));
  if (i < 0) return undefined;
  return args[i].startsWith(prefix) ? args[i].slice(prefix.length) : args[i + 1];
}

function checkAgent(objects: K8sObject[]): void {
  const ds = findObject(objects, 'DaemonSet', 'vigil-agent');
  const spec = podSpec(ds);
  const agent = container(ds, 'agent');
  const sc = agent.securityContext;

  expect(spec.hostPID).toBe(true);
  expect(spec.hostNetwork ?? false).toBe(false);
  expect(spec.hostIPC ?? false).toBe(false);
  expect(spec.automountServiceAccountToken).toBe(false);
  expect(spec.tolerations).toContainEqual({ operator: 'Exists' });
  expect(findObject(objects, 'PriorityClass', spec.priorityClassName).value).toBeGreaterThan(0);

  expect(sc.privileged).toBe(false);
  expect(sc.allowPrivilegeEscalation).toBe(false);
  expect(sc.readOnlyRootFilesystem).toBe(true);
  expect(sc.capabilities.drop).toEqual(['ALL']);
  for (const cap of sc.capabilities.add ?? []) expect(AGENT_CAPS_ALLOWED).toContain(cap);
  expect((sc.seccompProfile ?? spec.securityContext?.seccompProfile)?.type).toBe('RuntimeDefault');

  // Probes on /healthz of the metrics port, which the agent is told to listen on.
  const metricsPort = agent.ports.find((p: { name: string }) => p.name === 'metrics').containerPort;
  expect(argValue(agent.args, 'metrics-listen')).toBe(`0.0.0.0:${metricsPort}`);
  for (const probe of [agent.livenessProbe, agent.readinessProbe]) {
    expect(probe.httpGet.path).toBe('/healthz');
    expect([metricsPort, 'metrics']).toContain(probe.httpGet.port);
  }
  for (const kind of ['requests', 'limits']) {
    expect(agent.resources[kind].cpu).toBeTruthy();
    expect(agent.resources[kind].memory).toBeTruthy();
  }

  // Node name from the downward API, host root where the host paths are mounted, proc root = own /proc (hostPID).
  const nodeEnv = agent.env.find((e: { name: string }) => e.name === 'NODE_NAME');
  expect(nodeEnv.valueFrom.fieldRef.fieldPath).toBe('spec.nodeName');
  expect(argValue(agent.args, 'node-name')).toBe('$(NODE_NAME)');
  expect(argValue(agent.args, 'host-root')).toBe('/host');
  expect(argValue(agent.args, 'proc-root')).toBe('/proc');
  expect(agent.args).not.toContain('--insecure');
  expect(argValue(agent.args, 'outbox-dir')).toBe('/var/lib/vigil/outbox');

  // Every hostPath: mounted read-only at /host/<same path>, except the outbox; none of the root-granting ones.
  const mounts = new Map<string, { mountPath: string; readOnly?: boolean }>(
    agent.volumeMounts.map((m: { name: string }) => [m.name, m]));
  const hostPaths = spec.volumes.filter((v: { hostPath?: unknown }) => v.hostPath);
  expect(hostPaths.length).toBeGreaterThan(5);
  for (const v of hostPaths) {
    const path: string = v.hostPath.path;
    const mount = mounts.get(v.name);
    expect(mount, `hostPath volume ${v.name} is mounted`).toBeDefined();
    expect(FORBIDDEN_HOST_PATHS).not.toContain(path.replace(/\/$/, '') || '/');
    if (path === OUTBOX_HOST_PATH) {
      expect(v.hostPath.type).toBe('DirectoryOrCreate');
      expect(mount!.readOnly ?? false).toBe(false);
      expect(mount!.mountPath).toBe(argValue(agent.args, 'outbox-dir'));
    } else {
      expect(mount!.readOnly, `${v.name} (${path}) is read-only`).toBe(true);
      if (v.name !== 'agent-pki') expect(mount!.mountPath).toBe(`/host${path}`);
    }
  }
  const pki = hostPaths.find((v: { name: string }) => v.name === 'agent-pki');
  for (const flag of ['tls-ca', 'tls-cert', 'tls-key']) {
    expect(argValue(agent.args, flag)!.startsWith(`${mounts.get('agent-pki')!.mountPath}/`)).toBe(true);
  }
  expect(pki.hostPath.path).toBe('/etc/vigil/pki');

  // The agent's --collector names the collector Service's gRPC port.
  const svc = findObject(objects, 'Service', 'vigil-collector');
  const grpc = svc.spec.ports.find((p: { name: string }) => p.name === 'grpc');
  expect(argValue(agent.args, 'collector')).toBe(`vigil-collector.${svc.metadata.namespace ?? 'vigil-system'}.svc:${grpc.port}`);
}

function checkCollector(objects: K8sObject[]): void {
  const deploy = findObject(objects, 'Deployment', 'vigil-collector');
  const spec = podSpec(deploy);
  const c = container(deploy, 'collector');
  const sc = c.securityContext;

  expect(spec.automountServiceAccountToken).toBe(false);
  expect(spec.hostPID ?? false).toBe(false);
  expect(spec.hostNetwork ?? false).toBe(false);
  expect(spec.securityContext.runAsNonRoot).toBe(true);
  expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
  expect(sc.privileged).toBe(false);
  expect(sc.allowPrivilegeEscalation).toBe(false);
  expect(sc.readOnlyRootFilesystem).toBe(true);
  expect(sc.capabilities).toEqual({ drop: ['ALL'] });
  expect((sc.seccompProfile ?? spec.securityContext.seccompProfile).type).toBe('RuntimeDefault');
  expect(spec.volumes.some((v: { hostPath?: unknown }) => v.hostPath)).toBe(false);
  expect(c.livenessProbe.httpGet.path).toBe('/healthz');
  expect(c.readinessProbe.httpGet.path).toBe('/readyz');
  for (const kind of ['requests', 'limits']) {
    expect(c.resources[kind].cpu).toBeTruthy();
    expect(c.resources[kind].memory).toBeTruthy();
  }
  expect(c.args).not.toContain('--no-auth');
  expect(c.args).not.toContain('--insecure');

  // Secrets named as gen-certs.sh names them, mounted where the flags point.
  const secretVolumes = Object.fromEntries(spec.volumes.filter((v: { secret?: unknown }) => v.secret)
    .map((v: { name: string; secret: { secretName: string } }) => [v.secret.secretName, v.name]));
  expect(Object.keys(secretVolumes).sort()).toEqual(['vigil-api-tokens', 'vigil-collector-tls']);
  const mountOf = (volume: string): string =>
    c.volumeMounts.find((m: { name: string }) => m.name === volume).mountPath;
  expect(argValue(c.args, 'tls-key')).toBe(`${mountOf(secretVolumes['vigil-collector-tls'])}/tls.key`);
  expect(argValue(c.args, 'tokens')).toBe(`${mountOf(secretVolumes['vigil-api-tokens'])}/tokens.txt`);

  // Service, NetworkPolicy and PDB select the collector's pods and name its ports.
  const labels = deploy.spec.template.metadata.labels;
  const selects = (selector: Record<string, string>): boolean =>
    Object.entries(selector).every(([k, v]) => labels[k] === v);
  const svc = findObject(objects, 'Service', 'vigil-collector');
  expect(selects(svc.spec.selector)).toBe(true);
  const containerPorts = c.ports.map((p: { name: string }) => p.name);
  for (const p of svc.spec.ports) expect(containerPorts).toContain(p.targetPort);
  expect(argValue(c.args, 'grpc-listen')).toBe(`0.0.0.0:${c.ports.find((p: { name: string }) => p.name === 'grpc').containerPort}`);
  expect(selects(findObject(objects, 'NetworkPolicy', 'vigil-collector').spec.podSelector.matchLabels)).toBe(true);
  expect(selects(findObject(objects, 'PodDisruptionBudget', 'vigil-collector').spec.selector.matchLabels)).toBe(true);

  // Agents reach only the gRPC port; the REST port only from labelled namespaces.
  const ingress = findObject(objects, 'NetworkPolicy', 'vigil-collector').spec.ingress;
  const fromAgents = ingress.find((r: any) => r.from.some((f: any) => f.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'vigil-agent'));
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
    const ns = findObject(baseObjects, 'Namespace', 'vigil-system');
    expect(ns.metadata.labels?.['pod-security.kubernetes.io/audit']).toBe('restricted');
    expect(readKustomization(join(DEPLOY, 'base')).namespace).toBe('vigil-system');
    for (const o of OVERLAYS) expect(readKustomization(join(DEPLOY, 'overlays', o)).namespace).toBe('vigil-system');
  });

  it('no Secret, private key or token is committed under deploy/', () => {
    const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
    for (const f of walk(DEPLOY)) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
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

  it('says why each host path is mounted', () => {
    const doc = parseDocument(readFileSync(AGENT_FILE, 'utf8'));
    const volumes = doc.getIn(['spec', 'template', 'spec', 'volumes'], true) as YAMLSeq;
    volumes.items.forEach((item, i) => {
      if (!isMap(item) || !item.has('hostPath')) return;
      expect(itemComment(volumes, i).length, `comment for volume ${String(item.get('name'))}`).toBeGreaterThan(15);
    });
  });
});

describe('collector Deployment (base file)', () => {
  it('keeps the restricted-level properties and wiring', () => checkCollector(baseObjects));
});

describe.skipIf(!KUBECTL)('rendered overlays (kubectl kustomize)', () => {
  it.each(OVERLAYS)('%s renders and keeps every property', (overlay) => {
    const objects = rendered[overlay]!;
    checkAgent(objects);
    checkCollector(objects);
    for (const o of objects) if (o.kind !== 'Namespace' && o.kind !== 'PriorityClass') expect(o.metadata.namespace, objectKey(o)).toBe('vigil-system');
  });

  it('single: one collector on the PVC, started with --data-dir on its mount', () => {
    const objects = rendered.single!;
    const deploy = findObject(objects, 'Deployment', 'vigil-collector');
    const c = container(deploy, 'collector');
    expect(deploy.spec.replicas).toBe(1);
    expect(deploy.spec.strategy.type).toBe('Recreate');
    const data = podSpec(deploy).volumes.find((v: { name: string }) => v.name === 'data');
    expect(findObject(objects, 'PersistentVolumeClaim', data.persistentVolumeClaim.claimName)).toBeDefined();
    expect(argValue(c.args, 'data-dir')).toBe(c.volumeMounts.find((m: { name: string }) => m.name === 'data').mountPath);
    expect(argValue(c.args, 'database-url')).toBeUndefined();
  });

  it('ha: replicas on PostgreSQL, the password only from a Secret', () => {
    const objects = rendered.ha!;
    const deploy = findObject(objects, 'Deployment', 'vigil-collector');
    const c = container(deploy, 'collector');
    expect(deploy.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(argValue(c.args, 'data-dir')).toBeUndefined();
    expect(argValue(c.args, 'database-url')).toBe('$(VIGIL_DATABASE_URL)');
    const env = Object.fromEntries(c.env.map((e: { name: string }) => [e.name, e]));
    expect(env.PGPASSWORD.valueFrom.secretKeyRef.name).toBe('vigil-database');
    const cm = findObject(objects, 'ConfigMap', env.VIGIL_DATABASE_URL.valueFrom.configMapKeyRef.name);
    expect(cm.metadata.name).toBe(env.VIGIL_DATABASE_URL.valueFrom.configMapKeyRef.name);
    const url = new URL((cm as { data?: Record<string, string> }).data!.VIGIL_DATABASE_URL);
    expect(url.protocol).toBe('postgres:');
    expect(url.password).toBe('');
  });

  it('the k3s/rke2 component adds read-only rancher mounts on top of an overlay', () => {
    const objects = kubectlKustomizeWithComponent('single', 'k3s-rke2');
    checkAgent(objects);
    const ds = findObject(objects, 'DaemonSet', 'vigil-agent');
    const paths = podSpec(ds).volumes.filter((v: any) => v.hostPath).map((v: any) => v.hostPath.path);
    expect(paths).toEqual(expect.arrayContaining(['/etc/rancher', '/var/lib/rancher']));
    expect(argValue(container(ds, 'agent').args, 'containerd-state-dir')).toBe('/run/k3s/containerd');
  });
});

/** Renders an overlay plus a component through a throwaway kustomization (kustomize wants relative paths). */
function kubectlKustomizeWithComponent(overlay: string, component: string): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-kustomize-'));
  try {
    const rel = (p: string): string => relative(dir, p);
    writeFileSync(join(dir, 'kustomization.yaml'),
      `resources:\n  - ${rel(join(DEPLOY, 'overlays', overlay))}\ncomponents:\n  - ${rel(join(DEPLOY, 'components', component))}\n`);
    return kubectlKustomize(dir)!;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
