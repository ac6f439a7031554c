// The three pods of the real-containerd test, as CRI configs: (a) privileged with host PID, IPC and
// network; (b) CAP_SYS_ADMIN, the containerd socket mounted from the host, a DB_PASSWORD env var;
// (c) what Pod Security "restricted" asks for, on its own network namespace.
import type { PodSpecCri } from '../../harness/containerd.js';

const hostNamespaces = { network: 'NODE', pid: 'NODE', ipc: 'NODE' };

export const privilegedPod: PodSpecCri = {
  sandbox: { linux: { security_context: { privileged: true, namespace_options: hostNamespaces } } },
  containers: [{
    metadata: { name: 'admin-shell' },
    command: ['/bin/sleep', '3600'],
    linux: { security_context: { privileged: true, namespace_options: hostNamespaces } },
  }],
};

export function socketPod(containerdSocket: string): PodSpecCri {
  return {
    sandbox: { linux: { security_context: {} } },
    containers: [{
      metadata: { name: 'app' },
      command: ['/bin/sleep', '3600'],
      envs: [{ key: 'DB_PASSWORD', value: 'not-a-real-password-7f3a' }, { key: 'LOG_LEVEL', value: 'debug' }],
      mounts: [{ container_path: '/run/containerd/containerd.sock', host_path: containerdSocket }],
      linux: { security_context: { capabilities: { add_capabilities: ['SYS_ADMIN'] } } },
    }],
  };
}

const restrictedContext = {
  run_as_user: { value: 1000 },
  run_as_group: { value: 1000 },
  seccomp: { profile_type: 'RuntimeDefault' },
};

export const restrictedPod: PodSpecCri = {
  sandbox: { linux: { security_context: restrictedContext } },
  containers: [{
    metadata: { name: 'web' },
    command: ['/bin/sleep', '3600'],
    linux: {
      security_context: {
        ...restrictedContext,
        capabilities: { drop_capabilities: ['ALL'] },
        no_new_privs: true,
        readonly_rootfs: true,
      },
    },
  }],
};
