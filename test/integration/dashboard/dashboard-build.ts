// The built dashboard the tests open: dist/dashboard as the sources are now, found by the collector under test.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO } from '../../harness/built-cli.js';

const DASHBOARD_DIST = join(REPO, 'dist/dashboard');
const SOURCES = join(REPO, 'collector/dashboard');

interface Manifest {
  index: string;
  csp: string;
  files: Array<{ path: string; bytes: number; gzipBytes: number; immutable: boolean }>;
  shippedGzipBytes: number;
}

export const readManifest = (): Manifest => JSON.parse(readFileSync(join(DASHBOARD_DIST, 'manifest.json'), 'utf8')) as Manifest;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'screenshots') continue;
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** dist/dashboard as the sources are now (the build takes a fraction of a second). */
export function ensureDashboardBuilt(): void {
  const manifest = join(DASHBOARD_DIST, 'manifest.json');
  if (existsSync(manifest) && statSync(manifest).mtimeMs >= newestMtime(SOURCES)) return;
  execFileSync(process.execPath, [join(SOURCES, 'build.mjs'), '--quiet'], { cwd: REPO, stdio: 'pipe' });
}

/**
 * The compiled collector serves dist/dashboard beside its own dist/collector. When the CLI under test is a private
 * build in a temp dir (locateBuiltCli, after a source change without `npm run build`), the dashboard is linked there.
 */
export function linkDashboardBeside(collectorCli: string): void {
  const beside = join(dirname(dirname(collectorCli)), 'dashboard');
  if (!existsSync(beside)) symlinkSync(DASHBOARD_DIST, beside);
}
