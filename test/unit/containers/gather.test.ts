import { afterEach, describe, expect, it } from 'vitest';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { HostAccess } from '../../../agent/gather/host.js';
import { gatherContainers } from '../../../agent/gather/containers/index.js';
import { decodeCapabilityMask } from '../../../agent/gather/containers/capabilities.js';
import { mountOrigin } from '../../../agent/gather/containers/mount-origin.js';
import { parseOciSpec, identityFromAnnotations } from '../../../agent/gather/containers/oci-spec.js';
import { declaredFromCriContainerConfig, declaredFromCriSandboxConfig } from '../../../agent/gather/containers/cri-config.js';
import { containerdHost, containerId, ociSpec, sandboxId, STATE, CONTAINERD_PID, type FakeContainer } from './fixtures.js';

let built: BuiltHost | undefined;
afterEach(() => { built?.cleanup(); built = undefined; });

async function gather(containers: FakeContainer[], extra = {}, opts: { criSocket?: string; containerdStateDir?: string } = {}) {
  built = buildHost(containerdHost(containers, extra));
  const host = new HostAccess(built);
  return gatherContainers(host, { ...built, ...opts }, {});
}

describe('capability masks', () => {
  it('decodes a privileged CapEff and an empty one', () => {
    const all = decodeCapabilityMask('000001fffeffffff')!;
    expect(all).toHaveLength(40);
    expect(all).toContain('SYS_ADMIN');
    expect(all).not.toContain('SYS_RESOURCE');
    expect(decodeCapabilityMask('00000000a82425fb')).toContain('SYS_ADMIN');
    expect(decodeCapabilityMask('0000000000000000')).toEqual([]);
  });
  it('refuses garbage', () => {
    expect(decodeCapabilityMask('zz')).toBeUndefined();
    expect(decodeCapabilityMask('1'.repeat(17))).toBeUndefined();
  });
});

describe('mount origins', () => {
  it.each([
    ['/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/' + 'a'.repeat(64) + '/hosts', 'bind', 'runtime'],
    ['/run/containerd/io.containerd.grpc.v1.cri/sandboxes/' + 'a'.repeat(64) + '/shm', 'bind', 'runtime'],
    ['/var/lib/kubelet/pods/7d8f1c2a-0000-4000-8000-000000000001/volumes/kubernetes.io~secret/tok', 'bind', 'volume'],
    ['/var/lib/kubelet/pods/7d8f1c2a-0000-4000-8000-000000000001/etc-hosts', 'bind', 'runtime'],
    ['/run/containers/storage/overlay-containers/' + 'b'.repeat(64) + '/userdata/resolv.conf', 'bind', 'runtime'],
    ['/var/lib/kubelet', 'bind', 'hostPath'],
    ['/var/lib/kubelet/pods', 'bind', 'hostPath'],
    ['/run/containerd/containerd.sock', 'bind', 'hostPath'],
    ['proc', 'proc', 'virtual'],
    ['tmpfs', 'tmpfs', 'virtual'],
  ])('%s (%s) is %s', (source, type, origin) => {
    expect(mountOrigin(source, type, type === 'bind' ? ['rbind'] : [])).toBe(origin);
  });
});

describe('OCI spec', () => {
  it('names the pod and container from containerd annotations', () => {
    const parsed = parseOciSpec(ociSpec({ id: containerId(1), sandboxId: sandboxId(1), namespace: 'prod', pod: 'web-0', name: 'nginx', image: 'nginx:1' }));
    expect(parsed.identity).toMatchObject({ runtime: 'containerd', type: 'container', namespace: 'prod', pod: 'web-0', container: 'nginx', image: 'nginx:1', sandboxId: sandboxId(1) });
  });
  it('names the pod from CRI-O annotations and labels', () => {
    expect(identityFromAnnotations({
      'io.kubernetes.cri-o.ContainerType': 'container',
      'io.kubernetes.cri-o.Labels': JSON.stringify({ 'io.kubernetes.pod.namespace': 'kube-system', 'io.kubernetes.pod.name': 'coredns-1', 'io.kubernetes.container.name': 'coredns' }),
      'io.kubernetes.cri-o.ImageName': 'registry.k8s.io/coredns:1.11',
      'io.kubernetes.cri-o.SandboxID': 'abc',
    })).toMatchObject({ runtime: 'crio', type: 'container', namespace: 'kube-system', pod: 'coredns-1', container: 'coredns', sandboxId: 'abc' });
  });
  it('keeps env names and drops values', () => {
    const d = parseOciSpec(ociSpec({ id: 'x', env: ['PATH=/bin', 'DB_PASSWORD=s3cret=with=equals', 'EMPTY='] })).declared;
    expect(d.env.map((e) => e.name)).toEqual(['PATH', 'DB_PASSWORD', 'EMPTY']);
    expect(JSON.stringify(d)).not.toContain('s3cret');
  });
  it('derives privileged, unmasked /proc and host namespaces', () => {
    const priv = parseOciSpec(ociSpec({ id: 'x', type: 'sandbox', privileged: true, hostNamespaces: ['pid', 'network', 'uts'] })).declared;
    expect(priv.privileged).toBe(true);
    expect(priv.procMount).toBeUndefined();
    expect(priv.hostNamespaces).toEqual(['pid', 'network', 'uts']);
    const unmasked = parseOciSpec({ ...ociSpec({ id: 'x' }), linux: { maskedPaths: [], readonlyPaths: [], namespaces: [] } }).declared;
    expect(unmasked).toMatchObject({ privileged: false, procMount: 'Unmasked' });
  });
  it('treats an allow-everything seccomp profile as unconfined', () => {
    const spec = ociSpec({ id: 'x' }) as { linux: Record<string, unknown> };
    spec.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] };
    expect(parseOciSpec(spec).declared.seccomp).toBe('unconfined');
  });
  it('survives a spec of the wrong shapes', () => {
    const d = parseOciSpec({ process: 'nope', linux: { namespaces: 'x', seccomp: [] }, mounts: [null, 3, { destination: 5 }], annotations: [] });
    expect(d.declared.mounts).toEqual([]);
    expect(d.declared.hostNamespaces).toEqual(['pid', 'ipc', 'network', 'uts']);
    expect(d.identity).toEqual({});
  });
});

describe('CRI configs (containerd verbose JSON)', () => {
  it('reads the literal security context', () => {
    const d = declaredFromCriContainerConfig({
      envs: [{ key: 'API_TOKEN', value: 'v' }],
      mounts: [{ container_path: '/host', host_path: '/' , readonly: true }],
      linux: { security_context: {
        capabilities: { add_capabilities: ['SYS_ADMIN'], drop_capabilities: ['ALL'] },
        run_as_user: {}, seccomp: {}, apparmor: { profile_type: 1 }, namespace_options: { network: 2, pid: 2 },
        selinux_options: { type: 'spc_t' },
      } },
    });
    expect(d).toMatchObject({
      privileged: false, capabilities: { added: ['SYS_ADMIN'], dropped: ['ALL'] }, runAsUser: 0,
      seccomp: 'runtime-default', appArmorProfile: 'unconfined', hostNamespaces: ['pid', 'network', 'uts'],
      seLinux: { type: 'spc_t' }, env: [{ name: 'API_TOKEN' }],
    });
    expect(d.mounts[0]).toMatchObject({ source: '/', readOnly: true, origin: 'hostPath' });
    expect(JSON.stringify(d)).not.toContain('"v"');
  });
  it('reads host ports and sysctls from the sandbox config', () => {
    expect(declaredFromCriSandboxConfig({ port_mappings: [{ container_port: 80, host_port: 8080 }, { container_port: 81 }], linux: { sysctls: { 'kernel.msgmax': '1' } } }))
      .toMatchObject({ hostPorts: [8080], sysctls: { 'kernel.msgmax': '1' } });
  });
});

describe('gatherContainers on a containerd state dir', () => {
  it('finds containers and sandboxes, with kernel truth and host namespaces inherited from the sandbox', async () => {
    const fact = await gather([
      { id: sandboxId(1), type: 'sandbox', pod: 'p', namespace: 'ns', hostNamespaces: ['network', 'uts'], pid: 1000, sysctl: { 'net.core.somaxconn': '1024' } },
      { id: containerId(1), sandboxId: sandboxId(1), pod: 'p', namespace: 'ns', name: 'c', pid: 1001, hostNamespaces: [] },
    ]);
    expect(fact.sources).toEqual([{ runtime: 'containerd', path: STATE }]);
    expect(fact.hostReference).toEqual({ pid: CONTAINERD_PID, process: 'containerd' });
    const c = fact.items.find((i) => i.type === 'container')!;
    expect(c).toMatchObject({ namespace: 'ns', pod: 'p', container: 'c', pid: 1001, specPath: `${STATE}/io.containerd.runtime.v2.task/k8s.io/${containerId(1)}/config.json` });
    expect(c.declared!.hostNamespaces).toEqual(['network', 'uts']);
    expect(c.declared!.sysctls).toEqual({ 'net.core.somaxconn': '1024' });
    expect(c.kernel!.capEff).toContain('NET_RAW');
    expect(c.errors).toEqual([]);
  });

  it('reports a container whose pid vanished, without kernel facts and without crashing', async () => {
    const fact = await gather([{ id: containerId(2), pid: 424242, vanished: true }]);
    const c = fact.items[0];
    expect(c.kernel).toBeUndefined();
    expect(c.declared).toBeDefined();
    expect(c.errors.map((e) => e.code)).toContain('ENOENT');
  });

  it('drops a pid reused by another process (cgroup does not name the container)', async () => {
    const fact = await gather([{ id: containerId(3), pid: 2000 }], {
      procs: [{ pid: 2000, argv: ['/usr/sbin/sshd'], comm: 'sshd', status: 'Uid:\t0\t0\t0\t0\nCapEff:\t000001ffffffffff\n', files: { cgroup: '0::/system.slice/ssh.service\n' } }],
    });
    const c = fact.items[0];
    expect(c.pid).toBeUndefined();
    expect(c.kernel).toBeUndefined();
    expect(c.errors[0].code).toBe('ESRCH');
  });

  it('bounds a spec with 10 MB of annotations and reports it', async () => {
    const big = ociSpec({ id: containerId(4) }) as { annotations: Record<string, string> };
    big.annotations['huge'] = 'x'.repeat(10 * 1024 * 1024);
    const started = performance.now();
    const fact = await gather([{ id: containerId(4), pid: 1500, rawSpec: JSON.stringify(big) }]);
    expect(performance.now() - started).toBeLessThan(2000);
    const c = fact.items[0];
    expect(c.declared).toBeUndefined();
    expect(c.errors[0]).toMatchObject({ code: 'EFBIG' });
    expect(c.kernel).toBeDefined();
  });

  it('reports malformed JSON, a symlink loop and a non-object spec as errors', async () => {
    const fact = await gather([
      { id: containerId(5), rawSpec: '{"process": ' },
      { id: containerId(6), rawSpec: { symlink: 'config.json' } },
      { id: containerId(7), rawSpec: '[1,2]' },
    ]);
    const codes = Object.fromEntries(fact.items.map((i) => [i.id, i.errors.map((e) => e.code)]));
    expect(codes[containerId(5)]).toEqual(['EINVAL']);
    expect(codes[containerId(6)]).toHaveLength(1);
    expect(codes[containerId(7)]).toEqual(['EINVAL']);
  });

  it('finds no runtime on a bare host and says where it looked', async () => {
    built = buildHost({});
    const fact = await gatherContainers(new HostAccess(built), built, {});
    expect(fact.sources).toEqual([]);
    expect(fact.searched).toContain('/run/containerd');
    expect(fact.searched).toContain('/var/run/crio/crio.sock');
    expect(fact.errors).toEqual([]);
  });

  it('reports an explicit state dir or socket that does not exist', async () => {
    built = buildHost({});
    const fact = await gatherContainers(new HostAccess(built), { ...built, containerdStateDir: '/nope', criSocket: '/nope.sock' }, {});
    expect(fact.errors.map((e) => [e.path, e.code])).toEqual([['/nope', 'ENOENT'], ['/nope.sock', 'ENOENT']]);
  });

  it('reads CRI-O userdata dirs', async () => {
    const spec = ociSpec({ id: 'x' }) as { annotations: Record<string, string> };
    spec.annotations = {
      'io.kubernetes.cri-o.ContainerType': 'container', 'io.kubernetes.pod.namespace': 'ns', 'io.kubernetes.pod.name': 'p',
      'io.kubernetes.container.name': 'c', 'io.kubernetes.cri-o.ImageName': 'img:1', 'io.kubernetes.cri-o.SandboxID': 's',
    };
    const id = 'd'.repeat(64);
    built = buildHost({ files: { [`/run/containers/storage/overlay-containers/${id}/userdata/config.json`]: JSON.stringify(spec) } });
    const fact = await gatherContainers(new HostAccess(built), built, {});
    expect(fact.sources).toEqual([{ runtime: 'crio', path: '/run/containers/storage/overlay-containers' }]);
    expect(fact.items[0]).toMatchObject({ id, runtime: 'crio', namespace: 'ns', pod: 'p', container: 'c', image: 'img:1' });
  });
});
