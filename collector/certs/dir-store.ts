// The CA and serving certificate as files in one directory (`certs ensure --out DIR`): ca.crt (the trust bundle:
// current CA, then the previous one while it is valid), ca.key, tls.crt, tls.key. Keys are 0600, the directory
// 0700 when made here. A file is rewritten only when its content changes, and always through a rename, so a
// reader (the collector reloading its certificate) never sees half a file.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { trustBundle, type Material, type StoredMaterial } from './pki.js';

const FILES = { caBundle: 'ca.crt', caKey: 'ca.key', cert: 'tls.crt', key: 'tls.key' } as const;
const KEY_MODE = 0o600;
const CERT_MODE = 0o644;

export function readDir(dir: string): StoredMaterial {
  const read = (name: string): string | undefined => {
    const path = join(dir, name);
    return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  };
  return {
    caBundle: read(FILES.caBundle),
    caKey: read(FILES.caKey),
    serving: { cert: read(FILES.cert), key: read(FILES.key) },
  };
}

/** Writes what differs; returns the names of the files written. Key files get mode 0600 even when unchanged. */
export function writeDir(dir: string, material: Material, now: Date): string[] {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files: [string, string, number][] = [
    [FILES.caBundle, trustBundle(material, now), CERT_MODE],
    [FILES.caKey, material.ca.key, KEY_MODE],
    [FILES.cert, material.serving.cert, CERT_MODE],
    [FILES.key, material.serving.key, KEY_MODE],
  ];
  const written: string[] = [];
  for (const [name, content, mode] of files) {
    const path = join(dir, name);
    if (existsSync(path) && readFileSync(path, 'utf8') === content) {
      if ((statSync(path).mode & 0o777) !== mode && mode === KEY_MODE) chmodSync(path, KEY_MODE);
      continue;
    }
    const tmp = join(dir, `.${name}.${process.pid}.tmp`);
    writeFileSync(tmp, content, { mode });
    chmodSync(tmp, mode); // writeFileSync's mode is filtered by the umask
    renameSync(tmp, path);
    written.push(name);
  }
  return written;
}
