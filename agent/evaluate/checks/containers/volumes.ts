// PSS hostPathVolumes (CIS 5.2.11) and restrictedVolumes, plus the hostPath mounts that hand over the
// node: each sensitive one is its own finding, named.
import type { Check } from '../../check.js';
import type { DeclaredFact, MountFact } from '../../../facts/containers.js';
import type { Judgement } from '../../check.js';
import { containerCheck, ev, fail, isManifest, pass } from './common.js';

const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'image', 'persistentVolumeClaim', 'projected', 'secret',
]);

const hostPathMounts = (d: DeclaredFact): MountFact[] => d.mounts.filter((m) => m.origin === 'hostPath');

function hostPaths(d: DeclaredFact): string[] {
  const paths = new Set(hostPathMounts(d).map((m) => m.source));
  for (const v of d.volumes ?? []) if (v.type === 'hostPath' && v.path) paths.add(v.path);
  return [...paths].sort();
}

export const hostPathCheck: Check = containerCheck({
  id: 'container-host-path', cis: '5.2.11', pss: 'hostPathVolumes', level: 'baseline', severity: 'high',
  title: 'Container mounts no hostPath volume',
  remediation: 'Replace hostPath volumes with emptyDir, configMap, secret, projected or a PersistentVolumeClaim.',
  judge(d, c) {
    const paths = hostPaths(d);
    const e = ev(c, 'spec.volumes[*].hostPath', paths, 'none', isManifest(d) ? undefined
      : 'bind mounts from host paths outside the runtime\'s and kubelet\'s own dirs');
    return paths.length === 0 ? pass(e) : fail(e);
  },
});

export const restrictedVolumesCheck: Check = containerCheck({
  id: 'container-restricted-volumes', cis: null, pss: 'restrictedVolumes', level: 'restricted', severity: 'medium',
  title: 'Container uses only the volume types Pod Security restricted allows',
  remediation: 'Use only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected or secret volumes.',
  judge(d, c) {
    const bad = new Set<string>();
    for (const p of hostPaths(d)) bad.add(`hostPath:${p}`);
    for (const v of d.volumes ?? []) if (!RESTRICTED_VOLUME_TYPES.has(v.type) && v.type !== 'hostPath') bad.add(`${v.type}:${v.name}`);
    const detail = d.volumes ? undefined : 'from the node only hostPath volumes can be told apart from PVC-backed ones';
    const e = ev(c, 'spec.volumes', [...bad].sort(), 'only restricted volume types', detail);
    return bad.size === 0 ? pass(e) : fail(e);
  },
});

interface SensitivePath {
  label: string;
  critical: 'always' | 'rw';
}

const RUNTIME_SOCKETS = /\/(docker|containerd|crio|cri-dockerd|dockershim|podman)\.sock$/;
const PREFIXES: [string, string][] = [
  ['/etc/kubernetes', 'Kubernetes config and PKI'],
  ['/var/lib/kubelet', "the kubelet's state and every pod's secrets"],
  ['/var/lib/etcd', 'the etcd data dir'],
  ['/proc', "the host's /proc"],
  ['/sys', "the host's /sys"],
  ['/var/lib/containerd', "containerd's root"],
  ['/var/lib/docker', "Docker's root"],
  ['/run/containerd', "containerd's state and socket"],
  ['/var/run/containerd', "containerd's state and socket"],
  ['/var/run/crio', "CRI-O's socket dir"],
  ['/root', "root's home"],
];
const EXACT: Record<string, string> = {
  '/': 'the host root filesystem',
  '/etc': "the host's /etc",
  '/var/run': "the host's /var/run (runtime sockets)",
  '/run': "the host's /run (runtime sockets)",
  '/dev': "the host's devices",
  '/var': "the host's /var",
  '/home': 'home directories',
  '/boot': 'the boot partition',
};

/** What a host path exposes, or undefined when it is not known to be sensitive. */
export function sensitiveHostPath(raw: string): SensitivePath | undefined {
  const p = raw.length > 1 ? raw.replace(/\/+$/, '') : raw;
  if (RUNTIME_SOCKETS.test(p)) return { label: 'a container runtime socket (full control of the node)', critical: 'always' };
  if (EXACT[p]) return { label: EXACT[p], critical: 'rw' };
  for (const [prefix, label] of PREFIXES) if (p === prefix || p.startsWith(prefix + '/')) return { label, critical: 'rw' };
  return undefined;
}

export const sensitiveHostMountCheck: Check = containerCheck({
  id: 'container-sensitive-host-mount', cis: null, severity: 'high',
  title: 'Container mounts no sensitive host path',
  remediation: 'Remove the hostPath volume; a runtime socket or the host root gives the container the whole node.',
  judge(d, c) {
    const out: Judgement[] = [];
    // One verdict per host path (the discriminator): a path mounted twice is judged by its most permissive mount.
    const bySource = new Map<string, MountFact[]>();
    for (const m of hostPathMounts(d)) {
      const source = m.source.length > 1 ? m.source.replace(/\/+$/, '') || '/' : m.source;
      bySource.set(source, [...bySource.get(source) ?? [], m]);
    }
    for (const [source, ms] of bySource) {
      const s = sensitiveHostPath(source);
      if (!s) continue;
      const m = ms.find((x) => !x.readOnly) ?? ms[0];
      const mode = m.readOnly ? 'read-only' : 'read-write';
      const note = s.critical === 'always' && m.readOnly ? ' (a read-only mount does not stop connect() on a socket)' : '';
      const value: Record<string, unknown> = { source, destination: m.destination, readOnly: m.readOnly };
      if (ms.length > 1) value.destinations = ms.map((x) => x.destination);
      out.push({
        status: 'fail',
        severity: s.critical === 'always' || !m.readOnly ? 'critical' : 'high',
        title: `Container mounts ${source} ${mode} from the host: ${s.label}`,
        discriminator: source,
        evidence: ev(c, 'mounts', value, 'no sensitive host path', `${mode}${note}`),
      });
    }
    if (out.length === 0) out.push(pass(ev(c, 'mounts', hostPaths(d), 'no sensitive host path')));
    return out;
  },
});
