// A private containerd (its own root, state, socket, CNI conf and bridge) running real pods through its
// CRI plugin, for integration tests. See /work/shared/notes/real-daemons.md for why each setting is there.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CriClient, type CriMessage } from '../../agent/gather/containers/cri-client.js';
import { findBinary, tempDir } from './integration.js';
import { buildBusyboxImage } from './oci-image.js';

export const TEST_IMAGE = 'local.test/busybox:1';

export function containerdBinaries(): Record<string, string | undefined> {
  return {
    containerd: findBinary('containerd'),
    ctr: findBinary('ctr'),
    runc: findBinary('runc'),
    busybox: findBinary('busybox', ['/bin/busybox', '/usr/bin/busybox']),
    'CNI bridge plugin': existsSync('/usr/lib/cni/bridge') ? '/usr/lib/cni/bridge' : undefined,
    ip: findBinary('ip'),
  };
}

export interface PodSpecCri {
  sandbox: CriMessage;
  containers: CriMessage[];
}

export interface RunningPod {
  sandboxId: string;
  containerIds: string[];
}

export interface ContainerdHarness {
  dir: string;
  root: string;
  state: string;
  socket: string;
  readonly pid: number;
  bridge: string;
  cri: CriClient;
  /** Sandbox config defaults filled in: metadata uid, log dir, hostname for pod-network pods. */
  runPod(name: string, namespace: string, spec: PodSpecCri): Promise<RunningPod>;
  /** Stops containerd (SIGTERM; its pods keep running under their shims) and starts it again on the same socket. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function config(p: { root: string; state: string; socket: string; opt: string; cniConf: string }): string {
  return `version = 2
root = "${p.root}"
state = "${p.state}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

[grpc]
  address = "${p.socket}"

[ttrpc]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "${p.opt}"

[plugins."io.containerd.grpc.v1.cri"]
  restrict_oom_score_adj = true
  sandbox_image = "${TEST_IMAGE}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${p.cniConf}"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
`;
}

/** A link-local /28 picked at random so parallel runs rarely meet; nothing outside the machine routes it. */
function cniConflist(bridge: string, dataDir: string): string {
  const third = 1 + Math.floor(Math.random() * 253);
  const fourth = 16 * Math.floor(Math.random() * 15);
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: `vigil-${bridge}`,
    plugins: [
      {
        type: 'bridge', bridge, isGateway: false, ipMasq: false,
        ipam: { type: 'host-local', ranges: [[{ subnet: `169.254.${third}.${fourth}/28` }]], dataDir },
      },
      { type: 'loopback' },
    ],
  });
}

/** Mount points under dir (deepest first), from this process's mountinfo. */
function mountsUnder(dir: string): string[] {
  let text = '';
  try { text = readFileSync('/proc/self/mountinfo', 'utf8'); } catch { return []; }
  return text.split('\n').map((l) => l.split(' ')[4]).filter((m): m is string => !!m && m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

export async function startContainerd(): Promise<ContainerdHarness> {
  const bins = containerdBinaries();
  const tmp = tempDir('ctd');
  const dir = tmp.path;
  const root = join(dir, 'root');
  const state = join(dir, 'state');
  const socket = join(dir, 'containerd.sock');
  const cniConf = join(dir, 'cni');
  const bridge = `vgl${randomBytes(4).toString('hex')}`;
  for (const d of [root, state, cniConf, join(dir, 'opt'), join(dir, 'logs'), join(dir, 'image')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(cniConf, '10-vigil.conflist'), cniConflist(bridge, join(dir, 'ipam')));
  const cfgPath = join(dir, 'config.toml');
  writeFileSync(cfgPath, config({ root, state, socket, opt: join(dir, 'opt'), cniConf }));

  const logFd = openSync(join(dir, 'containerd.log'), 'a');
  const launch = (): ChildProcess => spawn(bins.containerd!, ['--config', cfgPath], { stdio: ['ignore', logFd, logFd] });
  let child = launch();
  const cri = new CriClient(socket, 5000);
  const sandboxes: string[] = [];
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    try {
      const listed = await cri.call('ListPodSandbox', {}).catch(() => ({ items: [] }));
      const ids = new Set([...sandboxes, ...((listed.items ?? []) as CriMessage[]).map((s) => String(s.id))]);
      for (const id of ids) {
        await cri.call('StopPodSandbox', { pod_sandbox_id: id }, 30_000).catch(() => undefined);
        await cri.call('RemovePodSandbox', { pod_sandbox_id: id }, 30_000).catch(() => undefined);
      }
    } finally {
      cri.close();
      if (child.pid && child.exitCode === null) {
        process.kill(child.pid, 'SIGTERM');
        for (let i = 0; i < 50 && child.exitCode === null; i++) await sleep(100);
        if (child.exitCode === null) process.kill(child.pid, 'SIGKILL');
      }
      try { execFileSync(bins.ip!, ['link', 'del', bridge], { stdio: 'ignore' }); } catch { /* never created */ }
      for (const m of mountsUnder(dir)) {
        try { execFileSync('umount', ['-l', m], { stdio: 'ignore' }); } catch { /* already gone */ }
      }
      tmp.cleanup();
    }
  };

  const ready = async (): Promise<void> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`containerd exited (${child.exitCode}); see ${join(dir, 'containerd.log')}`);
      if (existsSync(socket)) {
        try { await cri.call('Version', { version: 'v1' }, 1000); break; } catch { /* CRI plugin not ready yet */ }
      }
      if (Date.now() > deadline) throw new Error('containerd did not answer on its CRI socket within 20 s');
      await sleep(100);
    }
  };

  const restart = async (): Promise<void> => {
    const old = child;
    if (old.exitCode === null && old.signalCode === null) {
      const exited = new Promise((r) => old.once('exit', r));
      old.kill('SIGTERM');
      await exited;
    }
    child = launch();
    await ready();
  };

  try {
    await ready();
    const imageTar = buildBusyboxImage(join(dir, 'image'), bins.busybox!);
    execFileSync(bins.ctr!, ['--address', socket, '-n', 'k8s.io', 'images', 'import', '--index-name', TEST_IMAGE, imageTar],
      { stdio: 'pipe' });
  } catch (err) {
    await stop();
    throw err;
  }

  const runPod = async (name: string, namespace: string, spec: PodSpecCri): Promise<RunningPod> => {
    const hostNetwork = spec.sandbox.linux?.security_context?.namespace_options?.network === 'NODE';
    const logDir = join(dir, 'logs', `${namespace}_${name}`);
    mkdirSync(logDir, { recursive: true });
    const sandboxConfig: CriMessage = {
      ...spec.sandbox,
      metadata: { name, namespace, uid: randomUUID(), attempt: 0 },
      log_directory: logDir,
      ...(hostNetwork ? {} : { hostname: name }),
    };
    const { pod_sandbox_id: sandboxId } = await cri.call('RunPodSandbox', { config: sandboxConfig }, 60_000);
    sandboxes.push(sandboxId);
    const containerIds: string[] = [];
    for (const c of spec.containers) {
      const { container_id: id } = await cri.call('CreateContainer', {
        pod_sandbox_id: sandboxId,
        config: { image: { image: TEST_IMAGE }, log_path: `${c.metadata?.name ?? 'c'}.log`, ...c },
        sandbox_config: sandboxConfig,
      }, 60_000);
      await cri.call('StartContainer', { container_id: id }, 60_000);
      containerIds.push(id);
    }
    return { sandboxId, containerIds };
  };

  return { dir, root, state, socket, get pid() { return child.pid!; }, bridge, cri, runPod, restart, stop };
}

/** Dumps the daemon's log tail, for failing tests. */
export function containerdLogTail(h: ContainerdHarness, lines = 40): string {
  try { return readFileSync(join(h.dir, 'containerd.log'), 'utf8').split('\n').slice(-lines).join('\n'); } catch { return ''; }
}
