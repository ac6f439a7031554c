// What to watch: every host path a producer of findings declares it reads (evaluate/catalogue.ts), resolved against
// the snapshot (the kubelet's real config path, the manifests of the components that run, the PKI files found...),
// plus the places a sensitive file appears before a snapshot names it. And which paths are sensitive (a change is
// a finding of its own, watch/sensitive.ts).
import { posix } from 'node:path';
import { covers, inputTargets, type HostTarget, type Input, type SourceOptions } from '../facts/inputs.js';
import type { Snapshot } from '../facts/snapshot.js';
import { CATALOGUE } from '../evaluate/catalogue.js';
import { MANIFEST_DIRS, UNIT_DIRS } from '../evaluate/producers.js';

/** A host path to watch: a dir to `depth` levels below it (0: its entries only), or a single file when depth is undefined. */
export type WatchTarget = HostTarget;

export type SensitiveKind = 'static-pod-manifest' | 'kubelet-config' | 'kubeconfig' | 'pki' | 'unit-file';

/** Every input the catalogue declares, once. */
const DECLARED: readonly Input[] = [...new Map(CATALOGUE.flatMap((c) => c.reads).map((i) => [JSON.stringify(i), i])).values()];

/** Host paths every producer of findings reads on this node (without a snapshot: the ones known in advance). */
export function watchTargets(s: Snapshot | undefined, opts: SourceOptions): WatchTarget[] {
  const resolved = DECLARED.flatMap((i) => inputTargets(i, s, opts));
  const byPath = new Map<string, WatchTarget>();
  for (const t of resolved) {
    if (t.depth === undefined) continue;
    const prev = byPath.get(t.path);
    if (!prev || (prev.depth ?? -1) < t.depth) byPath.set(t.path, t);
  }
  const dirs = [...byPath.values()];
  for (const t of resolved) {
    if (t.depth !== undefined) continue;
    const file = posix.normalize(t.path);
    if (!byPath.has(file) && !dirs.some((d) => covers(d, file))) byPath.set(file, { path: file });
  }
  return [...byPath.values()];
}

const isUnder = (p: string, dir: string): boolean => p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/** Whether a host path is sensitive, and as what. */
export function sensitiveKind(p: string, s: Snapshot | undefined): SensitiveKind | undefined {
  const manifestDirs = [...MANIFEST_DIRS];
  if (s?.kubelet?.staticPodPath) manifestDirs.push(s.kubelet.staticPodPath);
  if (manifestDirs.some((d) => posix.dirname(p) === posix.normalize(d))) return 'static-pod-manifest';
  const k = s?.kubelet;
  if (p === k?.configPath || k?.dropIns.includes(p) || (k?.configDir && isUnder(p, k.configDir))
    || p === '/var/lib/kubelet/config.yaml') return 'kubelet-config';
  if (/\.service$|\.service\.d\/[^/]+\.conf$/.test(p) && UNIT_DIRS.some((d) => isUnder(p, d))) return 'unit-file';
  if (isUnder(p, '/etc/kubernetes/pki') || isUnder(p, '/var/lib/kubelet/pki') || /\/server\/tls\//.test(p)
    || s?.certificates.some((c) => c.path === p) || s?.keys.some((key) => key.path === p)) return 'pki';
  const kubeconfigs = new Set(Object.entries(s?.files ?? {})
    .filter(([role]) => role.endsWith('.kubeconfig')).flatMap(([, facts]) => (facts ?? []).map((f) => f.path)));
  if (kubeconfigs.has(p) || p === '/var/lib/kubelet/kubeconfig' || /^\/etc\/kubernetes\/[^/]+\.conf$/.test(p)
    || /^\/etc\/rancher\/(k3s|rke2)\/[^/]+\.yaml$/.test(p)) return 'kubeconfig';
  return undefined;
}
