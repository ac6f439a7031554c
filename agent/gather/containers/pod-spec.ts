// Adapter from a Kubernetes PodSpec (a plain object, e.g. parsed from a manifest YAML) to the same
// ContainerFact[] the runtime gatherers produce, so the container checks judge rendered manifests too
// (Vigil's own DaemonSet among them). Fields are read literally, with PSS's pod/container precedence.
import { isRecord, type JsonRecord } from '../../../common/json.js';
import type { ContainerFact, ContainersFact, DeclaredFact, EnvFact, HostNamespace, MountFact, SeccompDeclared } from '../../facts/containers.js';

type Obj = JsonRecord;
const obj = (v: unknown): Obj => (isRecord(v) ? v : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isRecord) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);

interface PodMeta {
  namespace?: string;
  pod?: string;
  /** Pod (template) annotations: the legacy AppArmor and seccomp annotations live there. */
  annotations?: Record<string, string>;
}

function seccompType(t: unknown): SeccompDeclared | undefined {
  switch (t) {
    case 'RuntimeDefault': return 'runtime-default';
    case 'Localhost': return 'localhost';
    case 'Unconfined': return 'unconfined';
    default: return undefined;
  }
}

function seccompAnnotation(v: string | undefined): SeccompDeclared | undefined {
  if (!v) return undefined;
  if (v === 'unconfined') return 'unconfined';
  if (v.startsWith('localhost/')) return 'localhost';
  return 'runtime-default';
}

function appArmor(p: Obj): string | undefined {
  switch (p.type) {
    case 'Unconfined': return 'unconfined';
    case 'RuntimeDefault': return 'runtime/default';
    case 'Localhost': return `localhost/${str(p.localhostProfile) ?? ''}`;
    default: return undefined;
  }
}

function volumeType(v: Obj): string {
  return Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
}

function envOf(c: Obj): EnvFact[] {
  return arr(c.env).map((e): EnvFact => {
    const name = str(e.name) ?? '';
    const from = obj(e.valueFrom);
    if (isRecord(from.secretKeyRef)) return { name, from: 'secret' };
    if (isRecord(from.configMapKeyRef)) return { name, from: 'configMap' };
    if (isRecord(from.fieldRef)) return { name, from: 'field' };
    if (isRecord(from.resourceFieldRef)) return { name, from: 'resource' };
    return { name };
  }).filter((e) => e.name !== '');
}

function containerDeclared(spec: Obj, c: Obj, annotations: Record<string, string>): DeclaredFact {
  const name = str(c.name) ?? '';
  const psc = obj(spec.securityContext);
  const sc = obj(c.securityContext);
  const caps = obj(sc.capabilities);
  const capList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').map((x) => x.trim().toUpperCase()) : []);
  const hostNamespaces: HostNamespace[] = [];
  if (spec.hostPID === true) hostNamespaces.push('pid');
  if (spec.hostIPC === true) hostNamespaces.push('ipc');
  if (spec.hostNetwork === true) hostNamespaces.push('network', 'uts');
  const volumes = arr(spec.volumes).map((v) => ({
    name: str(v.name) ?? '', type: volumeType(v), path: str(obj(v.hostPath).path),
  }));
  const byName = new Map(volumes.map((v) => [v.name, v]));
  const mounts: MountFact[] = arr(c.volumeMounts).map((m) => {
    const v = byName.get(str(m.name) ?? '');
    const hostPath = v?.type === 'hostPath' ? v.path : undefined;
    return {
      source: hostPath ?? `${v?.type ?? 'unknown'}:${str(m.name) ?? ''}`,
      destination: str(m.mountPath) ?? '',
      readOnly: m.readOnly === true,
      origin: hostPath ? 'hostPath' : 'volume',
    };
  });
  const seccomp = seccompType(obj(sc.seccompProfile).type)
    ?? seccompAnnotation(annotations[`container.seccomp.security.alpha.kubernetes.io/${name}`])
    ?? seccompType(obj(psc.seccompProfile).type)
    ?? seccompAnnotation(annotations['seccomp.security.alpha.kubernetes.io/pod'])
    ?? 'unset';
  const se = { ...obj(psc.seLinuxOptions), ...obj(sc.seLinuxOptions) };
  const sysctls: Record<string, string> = {};
  for (const s of arr(psc.sysctls)) if (str(s.name)) sysctls[str(s.name)!] = String(s.value ?? '');
  const runAsUser = int(sc.runAsUser) ?? int(psc.runAsUser);
  const procMount = str(sc.procMount);
  return {
    sources: ['podspec'],
    privileged: bool(sc.privileged),
    capabilities: { added: capList(caps.add), dropped: capList(caps.drop) },
    allowPrivilegeEscalation: bool(sc.allowPrivilegeEscalation),
    noNewPrivileges: sc.allowPrivilegeEscalation === false,
    seccomp,
    seccompLocalhostRef: str(obj(sc.seccompProfile).localhostProfile) ?? str(obj(psc.seccompProfile).localhostProfile),
    appArmorProfile: appArmor(obj(sc.appArmorProfile)) ?? str(annotations[`container.apparmor.security.beta.kubernetes.io/${name}`])
      ?? appArmor(obj(psc.appArmorProfile)),
    seLinux: Object.keys(se).length > 0
      ? { user: str(se.user), role: str(se.role), type: str(se.type), level: str(se.level) } : undefined,
    readOnlyRootFilesystem: sc.readOnlyRootFilesystem === true,
    runAsUser,
    runAsNonRoot: bool(sc.runAsNonRoot) ?? bool(psc.runAsNonRoot),
    uid: runAsUser,
    procMount: procMount === undefined ? undefined : procMount === 'Unmasked' ? 'Unmasked' : 'Default',
    sysctls,
    hostNamespaces,
    mounts,
    volumes,
    hostPorts: arr(c.ports).map((p) => int(p.hostPort) ?? 0).filter((p) => p > 0),
    env: envOf(c),
    envFrom: arr(c.envFrom).flatMap((e): NonNullable<DeclaredFact['envFrom']> => {
      const secret = str(obj(e.secretRef).name);
      const configMap = str(obj(e.configMapRef).name);
      return secret ? [{ from: 'secret', name: secret }] : configMap ? [{ from: 'configMap', name: configMap }] : [];
    }),
  };
}

/** Every container (init, regular, ephemeral) of a PodSpec as a `declared`-only ContainerFact. */
export function containersFromPodSpec(podSpec: unknown, meta: PodMeta = {}): ContainerFact[] {
  const spec = obj(podSpec);
  const annotations = meta.annotations ?? {};
  const all = [...arr(spec.initContainers), ...arr(spec.containers), ...arr(spec.ephemeralContainers)];
  return all.map((c) => {
    const name = str(c.name) ?? '';
    const fact: ContainerFact = {
      id: `manifest:${meta.namespace ?? ''}/${meta.pod ?? ''}/${name}`,
      runtime: 'manifest',
      type: 'container',
      container: name,
      declared: containerDeclared(spec, c, annotations),
      errors: [],
    };
    if (meta.namespace !== undefined) fact.namespace = meta.namespace;
    if (meta.pod !== undefined) fact.pod = meta.pod;
    const image = str(c.image);
    if (image) fact.image = image;
    return fact;
  });
}

/** The pod template of a Pod, Deployment, DaemonSet, StatefulSet, ReplicaSet, Job or CronJob manifest. */
export function podTemplateOf(manifest: unknown): { spec: Obj; meta: PodMeta } | undefined {
  const m = obj(manifest);
  const metadata = obj(m.metadata);
  const namespace = str(metadata.namespace);
  const name = str(metadata.name);
  const annotationsOf = (md: Obj): Record<string, string> =>
    Object.fromEntries(Object.entries(obj(md.annotations)).filter((e): e is [string, string] => typeof e[1] === 'string'));
  if (m.kind === 'Pod') return { spec: obj(m.spec), meta: { namespace, pod: name, annotations: annotationsOf(metadata) } };
  const template = m.kind === 'CronJob'
    ? obj(obj(obj(obj(m.spec).jobTemplate).spec).template)
    : obj(obj(m.spec).template);
  if (!isRecord(template.spec)) return undefined;
  return { spec: template.spec, meta: { namespace, pod: name, annotations: annotationsOf(obj(template.metadata)) } };
}

/** A ContainersFact for a snapshot that judges manifests instead of a node. */
export function containersFactFromManifests(manifests: { manifest: unknown; path: string }[]): ContainersFact {
  const fact: ContainersFact = { sources: [], searched: [], items: [], errors: [] };
  for (const { manifest, path } of manifests) {
    fact.searched.push(path);
    const t = podTemplateOf(manifest);
    if (!t) continue;
    fact.sources.push({ runtime: 'manifest', path });
    fact.items.push(...containersFromPodSpec(t.spec, t.meta));
  }
  return fact;
}
