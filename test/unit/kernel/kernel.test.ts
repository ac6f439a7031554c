import { afterEach, describe, expect, it } from 'vitest';
import { HostAccess } from '../../../agent/gather/host.js';
import { gatherKernel } from '../../../agent/gather/kernel/index.js';
import { kernelChecks } from '../../../agent/evaluate/checks/kernel.js';
import { evaluate } from '../../../agent/evaluate/check.js';
import { FindingSchema, type Finding } from '../../../proto/report.js';
import type { KernelFact } from '../../../agent/facts/kernel.js';
import type { Snapshot } from '../../../agent/facts/snapshot.js';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { component, emptySnapshot, settings } from '../sockets/snapshot.js';

const GOOD = {
  'sys/vm/overcommit_memory': '1\n',
  'sys/vm/panic_on_oom': '0\n',
  'sys/kernel/panic': '10\n',
  'sys/kernel/panic_on_oops': '1\n',
  'sys/kernel/keys/root_maxkeys': '1000000\n',
  'sys/kernel/keys/root_maxbytes': '25000000\n',
  'sys/user/max_user_namespaces': '63000\n',
  'sys/kernel/kptr_restrict': '1\n',
  'sys/kernel/dmesg_restrict': '0\n',
};

let built: BuiltHost | undefined;
afterEach(() => { built?.cleanup(); built = undefined; });

describe('gatherKernel', () => {
  it('reads sysctls under the proc root and AppArmor under the host root', () => {
    built = buildHost({
      procFiles: { ...GOOD, 'sys/kernel/unprivileged_userns_clone': '0\n' },
      files: { '/sys/module/apparmor/parameters/enabled': 'Y\n', '/sys/fs/cgroup': { dir: true } },
    });
    const k = gatherKernel(new HostAccess(built));
    expect(k.sysctls).toMatchObject({ 'vm.overcommit_memory': '1', 'kernel.keys.root_maxkeys': '1000000', 'kernel.unprivileged_userns_clone': '0', 'kernel.dmesg_restrict': '0' });
    expect(k.missing).toEqual([]);
    expect(k.appArmorEnabled).toBe(true);
    expect(k.seLinux).toBe('disabled');
    expect(k.errors).toEqual([]);
  });

  it('records missing sysctls, SELinux permissive, and read errors without throwing', () => {
    built = buildHost({
      procFiles: { 'sys/vm/overcommit_memory': '0\n' },
      files: {
        '/sys/fs/selinux/enforce': '0\n',
        '/sys/module/apparmor/parameters/enabled': { dir: true },
        // A directory where a sysctl file should be (the proc root is <host>/proc): a read error, not a crash.
        '/proc/sys/kernel/panic/x': 'y',
      },
    });
    const k = gatherKernel(new HostAccess(built));
    expect(k.sysctls).toEqual({ 'vm.overcommit_memory': '0' });
    expect(k.missing).toContain('kernel.unprivileged_userns_clone');
    expect(k.missing).not.toContain('kernel.panic');
    expect(k.seLinux).toBe('permissive');
    expect(k.appArmorEnabled).toBeUndefined();
    expect(k.errors.map((e) => e.code).sort()).toEqual(['EISDIR', 'EISDIR']);
  });

  it('reads this machine', () => {
    const k = gatherKernel(new HostAccess({ hostRoot: '/', procRoot: '/proc' }));
    expect(k.sysctls['kernel.panic']).toMatch(/^-?\d+$/);
  });
});

function kernelSnapshot(kernel: Partial<KernelFact>, protect?: boolean): Snapshot {
  return emptySnapshot({
    components: protect === undefined ? {} : { kubelet: component('kubelet', 1, ['kubelet']) },
    kubelet: protect === undefined ? undefined : { configLoaded: true, dropIns: [], errors: [], settings: settings({ protectKernelDefaults: protect }) },
    kernel: { sysctls: {}, missing: [], errors: [], ...kernel },
  });
}
function run(s: Snapshot): Finding[] {
  const findings = evaluate(s, kernelChecks);
  for (const f of findings) FindingSchema.parse(f);
  return findings;
}
const sysctls = (over: Record<string, string> = {}) => ({
  'vm.overcommit_memory': '1', 'vm.panic_on_oom': '0', 'kernel.panic': '10', 'kernel.panic_on_oops': '1',
  'kernel.keys.root_maxkeys': '1000000', 'kernel.keys.root_maxbytes': '25000000', ...over,
});
const protectedOf = (findings: Finding[]) => Object.fromEntries(findings
  .filter((f) => f.checkId === 'kernel-protect-defaults')
  .map((f) => [f.resource.kind === 'kernel' ? f.resource.key : '', `${f.status}/${f.severity}`]));

describe('kernel checks', () => {
  it('judges the protected sysctls together with protectKernelDefaults', () => {
    const bad = sysctls({ 'kernel.panic': '0', 'kernel.keys.root_maxkeys': '2000000', 'vm.overcommit_memory': 'garbage' });
    expect(protectedOf(run(kernelSnapshot({ sysctls: bad }, true)))).toEqual({
      'vm.overcommit_memory': 'fail/high', 'vm.panic_on_oom': 'pass/medium', 'kernel.panic': 'fail/high',
      'kernel.panic_on_oops': 'pass/medium', 'kernel.keys.root_maxkeys': 'fail/high', 'kernel.keys.root_maxbytes': 'pass/medium',
    });
    expect(protectedOf(run(kernelSnapshot({ sysctls: bad }, false)))).toMatchObject({
      'vm.overcommit_memory': 'warn/medium', 'kernel.panic': 'warn/medium', 'vm.panic_on_oom': 'pass/medium',
    });
    const good = run(kernelSnapshot({ sysctls: sysctls() }, false)).find((f) => f.checkId === 'kernel-protect-defaults');
    expect(good?.evidence.detail).toMatch(/silently overwrite/);
  });

  it('needs the exact keyring quotas, as the kubelet compares them (a larger quota stops a protecting kubelet too)', () => {
    const larger = sysctls({ 'kernel.keys.root_maxkeys': '2000000', 'kernel.keys.root_maxbytes': '50000000' });
    const findings = run(kernelSnapshot({ sysctls: larger }, true)).filter((f) => f.checkId === 'kernel-protect-defaults');
    expect(protectedOf(findings)).toMatchObject({ 'kernel.keys.root_maxkeys': 'fail/high', 'kernel.keys.root_maxbytes': 'fail/high' });
    const maxkeys = findings.find((f) => f.resource.kind === 'kernel' && f.resource.key === 'kernel.keys.root_maxkeys');
    expect(maxkeys?.evidence).toMatchObject({ expected: '1000000', value: '2000000' });
    expect(maxkeys?.evidence.detail).toMatch(/refuses to start/);
  });

  it('does not judge the protected sysctls without a kubelet, and skips or errors on unreadable ones', () => {
    expect(protectedOf(run(kernelSnapshot({ sysctls: sysctls() })))).toEqual({});
    const partial = { 'vm.overcommit_memory': '1' };
    const findings = run(kernelSnapshot({
      sysctls: partial, missing: ['vm.panic_on_oom'],
      errors: [{ path: '/proc/sys/kernel/panic', code: 'EACCES', message: 'denied' }],
    }, true));
    expect(protectedOf(findings)).toMatchObject({ 'vm.overcommit_memory': 'pass/medium', 'vm.panic_on_oom': 'skip/medium', 'kernel.panic': 'error/medium' });
  });

  it('warns on unprivileged user namespaces through either switch', () => {
    const status = (k: Partial<KernelFact>) => run(kernelSnapshot(k)).find((f) => f.checkId === 'kernel-unprivileged-userns');
    expect(status({ sysctls: { 'kernel.unprivileged_userns_clone': '1', 'user.max_user_namespaces': '100' } })).toMatchObject({ status: 'warn', resource: { key: 'kernel.unprivileged_userns_clone' } });
    expect(status({ sysctls: { 'kernel.unprivileged_userns_clone': '0', 'user.max_user_namespaces': '100' } })?.status).toBe('pass');
    expect(status({ sysctls: { 'user.max_user_namespaces': '100' }, missing: ['kernel.unprivileged_userns_clone'] })).toMatchObject({ status: 'warn', resource: { key: 'user.max_user_namespaces' } });
    expect(status({ sysctls: { 'user.max_user_namespaces': '0' } })?.status).toBe('pass');
  });

  it('checks kptr_restrict, dmesg_restrict and the LSM', () => {
    const byId = (k: Partial<KernelFact>) => Object.fromEntries(run(kernelSnapshot(k)).map((f) => [f.checkId, f.status]));
    expect(byId({ sysctls: { 'kernel.kptr_restrict': '2', 'kernel.dmesg_restrict': '0' }, appArmorEnabled: false, seLinux: 'disabled' }))
      .toMatchObject({ 'kernel-kptr-restrict': 'pass', 'kernel-dmesg-restrict': 'fail', 'kernel-lsm': 'fail' });
    expect(byId({ appArmorEnabled: true })).toMatchObject({ 'kernel-lsm': 'pass', 'kernel-kptr-restrict': 'skip' });
    expect(byId({ appArmorEnabled: false, seLinux: 'permissive' })).toMatchObject({ 'kernel-lsm': 'warn' });
    expect(byId({ seLinux: 'enforcing' })).toMatchObject({ 'kernel-lsm': 'pass' });
    expect(byId({ errors: [{ path: '/sys/module/apparmor/parameters/enabled', code: 'EACCES', message: 'x' }] })).toMatchObject({ 'kernel-lsm': 'error' });
  });
});
