// Test PKI for the delivery tests, made with the openssl CLI: a CA, a collector server certificate for
// 127.0.0.1/localhost, and client certificates naming a node (CN and DNS SAN).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertFiles { cert: string; key: string }
export interface TestPki {
  dir: string;
  ca: string;
  server: CertFiles;
  /** Issues (once) a client certificate whose CN and DNS SAN are the node name. */
  client(node: string): CertFiles;
  /** Buffers for the TLS options of the agent's gRPC sender. */
  clientTls(node: string): { ca: Buffer; cert: Buffer; key: Buffer };
  /** A client certificate as given: its subject, its subjectAltName list, its extended key usage. */
  custom(name: string, subject: string, san: string, usage: string): CertFiles;
}

const openssl = (args: string[], cwd: string): void => {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
};

function issue(dir: string, name: string, subject: string, san: string | undefined, usage: string): CertFiles {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, `${san ? `subjectAltName=${san}\n` : ''}extendedKeyUsage=${usage}\nbasicConstraints=CA:FALSE\n`);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key,
    '-out', csr, '-subj', subject], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
    '-out', cert, '-extfile', ext], dir);
  return { cert, key };
}

export function createTestPki(dir: string): TestPki {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key',
    '-out', 'ca.crt', '-days', '2', '-subj', '/CN=vigil-test-ca'], dir);
  const server = issue(dir, 'collector', '/CN=vigil-collector', 'DNS:localhost,IP:127.0.0.1', 'serverAuth');
  const clients = new Map<string, CertFiles>();
  const client = (node: string): CertFiles => {
    let c = clients.get(node);
    if (!c) {
      c = issue(dir, `agent-${node}`, `/O=system:nodes/CN=${node}`, `DNS:${node}`, 'clientAuth');
      clients.set(node, c);
    }
    return c;
  };
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    server,
    client,
    custom: (name, subject, san, usage) => issue(dir, `custom-${name}`, subject, san || undefined, usage),
    clientTls: (node) => {
      const c = client(node);
      return { ca: readFileSync(join(dir, 'ca.crt')), cert: readFileSync(c.cert), key: readFileSync(c.key) };
    },
  };
}
