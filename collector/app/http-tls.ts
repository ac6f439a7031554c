// HTTPS for the REST, metrics and health listener (--http-tls-cert, --http-tls-key), with the pair reloaded while
// the collector runs: cert-manager and mounted Secrets replace the files (often by swapping a symlink), so the files
// are read again every few seconds and a changed, consistent pair replaces the served one without a restart.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';

export interface HttpTlsFiles {
  certFile: string;
  keyFile: string;
}

interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

/** How often the files are read again. */
const TLS_RELOAD_MS = 5_000;

/** Reads the pair and checks that the key matches the certificate; the error names the files. */
export function readTlsPair(files: HttpTlsFiles): TlsPair {
  const pair = { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
  try {
    createSecureContext(pair);
  } catch (err) {
    throw new Error(`--http-tls-cert ${files.certFile} and --http-tls-key ${files.keyFile} are not a usable pair: ${(err as Error).message}`);
  }
  return pair;
}

/** What the reloader swaps the pair into: the HTTPS server. */
interface SecureContextTarget {
  setSecureContext(options: TlsPair): void;
}

export class TlsReloader {
  private timer: NodeJS.Timeout | undefined;
  /** The pair served now, and the last pair refused (so a half-written update is logged once, not every poll). */
  private served: TlsPair;
  private refused: string | undefined;

  constructor(private readonly files: HttpTlsFiles, initial: TlsPair, private readonly server: SecureContextTarget,
    private readonly log: Logger, private readonly intervalMs = TLS_RELOAD_MS) {
    this.served = initial;
  }

  start(): void {
    this.timer = setInterval(() => this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Reads the files; serves them when they changed and form a pair. */
  check(): void {
    let cert: Buffer;
    let key: Buffer;
    try {
      cert = readFileSync(this.files.certFile);
      key = readFileSync(this.files.keyFile);
    } catch (err) {
      this.refuse(`${(err as Error).message}`, err);
      return;
    }
    if (cert.equals(this.served.cert) && key.equals(this.served.key)) return;
    try {
      const pair = readTlsPair(this.files);
      this.server.setSecureContext(pair);
      this.served = pair;
      this.refused = undefined;
      this.log.info({ cert: this.files.certFile }, 'HTTPS certificate reloaded');
    } catch (err) {
      this.refuse((err as Error).message, err);
    }
  }

  private refuse(reason: string, err: unknown): void {
    if (this.refused === reason) return;
    this.refused = reason;
    this.log.warn({ err, cert: this.files.certFile, key: this.files.keyFile }, 'HTTPS certificate not reloaded; still serving the previous one');
  }
}
