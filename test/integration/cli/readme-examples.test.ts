// The README's one-shot scan examples, copied as written: `npm link` into a private prefix (so the test never touches
// the machine's global npm dir), then each `vigil-agent scan …` line run by a shell with that prefix on PATH.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeReportSchema } from '../../../proto/report.js';
import { locateBuiltCli, REPO } from '../../harness/built-cli.js';

/** The command lines of the README's first scan block (comments stripped), in order. */
function readmeScanExamples(): string[] {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## One-shot scan'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1];
  return block.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l.startsWith('vigil-agent scan'));
}

describe('README scan examples from a clone', () => {
  let prefix: string;
  let cwd: string;

  beforeAll(() => {
    const built = locateBuiltCli('agent/cli.js');
    built.cleanup();
    // npm link links the repo's own dist/: build it when it is older than the sources.
    if (!built.cli.startsWith(join(REPO, 'dist'))) execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO, stdio: 'pipe' });
    prefix = mkdtempSync(join(tmpdir(), 'vigil-link-'));
    cwd = mkdtempSync(join(tmpdir(), 'vigil-readme-'));
    execFileSync('npm', ['link', '--no-audit', '--no-fund'], { cwd: REPO, stdio: 'pipe', env: { ...process.env, npm_config_prefix: prefix } });
  }, 120_000);
  afterAll(() => {
    rmSync(prefix, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  });

  it('has the examples the README promises', () => {
    const examples = readmeScanExamples();
    expect(examples).toContain('vigil-agent scan');
    expect(examples).toContain('vigil-agent scan --format json');
    expect(examples.length).toBeGreaterThanOrEqual(5);
  });

  it('runs every example as written on this machine', () => {
    for (const line of readmeScanExamples()) {
      const r = spawnSync('sh', ['-c', line], {
        cwd, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}` },
      });
      expect({ line, status: r.status, stderr: r.stderr.slice(0, 400) }).toMatchObject({ line, status: 0 });
      if (line.endsWith('--format json')) expect(NodeReportSchema.safeParse(JSON.parse(r.stdout)).success).toBe(true);
      const redirected = / > (\S+)$/.exec(line);
      if (redirected) expect(readFileSync(join(cwd, redirected[1]), 'utf8').length).toBeGreaterThan(100);
      else expect(r.stdout.length).toBeGreaterThan(0);
    }
  }, 300_000);
});
