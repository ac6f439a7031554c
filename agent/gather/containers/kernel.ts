// Kernel truth for a container's first process: capabilities, no_new_privs, seccomp, uid and which
// namespaces it shares with the host, read from /proc/PID. A pid can vanish at any moment: every read
// failure becomes a GatherError on the container, never an exception.
import type { HostAccess } from '../host.js';
import type { ComponentFact, ComponentName, GatherError } from '../../facts/snapshot.js';
import { decodeCapabilityMask } from './capabilities.js';
import { KERNEL_NAMESPACES, type KernelFact, type KernelNamespace } from '../../facts/containers.js';

interface HostReference {
  pid: number;
  process: string;
  namespaces: Partial<Record<KernelNamespace, string>>;
}

const HOST_DAEMONS = ['containerd', 'crio', 'kubelet', 'dockerd', 'k3s-server', 'k3s-agent', 'rke2'];
const MAX_PROCS_SCANNED = 100_000;

function namespaceLinks(host: HostAccess, pid: number): Partial<Record<KernelNamespace, string>> {
  const links: Partial<Record<KernelNamespace, string>> = {};
  for (const ns of KERNEL_NAMESPACES) {
    const link = host.readProcLink([pid, 'ns', ns]);
    if (link) links[ns] = link;
  }
  return links;
}

function reference(host: HostAccess, pid: number, process: string): HostReference | undefined {
  const namespaces = namespaceLinks(host, pid);
  return Object.keys(namespaces).length > 0 ? { pid, process, namespaces } : undefined;
}

/**
 * A process known to run in the host's namespaces: the container runtime or kubelet (from the discovered
 * components, else found by name), else the agent itself. Never pid 1: inside some sandboxes its ns links
 * cannot be read, and in a container pid 1 is the container's own init.
 */
export function findHostReference(
  host: HostAccess,
  components: Partial<Record<ComponentName, ComponentFact>>,
): HostReference | undefined {
  for (const name of ['containerd', 'crio', 'kubelet', 'dockerd'] as const) {
    const c = components[name];
    if (c?.source === 'process' && c.pid !== undefined && c.pid !== 1) {
      const ref = reference(host, c.pid, name);
      if (ref) return ref;
    }
  }
  let scanned = 0;
  for (const pid of host.listPids()) {
    if (pid === 1) continue;
    if (++scanned > MAX_PROCS_SCANNED) break;
    const comm = host.readProcText([pid, 'comm'], 256)?.trim();
    if (comm && HOST_DAEMONS.includes(comm)) {
      const ref = reference(host, pid, comm);
      if (ref) return ref;
    }
  }
  const self = Number(host.readProcLink(['self']));
  if (Number.isInteger(self) && self > 1) return reference(host, self, 'vigil-agent');
  return undefined;
}

function statusFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) fields.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return fields;
}

export function readKernelFact(
  host: HostAccess,
  pid: number,
  ref: HostReference | undefined,
): { kernel?: KernelFact; errors: GatherError[] } {
  const status = host.readProc([pid, 'status'], 16 * 1024);
  if (!status.ok) return { errors: [status.error] };
  const fields = statusFields(status.data.toString('utf8'));
  const errors: GatherError[] = [];
  const mask = (key: string): string[] => {
    const raw = fields.get(key);
    const decoded = raw === undefined ? undefined : decodeCapabilityMask(raw);
    if (!decoded) {
      errors.push({ path: host.procPath(pid, 'status'), code: 'EINVAL', message: `no valid ${key} line` });
      return [];
    }
    return decoded;
  };
  const int = (key: string, field = 0): number | undefined => {
    const v = fields.get(key)?.split(/\s+/)[field];
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const nnp = int('NoNewPrivs');
  const own = namespaceLinks(host, pid);
  const sharedWithHost = ref
    ? KERNEL_NAMESPACES.filter((ns) => own[ns] !== undefined && own[ns] === ref.namespaces[ns])
    : [];
  if (Object.keys(own).length === 0) {
    errors.push({ path: host.procPath(pid, 'ns'), code: 'EACCES', message: 'namespace links not readable' });
  }
  const lsm = host.readProcText([pid, 'attr', 'current'], 4096)?.replace(/\0/g, '').trim();
  const kernel: KernelFact = {
    capEff: mask('CapEff'),
    capBnd: mask('CapBnd'),
    noNewPrivs: nnp === undefined ? undefined : nnp === 1,
    seccompMode: int('Seccomp'),
    uid: int('Uid', 1),
    sharedWithHost,
    lsmLabel: lsm || undefined,
  };
  return { kernel, errors };
}
