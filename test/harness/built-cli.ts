// A CLI (agent or collector) to run in a child process: dist/ when it is newer than the sources (as after `npm run build`),
// otherwise a private build in a temp dir, so a stale dist/ is never what gets tested. The agent is the bundle that
// package.json's bin and the image run (dist/bin/vigil-agent.js, agent/bundle.mjs), not tsc's dist/agent/cli.js.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const SOURCE_DIRS = ['collector', 'proto', 'agent', 'common'];

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** What `npm run build` makes for each CLI: the agent bundled, the collector as tsc emits it. */
const BUILT: Record<'agent/cli.js' | 'collector/cli.js', string> = {
  'agent/cli.js': 'bin/vigil-agent.js',
  'collector/cli.js': 'collector/cli.js',
};

export function locateBuiltCli(entry: 'agent/cli.js' | 'collector/cli.js'): { cli: string; cleanup(): void } {
  const built = BUILT[entry];
  const dist = join(REPO, 'dist', built);
  const sources = Math.max(...SOURCE_DIRS.map((d) => newestSourceMtime(join(REPO, d))));
  if (existsSync(dist) && statSync(dist).mtimeMs >= sources) return { cli: dist, cleanup: () => {} };
  const out = mkdtempSync(join(tmpdir(), 'vigil-cli-build-'));
  writeFileSync(join(out, 'package.json'), '{"name":"vigil","version":"0.0.0-test","type":"module"}\n');
  symlinkSync(join(REPO, 'node_modules'), join(out, 'node_modules'));
  try {
    execFileSync(join(REPO, 'node_modules/.bin/tsc'), ['-p', join(REPO, 'tsconfig.build.json'), '--outDir', out], { cwd: REPO, stdio: 'pipe' });
  } catch (err) {
    // tsc still emits when other parts of the tree have type errors; only a missing CLI is fatal.
    if (!existsSync(join(out, entry))) throw err;
  }
  if (built !== entry) {
    execFileSync(process.execPath, [join(REPO, 'agent/bundle.mjs'), '--quiet', '--outdir', join(out, dirname(built))], { cwd: REPO, stdio: 'pipe' });
  }
  return { cli: join(out, built), cleanup: () => rmSync(out, { recursive: true, force: true }) };
}
