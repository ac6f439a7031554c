// Port, PKI, kernel and CNI check tests: the shared snapshot factory with a pid-first component helper.
import type { ComponentFact, ComponentName, Setting, Snapshot } from '../../../agent/facts/snapshot.js';
import type { SocketFact } from '../../../agent/facts/sockets.js';
import { component as baseComponent, emptySnapshot as baseSnapshot } from '../checks/snapshot-factory.js';

export function emptySnapshot(over: Partial<Snapshot> = {}): Snapshot {
  return { ...baseSnapshot(), ...over };
}

export function component(name: ComponentName, pid: number, argv: string[], env: Record<string, string> = {}): ComponentFact {
  return baseComponent(name, argv.slice(1), { pid, argv, env });
}

export function settings(values: Record<string, unknown>): Record<string, Setting> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, { key, value, source: 'config-file' as const }]));
}

export function sock(port: number, address: string, extra: Partial<SocketFact> = {}): SocketFact {
  return { protocol: address.includes(':') ? 'tcp6' : 'tcp', address, port, inode: port * 10, uid: 0, ...extra };
}
