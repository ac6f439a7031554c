import { describe, expect, it } from 'vitest';
import { lastFlag, listFlag, parseFeatureGates, parseFlags } from '../../agent/gather/flags.js';
import { parseGoBool as parseBool } from '../../common/bool.js';

describe('parseFlags', () => {
  it('reads --flag=value, --flag value, bare booleans, single-dash and repeats', () => {
    const f = parseFlags(['--config=/etc/k.yaml', '--kubeconfig', '/etc/kubernetes/kubelet.conf', '--profiling',
      '-data-dir=/var/lib/etcd', '--enable-admission-plugins=NodeRestriction', '--enable-admission-plugins', 'AlwaysPullImages,EventRateLimit']);
    expect(lastFlag(f, 'config')).toBe('/etc/k.yaml');
    expect(lastFlag(f, 'kubeconfig')).toBe('/etc/kubernetes/kubelet.conf');
    expect(lastFlag(f, 'profiling')).toBe('true');
    expect(lastFlag(f, 'data-dir')).toBe('/var/lib/etcd');
    expect(listFlag(f, 'enable-admission-plugins')).toEqual(['NodeRestriction', 'AlwaysPullImages', 'EventRateLimit']);
  });

  it('never lets a boolean flag swallow the next argument (pflag semantics)', () => {
    const f = parseFlags(['--anonymous-auth', 'false', '--v', '2']);
    expect(f['anonymous-auth']).toEqual(['true']);
    expect(lastFlag(f, 'v')).toBe('2');
  });

  it('takes the last value of a repeated scalar flag', () => {
    expect(lastFlag(parseFlags(['--read-only-port=0', '--read-only-port=10255']), 'read-only-port')).toBe('10255');
  });

  it('keeps values with = and ignores positional arguments', () => {
    const f = parseFlags(['positional', '--feature-gates=A=true,B=false', '--']);
    expect(parseFeatureGates(f['feature-gates'])).toEqual({ A: true, B: false });
    expect(Object.keys(f)).toEqual(['feature-gates']);
  });

  it('parses booleans the way Go does', () => {
    expect([parseBool('1'), parseBool('t'), parseBool('False'), parseBool('yes')]).toEqual([true, true, false, undefined]);
  });
});
