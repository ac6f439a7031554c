// Reads the CRI configs a runtime returns in verbose status (containerd: JSON with snake_case keys and
// numeric enums, zero values omitted) into Kubernetes-level declared facts: the literal capability
// add/drop lists, runAsUser, privileged, seccomp/AppArmor profile types, host ports and sysctls.
import { isRecord, type JsonRecord } from '../../../common/json.js';
import { normalizeCapability } from './capabilities.js';
import { mountOrigin } from './mount-origin.js';
import type { DeclaredFact, HostNamespace, SeccompDeclared } from '../../facts/containers.js';

type Obj = JsonRecord;
const obj = (v: unknown): Obj => (isRecord(v) ? v : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v.slice(0, 4096) : []);
const strs = (v: unknown): string[] => list(v).filter((x): x is string => typeof x === 'string').map((s) => s.slice(0, 1024));
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v.slice(0, 1024) : undefined);
/** Int64Value arrives as { value: 1000 } or { value: "1000" }; an empty object is value 0. */
function int64Value(v: unknown): number | undefined {
  if (!isRecord(v)) return undefined;
  const n = Number(v.value ?? 0);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** NamespaceMode NODE is 2 (JSON) or "NODE" (proto-loader). */
const isNode = (v: unknown): boolean => v === 2 || v === 'NODE';

function profileType(p: Obj): 'RuntimeDefault' | 'Unconfined' | 'Localhost' {
  const t = p.profile_type ?? p.profileType ?? 0;
  if (t === 1 || t === 'Unconfined') return 'Unconfined';
  if (t === 2 || t === 'Localhost') return 'Localhost';
  return 'RuntimeDefault';
}

function seccompOf(sc: Obj): { seccomp?: SeccompDeclared; ref?: string } {
  if (isRecord(sc.seccomp)) {
    const t = profileType(sc.seccomp);
    const ref = str(sc.seccomp.localhost_ref);
    return { seccomp: t === 'Unconfined' ? 'unconfined' : t === 'Localhost' ? 'localhost' : 'runtime-default', ref };
  }
  const path = str(sc.seccomp_profile_path);
  if (!path) return { seccomp: 'unset' };
  if (path === 'unconfined') return { seccomp: 'unconfined' };
  if (path.startsWith('localhost/')) return { seccomp: 'localhost', ref: path.slice('localhost/'.length) };
  return { seccomp: 'runtime-default' };
}

function appArmorOf(sc: Obj): string | undefined {
  if (isRecord(sc.apparmor)) {
    const t = profileType(sc.apparmor);
    return t === 'Unconfined' ? 'unconfined' : t === 'Localhost' ? `localhost/${str(sc.apparmor.localhost_ref) ?? ''}` : 'runtime/default';
  }
  return str(sc.apparmor_profile);
}

function hostNamespacesOf(ns: Obj): HostNamespace[] {
  const out: HostNamespace[] = [];
  if (isNode(ns.pid)) out.push('pid');
  if (isNode(ns.ipc)) out.push('ipc');
  if (isNode(ns.network)) out.push('network', 'uts');
  return out;
}

/** What a CRI ContainerConfig declares. Never copies an env value. */
export function declaredFromCriContainerConfig(raw: unknown): Omit<DeclaredFact, 'sysctls' | 'hostPorts'> {
  const config = obj(raw);
  const sc = obj(obj(config.linux).security_context);
  const caps = obj(sc.capabilities);
  const se = obj(sc.selinux_options);
  const { seccomp, ref } = seccompOf(sc);
  return {
    sources: ['cri'],
    privileged: sc.privileged === true,
    capabilities: {
      added: strs(caps.add_capabilities).map(normalizeCapability),
      dropped: strs(caps.drop_capabilities).map(normalizeCapability),
    },
    noNewPrivileges: sc.no_new_privs === true,
    seccomp,
    seccompLocalhostRef: ref,
    appArmorProfile: appArmorOf(sc),
    seLinux: Object.keys(se).length > 0
      ? { user: str(se.user), role: str(se.role), type: str(se.type), level: str(se.level) } : undefined,
    readOnlyRootFilesystem: sc.readonly_rootfs === true,
    runAsUser: int64Value(sc.run_as_user),
    procMount: Array.isArray(sc.masked_paths) && sc.masked_paths.length === 0 && sc.privileged !== true ? 'Unmasked' : undefined,
    hostNamespaces: hostNamespacesOf(obj(sc.namespace_options)),
    mounts: list(config.mounts).filter(isRecord).map((m) => {
      const source = str(m.host_path) ?? '';
      return { source, destination: str(m.container_path) ?? '', readOnly: m.readonly === true, type: 'bind', origin: mountOrigin(source, 'bind', []) };
    }),
    env: list(config.envs).filter(isRecord).map((e) => ({ name: str(e.key) ?? '' })).filter((e) => e.name !== ''),
  };
}

export interface SandboxDeclared {
  hostPorts: number[];
  sysctls: Record<string, string>;
  hostNamespaces: HostNamespace[];
  privileged: boolean;
}

export function declaredFromCriSandboxConfig(raw: unknown): SandboxDeclared {
  const config = obj(raw);
  const linux = obj(config.linux);
  const sc = obj(linux.security_context);
  const sysctls: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(linux.sysctls)).slice(0, 4096)) if (typeof v === 'string') sysctls[k] = v;
  const hostPorts = list(config.port_mappings).filter(isRecord)
    .map((p) => Number(p.host_port ?? 0)).filter((p) => Number.isInteger(p) && p > 0);
  return { hostPorts, sysctls, hostNamespaces: hostNamespacesOf(obj(sc.namespace_options)), privileged: sc.privileged === true };
}
