// Facts about running containers, from the runtime's own state (OCI spec, CRI) and from the kernel.
import type { GatherError } from '../../snapshot.js';

export interface ContainerFact {
  id: string;
  runtime: 'containerd' | 'crio';
  /** `sandbox` (pause) containers tell the pod's namespaces; only `container` ones are judged as workloads. */
  type: 'container' | 'sandbox';
  namespace?: string;
  pod?: string;
  podUid?: string;
  container?: string;
  image?: string;
  sandboxId?: string;
  pid?: number;
  /** What the container declared (OCI runtime spec, and CRI config when the socket answered). */
  declared: {
    privileged?: boolean;
    capabilities: { effective: string[]; bounding: string[]; added?: string[]; dropped?: string[] };
    noNewPrivileges?: boolean;
    seccomp?: 'unconfined' | 'runtime-default' | 'localhost' | 'other';
    appArmorProfile?: string;
    seLinuxType?: string;
    readOnlyRootFilesystem?: boolean;
    runAsUser?: number;
    runAsNonRoot?: boolean;
    procMount?: string;
    sysctls: Record<string, string>;
    /** Namespaces the container does NOT have its own of (shared with the host). */
    hostNamespaces: ('pid' | 'ipc' | 'network' | 'uts')[];
    mounts: { source: string; destination: string; readOnly: boolean; type?: string }[];
    hostPorts: number[];
    /** Names only: values never leave the gather stage. */
    envNames: string[];
  };
  /** What the kernel reports for the container's first process, when its pid is alive. */
  kernel?: {
    capEff: string[];
    capBnd: string[];
    noNewPrivs?: boolean;
    /** 0 disabled, 1 strict, 2 filter. */
    seccompMode?: number;
    uid?: number;
    /** Namespaces whose /proc/PID/ns link equals the host reference process's. */
    sharedWithHost: string[];
    lsmLabel?: string;
  };
  errors: GatherError[];
}

export interface ContainersFact {
  /** Which runtimes were looked at and where; empty when none was found (checks then skip). */
  sources: { runtime: 'containerd' | 'crio' | 'cri'; path: string }[];
  items: ContainerFact[];
  errors: GatherError[];
}
