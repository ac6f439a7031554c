// The gRPC server's certificate, key and client CA as files that are read again when they change (the
// deploy's CronJob renews the certificate; the kubelet swaps the Secret's files): new connections get the new
// certificate, open streams keep theirs, no restart. A half-written or mismatched pair is not taken: the last
// good one stays until the files agree again.
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { experimental } from '@grpc/grpc-js';
import type { Logger } from 'pino';

type Provider = experimental.CertificateProvider;
type IdentityListener = experimental.IdentityCertificateUpdateListener;
type CaListener = experimental.CaCertificateUpdateListener;

export interface TlsFileNames {
  certFile: string;
  keyFile: string;
  /** Client certificates are asked for (and verified against this CA) only when it is given. */
  caFile?: string;
}

interface Loaded { cert: Buffer; key: Buffer; ca?: Buffer; digest: string }

function load(files: TlsFileNames): Loaded {
  const cert = readFileSync(files.certFile);
  const key = readFileSync(files.keyFile);
  const ca = files.caFile ? readFileSync(files.caFile) : undefined;
  let matches: boolean;
  try {
    matches = new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
  } catch (err) {
    throw new Error(`${files.certFile}, ${files.keyFile}: not a PEM certificate and key (${(err as Error).message})`);
  }
  if (!matches) throw new Error(`${files.keyFile} is not the key of ${files.certFile}`);
  if (ca) {
    try { new X509Certificate(ca); } catch { throw new Error(`${files.caFile}: not a PEM certificate`); }
  }
  const digest = createHash('sha256').update(cert).update(key).update(ca ?? '').digest('hex');
  return { cert, key, ca, digest };
}

export class ReloadingTlsFiles implements Provider {
  private current: Loaded;
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly caListeners = new Set<CaListener>();
  private timer?: NodeJS.Timeout;
  private lastProblem = '';

  /** Reads the files now: throws when they are missing or do not make a certificate with its key. */
  constructor(private readonly files: TlsFileNames, private readonly log: Logger, private readonly intervalMs = 10_000) {
    this.current = load(files);
  }

  get requestsClientCertificates(): boolean { return this.files.caFile !== undefined; }

  /** Reads the files again; hands a changed, valid set to the server. */
  check(): void {
    let next: Loaded;
    try {
      next = load(this.files);
    } catch (err) {
      const problem = (err as Error).message;
      if (problem !== this.lastProblem) this.log.warn({ err }, 'gRPC TLS files unusable; keeping the certificate in use');
      this.lastProblem = problem;
      return;
    }
    this.lastProblem = '';
    if (next.digest === this.current.digest) return;
    this.current = next;
    this.log.info({ cert: this.files.certFile, notAfter: new X509Certificate(next.cert).validTo }, 'gRPC TLS certificate reloaded');
    this.publish();
  }

  private publish(): void {
    for (const l of this.identityListeners) l({ certificate: this.current.cert, privateKey: this.current.key });
    if (this.current.ca) for (const l of this.caListeners) l({ caCertificate: this.current.ca });
  }

  private watch(): void {
    this.timer ??= setInterval(() => this.check(), this.intervalMs).unref();
  }

  private unwatch(): void {
    if (this.identityListeners.size + this.caListeners.size > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    this.watch();
    process.nextTick(listener, { certificate: this.current.cert, privateKey: this.current.key });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
    this.unwatch();
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    this.watch();
    if (this.current.ca) process.nextTick(listener, { caCertificate: this.current.ca });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
    this.unwatch();
  }

  close(): void {
    this.identityListeners.clear();
    this.caListeners.clear();
    this.unwatch();
  }
}
