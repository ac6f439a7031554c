// The reflectors against a STAND-IN API server (test/harness/kube-api.ts): no kube-apiserver runs here, so a
// loopback HTTP server answers the list and watch requests client-node makes, from objects these tests write.
import { Watch } from '@kubernetes/client-node';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClusterModel } from '../../../collector/cluster/model.js';
import { Reflector } from '../../../collector/cluster/reflector.js';
import { watchedResources, type WatchedResource } from '../../../collector/cluster/resources.js';
import { startKubeApi, type KubeApiStandIn } from '../../harness/kube-api.js';

const log = pino({ level: 'silent' });

async function until(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const ns = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels } });
const role = (name: string, verbs: string[]) => ({ metadata: { name }, rules: [{ verbs, apiGroups: [''], resources: ['pods'] }] });

describe('reflector (list + watch) against the stand-in API server', () => {
  let api: KubeApiStandIn;
  let model: ClusterModel;
  let reflectors: Reflector[];

  const start = (kinds: string[], opts: ConstructorParameters<typeof Reflector>[4] = {}): void => {
    const kc = api.kubeConfig();
    const watch = new Watch(kc);
    const resources = watchedResources(kc).filter((r: WatchedResource) => kinds.includes(r.kind));
    reflectors = resources.map((r) => new Reflector(r, model, watch, log, { backoff: { baseMs: 20, maxMs: 100 }, ...opts }));
    for (const r of reflectors) r.start();
  };

  beforeEach(async () => {
    api = await startKubeApi();
    model = new ClusterModel();
    reflectors = [];
  });

  afterEach(async () => {
    await Promise.all(reflectors.map((r) => r.stop()));
    await api.close();
  });

  it('lists, then watches from the list resourceVersion, and follows ADDED/MODIFIED/DELETED', async () => {
    api.apply('Namespace', ns('a'));
    api.apply('Namespace', ns('b'));
    start(['Namespace']);
    await api.watching(['Namespace']);
    expect([...model.snapshot().objects.Namespace.keys()].sort()).toEqual(['a', 'b']);
    expect(model.snapshot().kinds.Namespace).toMatchObject({ status: 'synced', listed: true });

    const [list, watch] = api.requestsFor('Namespace');
    expect(list.query).toEqual({ limit: '500' });
    expect(list.authorization).toBe(`Bearer ${api.token}`);
    expect(watch.query).toMatchObject({ watch: 'true', resourceVersion: model.resourceVersion('Namespace'), allowWatchBookmarks: 'true' });

    api.apply('Namespace', ns('c', { team: 'x' }));
    await until('c', () => model.snapshot().objects.Namespace.has('c'));
    api.apply('Namespace', ns('c', { team: 'y' }));
    await until('c relabelled', () => model.snapshot().objects.Namespace.get('c')?.metadata.labels.team === 'y');
    api.remove('Namespace', 'a');
    await until('a gone', () => !model.snapshot().objects.Namespace.has('a'));
    expect(model.resourceVersion('Namespace')).toBe(api.resourceVersion);
  });

  it('normalises list items (client-node model instances) and watch objects (plain JSON) to the same shape', async () => {
    const cr = role('reader', ['get']);
    api.apply('ClusterRole', cr);
    start(['ClusterRole']);
    await api.watching(['ClusterRole']);
    const fromList = model.snapshot().objects.ClusterRole.get('reader')!;
    api.remove('ClusterRole', 'reader');
    await until('deleted', () => !model.snapshot().objects.ClusterRole.has('reader'));
    api.apply('ClusterRole', cr);
    await until('re-added', () => model.snapshot().objects.ClusterRole.has('reader'));
    const fromWatch = model.snapshot().objects.ClusterRole.get('reader')!;
    expect({ ...fromWatch, metadata: { ...fromWatch.metadata, resourceVersion: '', uid: '' } })
      .toEqual({ ...fromList, metadata: { ...fromList.metadata, resourceVersion: '', uid: '' } });
    expect(Object.getPrototypeOf(fromList)).toBe(Object.prototype);
  });

  it('pages through a long list with limit and continue', async () => {
    for (let i = 0; i < 7; i++) api.apply('ServiceAccount', { metadata: { name: `sa-${i}`, namespace: 'ns' } });
    start(['ServiceAccount'], { pageSize: 3 });
    await api.watching(['ServiceAccount']);
    expect(model.snapshot().objects.ServiceAccount.size).toBe(7);
    const lists = api.requestsFor('ServiceAccount').filter((r) => r.query.watch === undefined);
    expect(lists.map((r) => r.query.continue ?? '')).toEqual(['', '3', '6']);
  });

  it('re-lists after a 410 ERROR event: objects changed or deleted meanwhile are seen', async () => {
    api.apply('Namespace', ns('keep'));
    api.apply('Namespace', ns('lost'));
    start(['Namespace']);
    await api.watching(['Namespace']);
    // Changes the watch never hears about (compacted away), then the watch expires.
    api.removeSilently('Namespace', 'lost');
    api.applySilently('Namespace', ns('new'));
    api.expire('Namespace');
    await until('relisted', () => model.snapshot().objects.Namespace.has('new') && !model.snapshot().objects.Namespace.has('lost'));
    const lists = api.requestsFor('Namespace').filter((r) => r.query.watch === undefined);
    expect(lists).toHaveLength(2);
  });

  it('re-lists when the watch request itself is answered 410', async () => {
    api.apply('Namespace', ns('a'));
    api.fail('Namespace', 410, { on: 'watch' });
    start(['Namespace']);
    await api.watching(['Namespace']);
    expect(api.requestsFor('Namespace').filter((r) => r.query.watch === undefined)).toHaveLength(2);
  });

  it('keeps going after errors the library informer would stop on (500 on watch and list), with backoff', async () => {
    api.apply('Namespace', ns('a'));
    api.fail('Namespace', 500, { on: 'list' });
    api.fail('Namespace', 500, { on: 'watch', times: 2 });
    start(['Namespace']);
    await api.watching(['Namespace']);
    await until('synced again', () => model.snapshot().kinds.Namespace.status === 'synced');
    api.apply('Namespace', ns('b'));
    await until('b', () => model.snapshot().objects.Namespace.has('b'));
    // The failed list and the good one; the two failed watches and the good one: retried, not a tight loop.
    expect(api.requestsFor('Namespace').filter((r) => r.query.watch === undefined)).toHaveLength(2);
    expect(api.requestsFor('Namespace').filter((r) => r.query.watch === 'true')).toHaveLength(3);
  });

  it('resumes from a bookmark\'s resourceVersion after the server ends the watch', async () => {
    api.apply('Namespace', ns('a'));
    start(['Namespace']);
    await api.watching(['Namespace']);
    api.applySilently('Namespace', ns('quiet'));
    api.bookmark('Namespace');
    await until('bookmark rv', () => model.resourceVersion('Namespace') === api.resourceVersion);
    const rv = model.resourceVersion('Namespace');
    api.endWatches('Namespace');
    await until('re-watch', () => api.requestsFor('Namespace').filter((r) => r.query.watch === 'true').length === 2);
    const second = api.requestsFor('Namespace').filter((r) => r.query.watch === 'true')[1];
    expect(second.query.resourceVersion).toBe(rv);
    // No relist for a normal end of the stream.
    expect(api.requestsFor('Namespace').filter((r) => r.query.watch === undefined)).toHaveLength(1);
  });

  it('marks a kind forbidden on 403 and unavailable on 404, then synced once it can be read', async () => {
    api.fail('Pod', 403, { on: 'list' });
    api.fail('ValidatingAdmissionPolicy', 404, { on: 'list' });
    start(['Pod', 'ValidatingAdmissionPolicy'], { unavailableRetryMs: 50 });
    await until('statuses', () => model.snapshot().kinds.Pod.status !== 'pending' && model.snapshot().kinds.ValidatingAdmissionPolicy.status !== 'pending');
    const seen = model.snapshot().kinds;
    expect(seen.Pod).toMatchObject({ status: 'forbidden', listed: false });
    expect(seen.Pod.detail).toContain('403');
    expect(seen.ValidatingAdmissionPolicy).toMatchObject({ status: 'unavailable', listed: false });
    await api.watching(['Pod', 'ValidatingAdmissionPolicy']);
    await until('synced', () => model.snapshot().kinds.Pod.status === 'synced' && model.snapshot().kinds.ValidatingAdmissionPolicy.status === 'synced');
  });

  it('skips objects it cannot read instead of failing the list', async () => {
    api.apply('ClusterRole', role('good', ['get']));
    start(['ClusterRole']);
    await api.watching(['ClusterRole']);
    api.apply('ClusterRole', { metadata: { name: 'bad' }, rules: 'not a list' });
    api.apply('ClusterRole', role('after', ['list']));
    await until('after', () => model.snapshot().objects.ClusterRole.has('after'));
    expect([...model.snapshot().objects.ClusterRole.keys()].sort()).toEqual(['after', 'good']);
    expect(model.resourceVersion('ClusterRole')).toBe(api.resourceVersion);
  });
});
