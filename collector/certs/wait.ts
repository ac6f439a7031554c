// On a first install the collector's Secret volumes are mounted (optional, empty) before this init step makes the
// Secrets; the kubelet fills them in on a later sync, usually within a minute. Waiting here until the mounted
// files hold what the API holds means the collector never starts without its certificate or tokens.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';

export interface MountedSecret {
  secret: string;
  dir: string;
}

/** `SECRET=DIR` as given on the command line. */
export function parseMounted(text: string): MountedSecret {
  const m = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)=(\/.*)$/.exec(text);
  if (!m) throw new Error(`--wait-mounted wants SECRET=/absolute/dir, got "${text}"`);
  return { secret: m[1], dir: m[3] };
}

/** Files of `dir` that do not (yet) hold the Secret's data. */
function staleFiles(dir: string, data: Record<string, Buffer>): string[] {
  return Object.entries(data).filter(([key, value]) => {
    const path = join(dir, key);
    return !existsSync(path) || !readFileSync(path).equals(value);
  }).map(([key]) => key);
}

export async function waitMounted(
  mounts: MountedSecret[],
  secrets: Map<string, Record<string, Buffer>>,
  opts: { timeoutMs: number; pollMs?: number; log: Logger },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (const m of mounts) {
    const data = secrets.get(m.secret);
    if (!data) throw new Error(`--wait-mounted names ${m.secret}, which this command does not manage`);
    let logged = false;
    for (;;) {
      const stale = staleFiles(m.dir, data);
      if (stale.length === 0) break;
      if (Date.now() >= deadline) {
        throw new Error(`${m.dir} still lacks the current ${stale.join(', ')} of Secret ${m.secret} after ${opts.timeoutMs / 1000} s`);
      }
      if (!logged) opts.log.info({ secret: m.secret, dir: m.dir, files: stale }, 'waiting for the kubelet to update the mounted Secret');
      logged = true;
      await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 2_000));
    }
  }
}
