import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package version, shared by agent and collector; found by walking up from this module (sources and dist/). */
function readVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'vigil' && pkg.version) return pkg.version;
    } catch { /* keep walking */ }
    dir = dirname(dir);
  }
  return '0.0.0';
}

export const VIGIL_VERSION = readVersion();
