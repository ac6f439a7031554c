// URL userinfo is removed from every command-line value before it becomes a fact, in time linear in the text.
import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../../common/address.js';
import { HostAccess } from '../../../agent/gather/host.js';
import { gatherPki } from '../../../agent/gather/pki/index.js';
import { buildHost } from '../../fixtures/build.js';
import { makeCert } from '../../harness/certs.js';

describe('redactUrl on what command lines hold', () => {
  it('removes user:password@ up to the last @ of the authority, in lists and key=value forms', () => {
    expect(redactUrl('--etcd-servers=https://u:p@ss@10.0.0.1:2379,https://v:w@10.0.0.2:2379/x@y'))
      .toBe('--etcd-servers=https://10.0.0.1:2379,https://10.0.0.2:2379/x@y');
    expect(redactUrl('a=https://u:pa,ss@10.0.0.1:2380')).toBe('a=https://10.0.0.1:2380');
    expect(redactUrl('https://10.0.0.1:2379')).toBe('https://10.0.0.1:2379');
    expect(redactUrl('user@host:/path')).toBe('user@host:/path');
  });

  it('takes linear time on megabytes of hostile text', () => {
    for (const hostile of ['v'.repeat(2_000_000), 'a://'.repeat(500_000), `https://${'x'.repeat(1_000_000)}`, 'ab:'.repeat(500_000) + '//']) {
      const started = performance.now();
      redactUrl(hostile);
      expect(performance.now() - started, hostile.slice(0, 12)).toBeLessThan(500);
    }
  });
});

describe('certificate facts', () => {
  it('a URI SAN with userinfo is kept without it', () => {
    const cert = makeCert({ cn: 'svc', sans: ['DNS:svc.local', 'URI:https://svc-user:svc-pass@svc.local:8443/x'] });
    const built = buildHost({ files: { '/etc/kubernetes/pki/svc.crt': cert.certPem } });
    try {
      const pki = gatherPki(new HostAccess(built), {}, undefined);
      const sans = pki.certificates.find((c) => c.path === '/etc/kubernetes/pki/svc.crt')?.sans;
      expect(sans).toEqual(['DNS:svc.local', 'URI:https://svc.local:8443/x']);
    } finally {
      built.cleanup();
    }
  });
});
