// A real etcd, started insecure on purpose (client URL on 0.0.0.0 without client certificates, data dir 755,
// peers on weak, expired certificates), then a real scan of this machine: etcd must be found through /proc
// and judged on what it really runs with.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { scanNode } from '../../../agent/scan.js';
import { NodeReportSchema, type Finding, type NodeReport } from '../../../proto/report.js';
import type { Snapshot } from '../../../agent/facts/snapshot.js';
import { describeWithDaemons, tempDir } from '../../harness/integration.js';
import { ETCD_BIN, startEtcd, type RunningEtcd } from '../../harness/etcd.js';
import { daysFromNow, makeCert, type GeneratedCert } from '../../harness/certs.js';

describeWithDaemons('real etcd: discovery, CIS 2.x, data dir, exposed port, weak peer PKI', { etcd: ETCD_BIN }, () => {
  let etcd: RunningEtcd | undefined;
  let report: NodeReport;
  let snapshot: Snapshot;
  let ca: GeneratedCert;
  let peer: GeneratedCert;
  const files = { ca: '', cert: '', key: '' };

  beforeAll(async () => {
    const dir = tempDir('etcd');
    // Short-lived weak CA, and an expired RSA-1024 SHA-1 peer certificate it signed.
    ca = makeCert({ cn: 'vigil-test-etcd-ca', isCA: true, rsaBits: 1024, hash: 'sha1', notAfter: daysFromNow(5) });
    peer = makeCert({
      cn: 'vigil-test-etcd-peer', issuer: ca, rsaBits: 1024, hash: 'sha1', sans: ['DNS:localhost', 'IP:127.0.0.1'],
      notBefore: daysFromNow(-10), notAfter: daysFromNow(-1),
    });
    files.ca = join(dir.path, 'peer-ca.crt');
    files.cert = join(dir.path, 'peer.crt');
    files.key = join(dir.path, 'peer.key');
    writeFileSync(files.ca, ca.certPem);
    writeFileSync(files.cert, peer.certPem);
    writeFileSync(files.key, peer.keyPemTraditional, { mode: 0o644 });
    etcd = await startEtcd({
      clientHost: '0.0.0.0',
      dataDirMode: 0o755,
      peerTls: { certFile: files.cert, keyFile: files.key, trustedCaFile: files.ca },
    }, dir);
    // Other suites on this shared machine may briefly run an etcd of their own (or a process whose rewritten
    // title ends in "etcd"); two etcds are reported as ambiguous and not judged, so scan again until this
    // test's etcd is the only one.
    for (let attempt = 0; attempt < 15; attempt++) {
      ({ report, snapshot } = await scanNode({ hostRoot: '/', procRoot: '/proc' }));
      if (snapshot.components.etcd?.pid === etcd.pid && !snapshot.components.etcd.candidates) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }, 60_000);
  afterAll(async () => { await etcd?.stop(); });

  const byCis = (cis: string) => report.findings.filter((f) => f.cis === cis);
  const byCheck = (checkId: string, pred: (f: Finding) => boolean = () => true) => report.findings.filter((f) => f.checkId === checkId && pred(f));
  const atPath = (path: string) => (f: Finding) => (f.resource as { path?: string }).path === path;

  it('produces a valid report', () => {
    expect(() => NodeReportSchema.parse(report)).not.toThrow();
  });

  it('finds etcd through /proc with its real flags', () => {
    const found = snapshot.components.etcd;
    expect(found, 'etcd not discovered').toBeDefined();
    expect(found?.pid, `discovered etcd pid ${found?.pid} is not the test's (${etcd?.pid}): another etcd runs on this machine`).toBe(etcd!.pid);
    expect(found).toMatchObject({ source: 'process' });
    expect(found?.flags['listen-client-urls']).toEqual([`http://0.0.0.0:${etcd!.clientPort}`]);
  });

  it('fails the CIS 2.x controls etcd was started without', () => {
    expect(byCis('2.1').map((f) => f.status)).toEqual(['fail']); // no --cert-file / --key-file
    expect(byCis('2.2').map((f) => f.status)).toEqual(['fail']); // no --client-cert-auth
    expect(byCis('2.4').map((f) => f.status)).toEqual(['pass']); // peer cert and key are set
    expect(byCis('2.5').map((f) => f.status)).toEqual(['fail']); // no --peer-client-cert-auth
  });

  it('fails CIS 1.1.11 for the 755 data dir', () => {
    const [f] = byCis('1.1.11');
    expect(f).toMatchObject({ status: 'fail', resource: { kind: 'file', path: etcd!.dataDir } });
  });

  it('reports the client port exposed without client certificates as critical, the loopback peer port as fine', () => {
    const client = byCheck('port-etcd-client-exposed', (f) => f.resource.kind === 'port' && f.resource.port === etcd!.clientPort);
    expect(client).toHaveLength(1);
    expect(client[0]).toMatchObject({
      status: 'fail', severity: 'critical',
      resource: { kind: 'port', port: etcd!.clientPort, pid: etcd!.pid, process: 'etcd' },
    });
    // Go serves 0.0.0.0 on a dual-stack socket: the kernel lists it as tcp6 [::].
    const { protocol, address } = client[0].resource as { protocol: string; address: string };
    expect([['tcp', '0.0.0.0'], ['tcp6', '::']]).toContainEqual([protocol, address]);
    const peerPort = byCheck('port-etcd-peer-exposed', (f) => f.resource.kind === 'port' && f.resource.port === etcd!.peerPort);
    expect(peerPort.map((f) => [f.status, f.resource.kind === 'port' && f.resource.address])).toEqual([['pass', '127.0.0.1']]);
    // Claimed by the etcd rules, so not repeated in the listener inventory.
    expect(byCheck('port-listener', (f) => f.resource.kind === 'port' && f.resource.pid === etcd!.pid)).toEqual([]);
  });

  it('judges the certificates etcd was started with: expired, weak, SHA-1, loose key mode', () => {
    const leaf = snapshot.certificates.find((c) => c.path === files.cert);
    expect(leaf).toMatchObject({ usedBy: ['etcd --peer-cert-file'], keyBits: 1024, signatureAlgorithm: 'sha1WithRSAEncryption', isCA: false });
    expect(byCheck('pki-cert-expiry', atPath(files.cert))).toEqual([expect.objectContaining({ status: 'fail', title: 'Certificate expired' })]);
    expect(byCheck('pki-cert-expiry', atPath(files.ca))).toEqual([expect.objectContaining({ status: 'warn', title: 'Certificate expires soon' })]);
    expect(byCheck('pki-cert-weak-key', atPath(files.cert))[0]?.status).toBe('fail');
    expect(byCheck('pki-cert-weak-key', atPath(files.ca))[0]?.status).toBe('fail');
    expect(byCheck('pki-cert-weak-signature', atPath(files.cert))[0]?.status).toBe('fail');
    expect(byCheck('pki-key-file-permissions', atPath(files.key))[0]).toMatchObject({ status: 'fail', evidence: { value: '644' } });
    expect(byCheck('pki-key-mismatch', atPath(files.key))[0]).toMatchObject({ status: 'pass', evidence: { value: files.cert } });
    const [expired] = byCheck('pki-cert-expiry', atPath(files.cert));
    expect(expired.evidence.sans).toEqual(['DNS:localhost', 'IP Address:127.0.0.1']);
  });

  it('keeps key material out of the report', () => {
    const json = JSON.stringify(report);
    const body = peer.keyPemTraditional.split('\n').slice(1, -2).join('');
    expect(json).not.toContain(body.slice(0, 48));
    expect(json).not.toContain(body.slice(-48));
    expect(json).not.toMatch(/PRIVATE KEY/);
  });
});
