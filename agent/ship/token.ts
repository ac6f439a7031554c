// The agent's identity for the collector: its projected ServiceAccount token, a file the kubelet rewrites
// before the token expires. Read again whenever the file changed (checked at every use, which is a stat), so a
// rotated token is sent without a restart; never logged.
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Logger } from 'pino';

/** Where Kubernetes projects the token in the deploy manifests; used when present and no --token-file is given. */
export const DEFAULT_TOKEN_FILE = '/var/run/secrets/vigil/token';

export class TokenFile {
  private stamp = '';
  private token?: string;
  private problem = '';

  /** Reads the file now: throws when it cannot be read (a --token-file that names nothing is a mistake). */
  constructor(readonly path: string, private readonly log: Logger) {
    this.refresh(true);
  }

  /** The token as the file holds it now (undefined while the file is empty or unreadable). */
  current(): string | undefined {
    this.refresh(false);
    return this.token;
  }

  private refresh(strict: boolean): void {
    let stamp: string;
    try {
      const st = statSync(this.path);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
      if (stamp === this.stamp) return;
      const text = readFileSync(this.path, 'utf8').trim();
      this.stamp = stamp;
      if (this.token !== undefined && text !== this.token) this.log.info({ file: this.path }, 'token file changed; sending the new token');
      this.token = text || undefined;
      this.problem = text ? '' : 'empty';
      if (!text) this.log.warn({ file: this.path }, 'token file is empty');
    } catch (err) {
      if (strict) throw new Error(`--token-file ${this.path}: ${(err as Error).message}`);
      // Mid-rotation the file may be missing for a moment: keep the token we have.
      const problem = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      if (problem !== this.problem) this.log.warn({ err, file: this.path }, 'token file unreadable; keeping the last token');
      this.problem = problem;
    }
  }
}

/** --token-file, else the default path when it exists, else none. */
export function tokenFilePath(values: Readonly<Record<string, unknown>>): string | undefined {
  if (typeof values.tokenFile === 'string' && values.tokenFile !== '') return values.tokenFile;
  return existsSync(DEFAULT_TOKEN_FILE) ? DEFAULT_TOKEN_FILE : undefined;
}
