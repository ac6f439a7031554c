// `vigil-collector serve --kubeconfig FILE --kube-context NAME` as a process (the built CLI), reading a STAND-IN
// Kubernetes API (no kube-apiserver runs here: test/harness/kube-api.ts answers client-node's list and watch
// requests from the objects below), and stopping cleanly on SIGTERM while its watches are open.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it, describe } from 'vitest';
import { locateBuiltCli } from '../../harness/built-cli.js';
import { freePort, tempDir } from '../../harness/integration.js';
import { startKubeApi, type KubeApiStandIn } from '../../harness/kube-api.js';
import { clusterRole, clusterRoleBinding, group, namespace } from '../../unit/cluster/fixtures.js';
import { eventually } from './harness.js';

describe('vigil-collector serve --kubeconfig (built CLI, stand-in API)', () => {
  let api: KubeApiStandIn;
  let cli: ReturnType<typeof locateBuiltCli>;
  let dir: ReturnType<typeof tempDir>;
  let proc: ChildProcess;
  let base: string;
  let stderr = '';

  beforeAll(async () => {
    api = await startKubeApi();
    api.apply('Namespace', namespace('apps') as never);
    api.apply('ClusterRole', clusterRole('creator', [{ verbs: ['create'], resources: ['pods'] }]) as never);
    api.apply('ClusterRoleBinding', clusterRoleBinding('all-create', 'creator', [group('system:serviceaccounts')]) as never);
    cli = locateBuiltCli('collector/cli.js');
    dir = tempDir('cluster-cli');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    proc = spawn(process.execPath, [cli.cli, 'serve', '--data-dir', dir.path, '--http-listen', `127.0.0.1:${port}`, '--no-auth',
      '--correlate-interval', '0s', '--kubeconfig', api.kubeconfigFile(), '--kube-context', 'stand-in'], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  }, 120_000);

  afterAll(async () => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    await api?.close();
    dir?.cleanup();
    cli?.cleanup();
  });

  it('reads the API of the context it was given and stores node cluster; SIGTERM stops it', async () => {
    const item = await eventually('5.1.4 stored', async () => {
      const res = await fetch(`${base}/api/v1/findings?node=cluster&check=cis-5.1.4&status=fail`).catch(() => undefined);
      return res?.ok ? ((await res.json()) as { items: any[] }).items[0] : undefined;
    }, 30_000);
    expect(item.title).toContain('Group system:serviceaccounts (every ServiceAccount)');
    expect(stderr).toContain('reading the Kubernetes API');
    expect(stderr).toContain(api.url);
    expect(stderr).not.toContain(api.token);
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});
