// What a scan is asked to do is checked before it runs: a missing root or an --only that selects nothing is an
// exit-2 error naming what was wrong, never a normal-looking report; a scan without root says so once.
import { execFile } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, ScanOptionsError, selectChecks, validateScanOptions } from '../../../agent/scan.js';
import { NodeReportSchema } from '../../../proto/report.js';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { hardenedWorker } from '../../fixtures/hosts/hardened-worker.js';
import { locateBuiltCli } from '../../harness/built-cli.js';
import { emptySnapshot } from '../checks/snapshot-factory.js';

let host: BuiltHost;
let cli: ReturnType<typeof locateBuiltCli>;
beforeAll(() => {
  host = buildHost(hardenedWorker());
  cli = locateBuiltCli('agent/cli.js');
}, 300_000);
afterAll(() => { host?.cleanup(); cli?.cleanup(); });

const roots = () => ({ hostRoot: host.hostRoot, procRoot: host.procRoot });
const problem = (f: () => unknown): string => {
  try { f(); } catch (err) {
    expect(err).toBeInstanceOf(ScanOptionsError);
    expect((err as ScanOptionsError).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error('no error');
};

describe('validateScanOptions', () => {
  it('a missing, non-directory or unreadable root is an error naming the flag and the path', () => {
    expect(problem(() => validateScanOptions({ ...roots(), hostRoot: '/nonexistent' }))).toBe('--host-root /nonexistent: no such directory');
    expect(problem(() => validateScanOptions({ ...roots(), procRoot: '/nonexistent' }))).toBe('--proc-root /nonexistent: no such directory');
    expect(problem(() => validateScanOptions({ ...roots(), procRoot: '/etc/passwd' }))).toBe('--proc-root /etc/passwd: not a directory');
  });

  it('--only that selects nothing names the nearest ids', () => {
    expect(problem(() => validateScanOptions({ ...roots(), only: ['9.9'] }))).toMatch(/^--only 9\.9 selects no check; nearest: \S/);
    expect(problem(() => validateScanOptions({ ...roots(), only: ['4.2.l'] }))).toMatch(/nearest: 4\.2\.1\b/);
    expect(problem(() => validateScanOptions({ ...roots(), only: ['cis-4.2.1', 'nosuchcheck'] }))).toMatch(/^--only nosuchcheck selects no check; nearest: /);
    expect(problem(() => validateScanOptions({ ...roots(), only: ['port-kubelet-readonli'] }))).toMatch(/nearest: port-kubelet-readonly/);
  });

  it('valid options return the checks selected', () => {
    expect(validateScanOptions({ ...roots(), only: ['4.2'] }).map((c) => c.cis)).toContain('4.2.1');
    expect(validateScanOptions(roots())).toHaveLength(selectChecks(undefined).length);
  });

  it('a scan without root says so once, with the facts it could not read', () => {
    const s = emptySnapshot();
    s.scannedAs = { uid: 1000 };
    s.errors.push({ path: '/etc/kubernetes/pki/ca.key', code: 'EACCES', message: 'permission denied' }, { path: '/x', code: 'ENOENT', message: 'gone' });
    const unprivileged = buildReport(s, []).findings.filter((f) => f.checkId === 'vigil.scan-unprivileged');
    expect(unprivileged).toHaveLength(1);
    expect(unprivileged[0]).toMatchObject({ status: 'warn', evidence: { value: 1000, detail: expect.stringContaining('1 host fact could not be read (permission denied): /etc/kubernetes/pki/ca.key') } });
    s.scannedAs = { uid: 0 };
    expect(buildReport(s, []).findings.filter((f) => f.checkId === 'vigil.scan-unprivileged')).toEqual([]);
  });
});

interface Run { code: number; stdout: string; stderr: string }
function run(args: string[], opts: { uid?: number } = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [cli.cli, ...args], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000, ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid, cwd: '/' } : {}) },
      (err, stdout, stderr) => done({ code: err ? Number((err as { code?: unknown }).code ?? -1) : 0, stdout, stderr }));
  });
}

describe('vigil-agent scan with options it cannot honour (built CLI)', () => {
  it.each([
    [['--host-root', '/nonexistent'], /^vigil-agent scan: --host-root \/nonexistent: no such directory\n$/],
    [['--proc-root', '/nonexistent'], /^vigil-agent scan: --proc-root \/nonexistent: no such directory\n$/],
    [['--only', 'nosuchcheck'], /^vigil-agent scan: --only nosuchcheck selects no check; nearest: .+\n$/],
    [['--only', '9.9'], /^vigil-agent scan: --only 9\.9 selects no check; nearest: .+\n$/],
  ])('%j: exit 2, one line on stderr, nothing on stdout', async (args, message) => {
    const r = await run(['scan', '--host-root', host.hostRoot, '--proc-root', host.procRoot, ...args, '--fail-on', 'critical']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it.runIf(process.geteuid?.() === 0)('run as nobody: the report says once that root is needed and what could not be read', async () => {
    const locked = buildHost({ files: { '/etc/kubernetes/manifests/kube-apiserver.yaml': { content: 'x', mode: 0o600 } } });
    // A private build of the CLI lives in a 0700 temp dir: let nobody run it.
    const buildDir = dirname(dirname(cli.cli));
    if (buildDir.startsWith(tmpdir())) chmodSync(buildDir, 0o755);
    try {
      chmodSync(join(locked.hostRoot, 'etc/kubernetes/manifests'), 0o700);
      chmodSync(locked.hostRoot, 0o755);
      const r = await run(['scan', '--host-root', locked.hostRoot, '--proc-root', locked.procRoot, '--format', 'json'], { uid: 65534 });
      expect(r.code, r.stderr).toBe(0);
      const report = NodeReportSchema.parse(JSON.parse(r.stdout));
      const said = report.findings.filter((f) => f.checkId === 'vigil.scan-unprivileged');
      expect(said).toHaveLength(1);
      expect(said[0].evidence.detail).toContain('/etc/kubernetes/manifests');
    } finally {
      locked.cleanup();
    }
  });
});
