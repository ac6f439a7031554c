// The collector's in-memory picture of the cluster: every watched object by kind and key, each kind's
// resourceVersion and read status, and a version that moves with every change. Checks, RBAC resolution and
// correlation read immutable snapshots of it; the reflectors are its only writers.
import { objectKey, RESOURCE_KINDS, type ObjectsByKind, type ResourceKind } from './objects.js';

/**
 * How far a kind has been read: `pending` until its first list, `synced` after it, `forbidden` when the API
 * refuses the collector (RBAC), `unavailable` when the API does not serve it (an older Kubernetes).
 */
type KindStatus = 'pending' | 'synced' | 'forbidden' | 'unavailable' | 'failing';

export interface KindState {
  status: KindStatus;
  /** The collection's resourceVersion: the last list's, moved on by every watch event and bookmark. */
  resourceVersion: string;
  /** Why the kind is not synced, when it is not. */
  detail?: string;
  /** Whether this kind was ever listed completely (its objects are known, if perhaps out of date). */
  listed: boolean;
}

type Objects = { [K in ResourceKind]: ReadonlyMap<string, ObjectsByKind[K]> };

/** One consistent view of the model. Never changes once taken. */
export interface ClusterSnapshot {
  version: number;
  objects: Objects;
  kinds: Readonly<Record<ResourceKind, Readonly<KindState>>>;
}

type Listener = (kind: ResourceKind) => void;

export class ClusterModel {
  private readonly objects = Object.fromEntries(RESOURCE_KINDS.map((k) => [k, new Map()])) as { [K in ResourceKind]: Map<string, ObjectsByKind[K]> };
  private readonly kinds = Object.fromEntries(RESOURCE_KINDS.map((k) => [k, { status: 'pending', resourceVersion: '', listed: false }])) as Record<ResourceKind, KindState>;
  private readonly listeners = new Set<Listener>();
  private changes = 0;
  private cached: ClusterSnapshot | undefined;

  get version(): number {
    return this.changes;
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(kind: ResourceKind): void {
    this.changes++;
    this.cached = undefined;
    for (const l of this.listeners) l(kind);
  }

  /** A full list: replaces every object of the kind (objects missing from it are gone). */
  replace<K extends ResourceKind>(kind: K, items: ObjectsByKind[K][], resourceVersion: string): void {
    const next = new Map<string, ObjectsByKind[K]>();
    for (const item of items) next.set(objectKey(item.metadata), item);
    (this.objects as Record<K, Map<string, ObjectsByKind[K]>>)[kind] = next;
    this.kinds[kind] = { status: 'synced', resourceVersion, listed: true };
    this.changed(kind);
  }

  /** A watch event. Returns false when it changed nothing (same resourceVersion as held). */
  upsert<K extends ResourceKind>(kind: K, item: ObjectsByKind[K]): boolean {
    const map = this.objects[kind] as Map<string, ObjectsByKind[K]>;
    const key = objectKey(item.metadata);
    const held = map.get(key);
    this.setResourceVersion(kind, item.metadata.resourceVersion);
    if (held && held.metadata.resourceVersion !== undefined && held.metadata.resourceVersion === item.metadata.resourceVersion) return false;
    map.set(key, item);
    this.changed(kind);
    return true;
  }

  remove<K extends ResourceKind>(kind: K, meta: { name: string; namespace?: string; resourceVersion?: string }): boolean {
    this.setResourceVersion(kind, meta.resourceVersion);
    if (!this.objects[kind].delete(objectKey(meta))) return false;
    this.changed(kind);
    return true;
  }

  /** A bookmark or an event: where the next watch resumes. Not a change of the picture. */
  setResourceVersion(kind: ResourceKind, resourceVersion: string | undefined): void {
    if (resourceVersion) this.kinds[kind].resourceVersion = resourceVersion;
  }

  /** The kind could not be read (403, 404, a failing API). Its objects stay as last seen. */
  setStatus(kind: ResourceKind, status: Exclude<KindStatus, 'synced'>, detail: string): void {
    const cur = this.kinds[kind];
    if (cur.status === status && cur.detail === detail) return;
    this.kinds[kind] = { ...cur, status, detail };
    this.changed(kind);
  }

  /** Back to synced after a failure, when a watch works again without a relist. */
  markSynced(kind: ResourceKind): void {
    const cur = this.kinds[kind];
    if (cur.status === 'synced' || !cur.listed) return;
    this.kinds[kind] = { status: 'synced', resourceVersion: cur.resourceVersion, listed: true };
    this.changed(kind);
  }

  resourceVersion(kind: ResourceKind): string {
    return this.kinds[kind].resourceVersion;
  }

  /** True when every kind has been listed once or is known to be unreadable. */
  settled(): boolean {
    return RESOURCE_KINDS.every((k) => this.kinds[k].status !== 'pending');
  }

  snapshot(): ClusterSnapshot {
    this.cached ??= {
      version: this.changes,
      objects: Object.fromEntries(RESOURCE_KINDS.map((k) => [k, new Map(this.objects[k])])) as unknown as Objects,
      kinds: Object.fromEntries(RESOURCE_KINDS.map((k) => [k, { ...this.kinds[k] }])) as Record<ResourceKind, KindState>,
    };
    return this.cached;
  }
}

/** A snapshot built from plain object lists (tests, and RBAC resolution over hand-written objects). */
export function snapshotOf(objects: Partial<{ [K in ResourceKind]: ObjectsByKind[K][] }>, version = 1): ClusterSnapshot {
  const model = new ClusterModel();
  for (const kind of RESOURCE_KINDS) model.replace(kind, (objects[kind] ?? []) as never[], String(version));
  const s = model.snapshot();
  return { ...s, version };
}
