// Command lines read the way each component reads them (pflag for Kubernetes, Go's flag package for etcd), and a
// command line the component would refuse gives `error` findings with the argv in evidence, never a pass.
import { afterEach, describe, expect, it } from 'vitest';
import { parseComponentArgs } from '../../../agent/gather/flags.js';
import { scanNode } from '../../../agent/scan.js';
import type { Finding, NodeReport } from '../../../proto/report.js';
import type { ComponentName } from '../../../agent/facts/snapshot.js';
import { buildHost, type BuiltHost, type FileSpec, type HostSpec } from '../../fixtures/build.js';
import { kubeadmControllerManagerFlags, proc, UBUNTU_OS_RELEASE } from '../../fixtures/hosts/kubeadm.js';
import { hardenedWorkerFiles, hardenedWorkerProcs, WORKER_PIDS } from '../../fixtures/hosts/hardened-worker.js';

const parse = (component: ComponentName, ...args: string[]) => parseComponentArgs(component, args);
const refused = (component: ComponentName, ...args: string[]) => parse(component, ...args).problems.filter((p) => p.kind === 'refused');

describe('pflag, as the Kubernetes components parse their command line', () => {
  it('a non-boolean flag takes the next argument whatever it looks like', () => {
    const r = parse('kube-apiserver', '--audit-log-path', '--profiling=false');
    expect(r.flags['audit-log-path']).toEqual(['--profiling=false']);
    expect(r.flags.profiling).toBeUndefined();
    expect(r.problems).toEqual([]);
    expect(parse('kube-controller-manager', '--terminated-pod-gc-threshold', '-5').flags['terminated-pod-gc-threshold']).toEqual(['-5']);
  });

  it('a non-boolean flag at the end is a parse error', () => {
    expect(refused('kube-controller-manager', '--profiling=false', '--terminated-pod-gc-threshold'))
      .toEqual([{ kind: 'refused', flag: 'terminated-pod-gc-threshold', message: 'flag needs an argument: --terminated-pod-gc-threshold' }]);
    expect(refused('kube-proxy', '--metrics-bind-address')[0]?.message).toBe('flag needs an argument: --metrics-bind-address');
    expect(refused('kubelet', '--read-only-port')[0]?.message).toBe('flag needs an argument: --read-only-port');
  });

  it('a boolean takes --x and --x=value only; `--x false` leaves a positional the component refuses', () => {
    expect(parse('kube-apiserver', '--profiling').flags.profiling).toEqual(['true']);
    expect(parse('kube-apiserver', '--profiling=F').flags.profiling).toEqual(['F']);
    expect(refused('kube-apiserver', '--anonymous-auth', 'false')[0]?.message).toMatch(/takes no arguments besides flags, got \["false"\]/);
    expect(refused('kubelet', '--anonymous-auth', 'false')).toHaveLength(1);
    for (const bad of ['yes', 'no', '']) expect(refused('kube-apiserver', `--profiling=${bad}`), bad).toHaveLength(1);
  });

  it('values are checked the way the flag type parses them', () => {
    expect(refused('kube-controller-manager', '--terminated-pod-gc-threshold=ten')[0]?.message)
      .toMatch(/invalid argument "ten" for "--terminated-pod-gc-threshold" flag: not an integer/);
    expect(refused('kube-controller-manager', '--terminated-pod-gc-threshold=3000000000')[0]?.message).toMatch(/out of range for int32/);
    for (const ok of ['0x10', '0o17', '017', '1_000', '-5', '+7', '0b101']) {
      expect(refused('kube-controller-manager', `--terminated-pod-gc-threshold=${ok}`), ok).toEqual([]);
    }
    expect(refused('kube-controller-manager', '--terminated-pod-gc-threshold', '--leader-elect=false')).toHaveLength(1);
    expect(refused('kube-apiserver', '--request-timeout=60')).toHaveLength(1); // a duration needs a unit
    expect(refused('kube-apiserver', '--request-timeout=1m30s')).toEqual([]);
    expect(refused('kubelet', '--address=not-an-ip')).toHaveLength(1);
    expect(refused('kubelet', '--feature-gates=RotateKubeletServerCertificate')).toHaveLength(1);
    expect(refused('kubelet', '--feature-gates=RotateKubeletServerCertificate=true, A=false')).toEqual([]);
    expect(refused('kube-apiserver', '--v=x')).toHaveLength(1);
  });

  it('normalises _ to - in names, handles -v shorthands and refuses other single-dash words', () => {
    expect(parse('kube-apiserver', '--audit_log_path=/var/log/a.log').flags['audit-log-path']).toEqual(['/var/log/a.log']);
    expect(parse('kubelet', '-v=4', '-v', '5', '-v6').flags.v).toEqual(['4', '5', '6']);
    expect(refused('kube-apiserver', '-profiling')[0]?.message).toBe("unknown shorthand flag: 'p' in -profiling");
    expect(refused('kube-apiserver', '-audit-log-path=/x')).toHaveLength(1);
    expect(refused('kube-scheduler', '-h')).toHaveLength(1);
    expect(refused('kube-scheduler', '--help')).toHaveLength(1);
  });

  it('-- ends the flags; what follows is a positional the component refuses', () => {
    const r = parse('kube-apiserver', '--', '--profiling=false');
    expect(r.flags.profiling).toBeUndefined();
    expect(r.problems.map((p) => p.kind)).toEqual(['refused']);
    expect(parse('kube-apiserver', '--profiling=false', '--').problems).toEqual([]);
  });

  it('flags after a positional are still read, and the positional is refused', () => {
    const r = parse('kube-scheduler', 'pos1', '--profiling=false');
    expect(r.flags.profiling).toEqual(['false']);
    expect(r.problems.map((p) => p.kind)).toEqual(['refused']);
  });

  it('an unknown flag followed by a flag makes that flag ambiguous, not a verdict', () => {
    const r = parse('kube-apiserver', '--some-future-flag', '--profiling=false');
    expect(r.flags.profiling).toEqual(['false']);
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'ambiguous', flag: 'profiling' })]);
    // Followed by a plain word it must have taken it as its value: a positional would stop the component.
    expect(parse('kube-apiserver', '--some-future-flag', 'value', '--profiling=false').problems).toEqual([]);
  });

  it('repeats: the last scalar wins, lists append (as recorded)', () => {
    const r = parse('kube-controller-manager', '--terminated-pod-gc-threshold=1', '--terminated-pod-gc-threshold=2');
    expect(r.flags['terminated-pod-gc-threshold']).toEqual(['1', '2']);
  });
});

describe("Go's flag package, as etcd parses its command line", () => {
  it('one or two dashes alike; non-booleans take the next argument whatever it is', () => {
    expect(parse('etcd', '-name', 'a', '--data-dir=/d').flags).toEqual({ name: ['a'], 'data-dir': ['/d'] });
    expect(parse('etcd', '--name', '--bogus').flags.name).toEqual(['--bogus']);
  });

  it('stops at the first non-flag, which etcd refuses', () => {
    const r = parse('etcd', '--client-cert-auth', 'false', '--cert-file=/c');
    expect(r.flags).toEqual({ 'client-cert-auth': ['true'] });
    expect(r.problems[0]).toMatchObject({ kind: 'refused', message: expect.stringMatching(/'false' is not a valid flag/) });
    expect(refused('etcd', '--', '--name', 'a')).toHaveLength(1);
  });

  it('a non-boolean at the end, a bad boolean and a bad number are errors; names are not normalised', () => {
    expect(refused('etcd', '--name')[0]?.message).toBe('flag needs an argument: -name');
    expect(refused('etcd', '--client-cert-auth=maybe')).toHaveLength(1);
    expect(refused('etcd', '--snapshot-count=lots')).toHaveLength(1);
    expect(parse('etcd', '--data_dir=/x').flags).toEqual({ data_dir: ['/x'] });
  });
});

let host: BuiltHost | undefined;
afterEach(() => { host?.cleanup(); host = undefined; });

async function scan(spec: HostSpec, only: string[]): Promise<NodeReport> {
  host = buildHost(spec);
  return (await scanNode({ hostRoot: host.hostRoot, procRoot: host.procRoot, only })).report;
}
const base = (): Record<string, FileSpec | string> => ({ '/etc/os-release': UBUNTU_OS_RELEASE });
const by = (r: NodeReport, cis: string): Finding[] => r.findings.filter((f) => f.cis === cis);

describe('findings on command lines the component would refuse or that Vigil cannot read for sure', () => {
  it('kube-controller-manager … --terminated-pod-gc-threshold (last): 1.3.1 is an error with the argv, not a pass', async () => {
    const argv = ['kube-controller-manager', ...kubeadmControllerManagerFlags(), '--terminated-pod-gc-threshold'];
    const r = await scan({ files: base(), procs: [proc(500, argv)] }, ['1.3.1', '1.3.2']);
    const [f] = by(r, '1.3.1');
    expect(f).toMatchObject({ status: 'error', evidence: { argv, detail: expect.stringMatching(/would refuse this command line: flag needs an argument/) } });
    expect(by(r, '1.3.2').map((x) => x.status)).toEqual(['error']);
  });

  it('kube-apiserver --audit-log-path --profiling=false: profiling stays on (1.2.15 fail)', async () => {
    const r = await scan({ files: base(), procs: [proc(501, ['kube-apiserver', '--audit-log-path', '--profiling=false', '--authorization-mode=Node,RBAC'])] }, ['1.2.15', '1.2.16']);
    expect(by(r, '1.2.15').map((f) => f.status)).toEqual(['fail']);
    expect(JSON.stringify(by(r, '1.2.16'))).toContain('--profiling=false'); // the audit log path
  });

  it('an invalid threshold is an error for "set as appropriate", a valid one passes', async () => {
    const bad = await scan({ files: base(), procs: [proc(502, ['kube-controller-manager', '--terminated-pod-gc-threshold=lots'])] }, ['1.3.1']);
    expect(by(bad, '1.3.1').map((f) => f.status)).toEqual(['error']);
    host!.cleanup();
    const good = await scan({ files: base(), procs: [proc(502, ['kube-controller-manager', '--terminated-pod-gc-threshold=10'])] }, ['1.3.1']);
    expect(by(good, '1.3.1').map((f) => f.status)).toEqual(['pass']);
  });

  it('a value that depends on an unknown flag is an error; the manifest of a static pod is read the same way', async () => {
    const r = await scan({ files: base(), procs: [proc(503, ['kube-apiserver', '--made-up-flag', '--anonymous-auth=false'])] }, ['1.2.1', '1.2.15']);
    expect(by(r, '1.2.1')[0]).toMatchObject({ status: 'error', evidence: { detail: expect.stringMatching(/--made-up-flag, a flag Vigil does not know/) } });
    expect(by(r, '1.2.15').map((f) => f.status)).toEqual(['fail']); // profiling is not what the unknown flag could swallow
  });

  it('etcd with `--client-cert-auth false`, and an ETCD_* value etcd would refuse: errors', async () => {
    const r = await scan({ files: base(), procs: [proc(504, ['etcd', '--client-cert-auth', 'false', '--data-dir=/var/lib/etcd'])] }, ['2.2']);
    expect(by(r, '2.2').map((f) => f.status)).toEqual(['error']);
    host!.cleanup();
    const env = await scan({ files: base(), procs: [proc(504, ['etcd', '--data-dir=/var/lib/etcd'], { env: { ETCD_CLIENT_CERT_AUTH: 'maybe' } })] }, ['2.2']);
    expect(by(env, '2.2')[0]).toMatchObject({ status: 'error', evidence: { detail: expect.stringMatching(/ETCD_CLIENT_CERT_AUTH="maybe"/) } });
  });

  it('kubelet: a flag without its value at the end makes every kubelet setting an error', async () => {
    const procs = hardenedWorkerProcs().map((p) => (p.pid === WORKER_PIDS.kubelet ? { ...p, argv: [...(p.argv as string[]), '--read-only-port'] } : p));
    const r = await scan({ files: hardenedWorkerFiles(), procs }, ['4.2.1', '4.2.4']);
    expect(by(r, '4.2.1').map((f) => f.status)).toEqual(['error']);
    expect(by(r, '4.2.4').map((f) => f.status)).toEqual(['error']);
  });
});

describe('kubelet config fields of the wrong YAML type', () => {
  /** The hardened worker's config with some top-level keys given other values. */
  const withConfig = (values: Record<string, string>): HostSpec => {
    const files = hardenedWorkerFiles();
    let content = String((files['/var/lib/kubelet/config.yaml'] as FileSpec).content);
    for (const [key, value] of Object.entries(values)) {
      expect(content, key).toMatch(new RegExp(`^${key}:`, 'm'));
      content = content.replace(new RegExp(`^${key}:.*$`, 'm'), `${key}: ${value}`);
    }
    files['/var/lib/kubelet/config.yaml'] = { content, mode: 0o600 };
    return { files, procs: hardenedWorkerProcs() };
  };

  it('tlsCertFile: 1111 is a config the kubelet would refuse: an error, not a path', async () => {
    const r = await scan(withConfig({ tlsCertFile: '1111' }), ['4.2.9', '4.2.1']);
    expect(by(r, '4.2.1').map((f) => f.status)).toEqual(['pass']); // the file still loads
    expect(by(r, '4.2.9')[0]).toMatchObject({
      status: 'error',
      evidence: { source: 'config-file', key: 'tlsCertFile', value: 1111, detail: expect.stringMatching(/kubelet would refuse this config file, it expects a string/) },
    });
  });

  it('readOnlyPort: "0" (a string) and an unparsable duration are errors too', async () => {
    const r = await scan(withConfig({ readOnlyPort: '"0"', streamingConnectionIdleTimeout: '5 minutes' }), ['4.2.4', '4.2.5', '4.2.1']);
    expect(by(r, '4.2.4').map((f) => f.status)).toEqual(['error']);
    expect(by(r, '4.2.5').map((f) => f.status)).toEqual(['error']);
    expect(by(r, '4.2.1').map((f) => f.status)).toEqual(['pass']);
  });
});
