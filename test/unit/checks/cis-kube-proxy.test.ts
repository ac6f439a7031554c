// kube-proxy 4.3.1: metrics bind address from the flag, or from the --config file that overrides it.
import { describe, expect, it } from 'vitest';
import type { KubeProxyConfigFact } from '../../../agent/facts/snapshot.js';
import { emptySnapshot, withComponent } from './snapshot-factory.js';
import { one } from './cis-profiles.js';

const proxy = (args: string[], config?: KubeProxyConfigFact) => {
  const s = emptySnapshot();
  if (config) s.kubeProxyConfig = config;
  return withComponent(s, 'kube-proxy', args);
};
const CONFIG = '/var/lib/kube-proxy/config.conf';

describe('4.3.1 kube-proxy metrics bind address', () => {
  it.each([
    ['127.0.0.1:10249', 'pass'], ['127.0.0.1', 'pass'], ['[::1]:10249', 'pass'], ['::1', 'pass'], ['localhost:10249', 'pass'],
    ['0.0.0.0:10249', 'fail'], ['[::]:10249', 'fail'], ['10.0.0.4:10249', 'fail'], [':10249', 'fail'], ['', 'pass'],
  ])('flag %j → %s', (value, status) => {
    expect(one('cis-4.3.1', proxy([`--metrics-bind-address=${value}`])).status).toBe(status);
  });

  it('passes when unset: kube-proxy defaults to 127.0.0.1:10249', () => {
    const v = one('cis-4.3.1', proxy([]));
    expect(v).toMatchObject({ status: 'pass', evidence: { source: 'default', value: '127.0.0.1:10249' } });
  });

  it('judges the config file and ignores the flag when --config is set', () => {
    const v = one('cis-4.3.1', proxy([`--config=${CONFIG}`, '--metrics-bind-address=127.0.0.1:10249'], { path: CONFIG, metricsBindAddress: '0.0.0.0:10249' }));
    expect(v).toMatchObject({ status: 'fail', evidence: { source: 'config-file', path: CONFIG, value: '0.0.0.0:10249' } });
    expect(v.evidence.detail).toContain('ignored');
    expect(one('cis-4.3.1', proxy([`--config=${CONFIG}`], { path: CONFIG, metricsBindAddress: '127.0.0.1:10249' })).status).toBe('pass');
  });

  it('uses the default when the config file does not set it', () => {
    const v = one('cis-4.3.1', proxy([`--config=${CONFIG}`, '--metrics-bind-address=0.0.0.0:10249'], { path: CONFIG }));
    expect(v).toMatchObject({ status: 'pass', evidence: { source: 'default', path: CONFIG, value: '127.0.0.1:10249' } });
  });

  it('errors when the config file could not be read', () => {
    const err = { path: CONFIG, code: 'ENOENT', message: 'no such file' };
    expect(one('cis-4.3.1', proxy([`--config=${CONFIG}`], { path: CONFIG, error: err })).status).toBe('error');
    expect(one('cis-4.3.1', proxy([`--config=${CONFIG}`])).status).toBe('error');
  });

  it('skips when kube-proxy does not run', () => {
    expect(one('cis-4.3.1', emptySnapshot())).toMatchObject({ status: 'skip', evidence: { source: 'discovery' } });
  });
});
