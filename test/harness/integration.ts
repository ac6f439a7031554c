// Gate for integration suites that need a real daemon binary (containerd, etcd, nats-server, postgres).
// With VIGIL_REQUIRE_INTEGRATION=1 (set by .ci/run) a missing binary fails the run; otherwise the suite
// is skipped and the reason is printed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';

const REQUIRED = process.env.VIGIL_REQUIRE_INTEGRATION === '1';

/** Absolute path of an executable on PATH or at one of the given paths, or undefined. */
export function findBinary(name: string, extraPaths: string[] = []): string | undefined {
  for (const p of extraPaths) if (existsSync(p)) return p;
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * describe() that runs only when every listed binary exists (and, for root-only daemons, we are root).
 * `binaries` maps a label to a resolved path (or undefined when missing).
 */
export function describeWithDaemons(
  title: string,
  binaries: Record<string, string | undefined>,
  body: () => void,
  opts: { needsRoot?: boolean } = {},
): void {
  const missing = Object.entries(binaries).filter(([, p]) => !p).map(([label]) => label);
  if (opts.needsRoot && process.getuid?.() !== 0) missing.push('root privileges');
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const reason = `${title}: skipped, missing ${missing.join(', ')}`;
  if (REQUIRED) {
    describe(title, () => {
      throw new Error(`${reason} (VIGIL_REQUIRE_INTEGRATION=1 makes this a failure; .ci/run installs them)`);
    });
    return;
  }
  console.warn(reason);
  describe.skipIf(missing.length > 0)(title, body);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix: string): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), `vigil-${prefix}-`));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
