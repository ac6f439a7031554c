// Where certificates and keys are: the node's PKI dirs, and every file a component is started with
// (flags, etcd's ETCD_* environment, kubelet config settings), with the cert/key pairs those name.
import * as path from 'node:path';
import type { HostAccess } from '../host.js';
import type { ComponentFact, ComponentName, KubeletConfigFact } from '../../facts/snapshot.js';

/** Walked recursively. */
const PKI_DIRS = [
  '/etc/kubernetes/pki',
  '/var/lib/rancher/k3s/server/tls',
  '/var/lib/rancher/rke2/server/tls',
  '/var/lib/kubelet/pki',
  '/etc/etcd/pki',
  '/etc/ssl/etcd',
];
/** Read one level deep only: they also hold the runtime's (large) state. */
const SHALLOW_PKI_DIRS = ['/var/lib/rancher/k3s/agent', '/var/lib/rancher/rke2/agent'];

const PKI_EXTENSIONS = new Set(['.crt', '.pem', '.key', '.cert', '.cer', '.pub']);
const MAX_DIR_ENTRIES = 2000;
export const MAX_PKI_FILE_BYTES = 1024 * 1024;

export interface PkiCandidate {
  path: string;
  usedBy: string[];
  /** Named by a component: unreadable or empty is an error, not something to pass over. */
  named: boolean;
  /** What the naming flag says the file holds. */
  expect: 'cert' | 'key';
}

export interface NamedPair { cert: string; key: string; by: string }

/** A flag (or `etcd-*` env name, lower-cased) that names a certificate, CA bundle or key file. */
export function isPkiFlag(name: string): boolean {
  const parts = name.split('-');
  const last = parts[parts.length - 1];
  if (['cafile', 'certfile', 'keyfile', 'certificate', 'authority', 'key'].includes(last)) return true;
  return last === 'file' && parts.some((p) => p === 'cert' || p === 'key' || p === 'ca');
}

const expects = (flag: string): 'cert' | 'key' => (/(^|-)(key|keyfile)(-|$)/.test(flag) && !/cert/.test(flag) ? 'key' : 'cert');

/** The key flag that goes with a certificate flag, by the components' naming conventions. */
function keyFlagsFor(certFlag: string): string[] {
  return [
    certFlag.replace(/cert-file$/, 'key-file'),
    certFlag.replace(/cert-file$/, 'private-key-file'),
    certFlag.replace(/certfile$/, 'keyfile'),
    certFlag.replace(/certificate$/, 'key'),
  ].filter((k) => k !== certFlag);
}

export function pkiCandidates(
  host: HostAccess,
  components: Partial<Record<ComponentName, ComponentFact>>,
  kubelet: KubeletConfigFact | undefined,
): { candidates: PkiCandidate[]; pairs: NamedPair[] } {
  const byPath = new Map<string, PkiCandidate>();
  const pairs: NamedPair[] = [];
  const add = (raw: string, usedBy: string | undefined, expect: 'cert' | 'key') => {
    if (!raw.trim()) return undefined;
    const p = path.posix.resolve('/', raw.trim());
    let c = byPath.get(p);
    if (!c) { c = { path: p, usedBy: [], named: false, expect }; byPath.set(p, c); }
    if (usedBy) {
      c.named = true;
      c.expect = expect;
      if (!c.usedBy.includes(usedBy)) c.usedBy.push(usedBy);
    }
    return p;
  };

  for (const c of Object.values(components)) {
    if (!c) continue;
    const settings = new Map<string, { value: string; label: string }>();
    for (const [flag, values] of Object.entries(c.flags)) {
      const value = values[values.length - 1];
      if (isPkiFlag(flag) && value !== undefined) settings.set(flag, { value, label: `${c.name} --${flag}` });
    }
    for (const [name, value] of Object.entries(c.env)) {
      const flag = name.toLowerCase().replace(/_/g, '-').replace(/^etcd-/, '');
      if (isPkiFlag(flag) && !settings.has(flag)) settings.set(flag, { value, label: `${c.name} $${name}` });
    }
    for (const [flag, { value, label }] of settings) {
      // --tls-sni-cert-key=cert.crt,key.key[:names]
      if (flag === 'tls-sni-cert-key') {
        const [cert, key] = value.split(':')[0].split(',');
        const cp = cert ? add(cert, label, 'cert') : undefined;
        const kp = key ? add(key, label, 'key') : undefined;
        if (cp && kp) pairs.push({ cert: cp, key: kp, by: label });
        continue;
      }
      for (const v of value.split(',')) add(v, label, expects(flag));
      const keyFlag = keyFlagsFor(flag).find((k) => settings.has(k));
      if (keyFlag) {
        const cert = add(value, label, 'cert');
        const key = add(settings.get(keyFlag)!.value, settings.get(keyFlag)!.label, 'key');
        if (cert && key) pairs.push({ cert, key, by: `${label} / ${settings.get(keyFlag)!.label}` });
      }
    }
  }

  const fromConfig = (key: string, expect: 'cert' | 'key'): string | undefined => {
    const s = kubelet?.settings[key];
    if (!s || typeof s.value !== 'string' || s.source === 'flag') return undefined;
    return add(s.value, `kubelet ${key}`, expect);
  };
  const kubeletCert = fromConfig('tlsCertFile', 'cert');
  const kubeletKey = fromConfig('tlsPrivateKeyFile', 'key');
  fromConfig('authentication.x509.clientCAFile', 'cert');
  if (kubeletCert && kubeletKey) pairs.push({ cert: kubeletCert, key: kubeletKey, by: 'kubelet tlsCertFile / tlsPrivateKeyFile' });

  for (const dir of PKI_DIRS) {
    for (const f of host.walk(dir, MAX_DIR_ENTRIES)) {
      if (f.type === 'file' && PKI_EXTENSIONS.has(path.posix.extname(f.path))) add(f.path, undefined, 'cert');
    }
  }
  for (const dir of SHALLOW_PKI_DIRS) {
    const listing = host.readDir(dir);
    if (!listing.ok) continue;
    for (const e of listing.entries) {
      if (PKI_EXTENSIONS.has(path.posix.extname(e.name))) add(path.posix.join(dir, e.name), undefined, 'cert');
    }
  }
  return { candidates: [...byPath.values()], pairs };
}
