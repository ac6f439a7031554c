// Findings that come from no check of a scan: what gather could not read, what the watcher saw change, and the
// watcher's own state. They are registered in the catalogue like checks (their data and what they read); their
// verdicts are made where the facts are (scan.ts, watch/sensitive.ts, the daemon).
import { fact, files, hostPath, settings, type Input } from '../facts/inputs.js';
import type { Check } from './check.js';

/** What gather could not read is reported, not swallowed: one `error` finding per unreadable fact, on every scan. */
export const gatherErrorCheck: Check = {
  id: 'vigil.gather-error',
  cis: null,
  title: 'A host fact could not be read',
  severity: 'medium',
  component: 'node',
  remediation: 'Check that the agent can read the path (mounts, capabilities) and that the file is well-formed.',
  reads: [fact('gatherErrors')],
  evaluate: (s) => s.errors.map((e) => ({
    status: 'error' as const,
    resource: { kind: 'file' as const, path: e.path },
    evidence: { source: 'gather', path: e.path, detail: `${e.code}: ${e.message}` },
    title: `Could not read ${e.path} (${e.code})`,
    discriminator: e.code,
  })),
};

const DENIED = new Set(['EACCES', 'EPERM']);
const PATHS_SHOWN = 20;

/**
 * Run without root, a scan cannot read keys, other users' /proc entries or 0600 configs. Said once, with what could
 * not be read, instead of leaving the reader with a list of permission errors.
 */
export const unprivilegedScanCheck: Check = {
  id: 'vigil.scan-unprivileged',
  cis: null,
  title: 'The scan ran without root: some host facts could not be read',
  severity: 'medium',
  component: 'node',
  remediation: 'Run the scan as root (sudo vigil-agent scan), or in the agent DaemonSet, which grants the capabilities '
    + 'it needs (CAP_DAC_READ_SEARCH to read keys and configs, CAP_SYS_PTRACE to read other processes in /proc).',
  reads: [fact('gatherErrors'), fact('containers'), fact('cni'), fact('kernel')],
  evaluate: (s) => {
    const uid = s.scannedAs?.uid;
    if (uid === undefined || uid === 0) return [];
    const denied = [...new Set([...s.errors, ...s.containers.errors, ...s.cni.errors, ...s.kernel.errors].filter((e) => DENIED.has(e.code)).map((e) => e.path))].sort();
    const shown = denied.slice(0, PATHS_SHOWN);
    return [{
      status: 'warn',
      resource: { kind: 'node' },
      evidence: {
        source: 'gather', key: 'uid', value: uid, expected: '0 (root)',
        detail: `the scan ran as uid ${uid}: other users' processes (their environment, their root) cannot be read`
          + (denied.length === 0 ? '' : `, and ${denied.length} host fact${denied.length === 1 ? '' : 's'} could not be read (permission denied): `
          + `${shown.join(', ')}${denied.length > shown.length ? `, and ${denied.length - shown.length} more` : ''}`),
      },
    }];
  },
};

/** Where systemd units live, and the units whose files are sensitive (the kubelet's and the runtimes'). */
export const UNIT_DIRS = ['/etc/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];
const UNITS = ['kubelet', 'containerd', 'crio', 'docker', 'k3s', 'k3s-agent', 'rke2-server', 'rke2-agent'];
/** Static pod manifest dirs of kubeadm, k3s and rke2 (besides the kubelet's own staticPodPath). */
export const MANIFEST_DIRS = ['/etc/kubernetes/manifests', '/var/lib/rancher/k3s/agent/pod-manifests', '/var/lib/rancher/rke2/agent/pod-manifests'];

/**
 * Where the files whose change is a finding of its own live (agent/watch/sensitive.ts): static pod manifests,
 * kubelet configs, kubeconfigs, PKI and kubelet/runtime unit files, both where a snapshot found them and where
 * they appear on a node before any snapshot names them.
 */
const SENSITIVE_LOCATIONS: readonly Input[] = [
  hostPath('/etc/kubernetes', 3),
  hostPath('/var/lib/kubelet/pki', 0),
  hostPath('/etc/rancher', 2),
  hostPath('/var/lib/rancher/k3s/server/tls', 1),
  hostPath('/var/lib/rancher/rke2/server/tls', 1),
  ...MANIFEST_DIRS.map((d) => hostPath(d, 0)),
  hostPath('/var/lib/kubelet/config.yaml'),
  hostPath('/var/lib/kubelet/kubeconfig'),
  ...UNIT_DIRS.flatMap((d) => UNITS.flatMap((u) => [hostPath(`${d}/${u}.service.d`, 0), hostPath(`${d}/${u}.service`)])),
  fact('staticPodDirs'),
  fact('certificates'),
  fact('keys'),
  ...settings('kubelet', 'staticPodPath'),
  files('admin.kubeconfig'), files('scheduler.kubeconfig'), files('controller-manager.kubeconfig'),
  files('kubelet.kubeconfig'), files('kube-proxy.kubeconfig'), files('kubelet.service'),
];

export const sensitiveFileChangedCheck: Check = {
  id: 'vigil.watch.sensitive-file-changed',
  cis: null,
  title: 'A sensitive node file changed',
  severity: 'medium',
  component: 'node',
  remediation: 'Confirm the change was intended (a deployment, a certificate rotation). An unexpected new or edited '
    + 'static pod manifest, kubelet config, kubeconfig, CA or unit file is a sign of tampering: compare with the '
    + 'hashes in the evidence, restore the file and investigate who wrote it.',
  reads: SENSITIVE_LOCATIONS,
  evaluate: () => [],
};

/** The daemon's file watching ran out of inotify watches and polls instead: changes are seen later. */
export const pollingFallbackCheck: Check = {
  id: 'vigil.watch.polling-fallback',
  cis: null,
  title: 'File watching fell back to polling (inotify limit reached)',
  severity: 'low',
  component: 'node',
  remediation: 'Raise fs.inotify.max_user_watches / max_user_instances on the node. Until then the agent polls, '
    + 'which notices changes later and costs more CPU.',
  reads: [],
  evaluate: () => [],
};

/** The daemon could not subscribe to the container runtime's events: new containers are seen later. */
export const containerEventsFallbackCheck: Check = {
  id: 'vigil.watch.container-events-unavailable',
  cis: null,
  title: 'Container runtime events unavailable: new containers are seen through the state dir or the rescan',
  severity: 'low',
  component: 'node',
  remediation: 'Mount the containerd socket into the agent (/run/containerd/containerd.sock, read-only) or pass --cri-socket. '
    + 'Without its event stream a new container is judged when its runtime state dir changes (when watched) or at the next rescan.',
  reads: [],
  evaluate: () => [],
};

/** The agent's outbox could not write to its disk (full, or failing): what is queued lives in memory only. */
export const outboxWriteFailedCheck: Check = {
  id: 'vigil.outbox.write-failed',
  cis: null,
  title: "The agent's outbox cannot write to its disk",
  severity: 'medium',
  component: 'node',
  remediation: 'Free space on (or repair) the volume of --outbox-dir. Until a write succeeds, queued changes are kept in memory '
    + 'and are lost if the agent restarts before delivering them; the next start sends a full snapshot.',
  reads: [],
  evaluate: () => [],
};
