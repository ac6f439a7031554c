// A minimal Snapshot for check tests: every fact empty unless the test sets it.
import type { ComponentFact, ComponentName, Setting, Snapshot } from '../../../agent/snapshot.js';
import type { SocketFact } from '../../../agent/gather/sockets/types.js';

export function emptySnapshot(over: Partial<Snapshot> = {}): Snapshot {
  const empty: Snapshot = {
    node: { name: 'node-1', roles: [] },
    hostRoot: '/', procRoot: '/proc',
    components: {}, files: {},
    containers: { sources: [], searched: [], items: [], errors: [] },
    sockets: [], certificates: [], keys: [],
    kernel: { sysctls: {}, missing: [], errors: [] },
    cni: { plugins: [], files: [], errors: [] },
    errors: [],
  };
  return { ...empty, ...over };
}

export function component(name: ComponentName, pid: number, argv: string[], env: Record<string, string> = {}): ComponentFact {
  const flags: Record<string, string[]> = {};
  for (const a of argv.slice(1)) {
    const m = /^--?([^=]+)=(.*)$/.exec(a);
    if (m) (flags[m[1]] ??= []).push(m[2]);
  }
  return { name, source: 'process', pid, argv, flags, env };
}

export function settings(values: Record<string, unknown>): Record<string, Setting> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, { key, value, source: 'config-file' as const }]));
}

export function sock(port: number, address: string, extra: Partial<SocketFact> = {}): SocketFact {
  return { protocol: address.includes(':') ? 'tcp6' : 'tcp', address, port, inode: port * 10, uid: 0, ...extra };
}
