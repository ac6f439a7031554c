// Asks the CRI socket for the ready sandboxes and running containers, with verbose status (pid, CRI
// config, runtime spec). Short deadlines: a hung runtime costs a scan a few seconds, never the scan.
import type { GatherError } from '../../facts/snapshot.js';
import type { CriClient, CriMessage } from './cri-client.js';
import { declaredFromCriContainerConfig, declaredFromCriSandboxConfig, type SandboxDeclared } from './cri-config.js';
import type { ContainerIdentity } from './oci-spec.js';
import type { DeclaredFact } from '../../facts/containers.js';

export interface CriContainer {
  id: string;
  identity: ContainerIdentity;
  pid?: number;
  config?: Omit<DeclaredFact, 'sysctls' | 'hostPorts'>;
  /** The OCI spec as the runtime reports it; used when the state dir cannot be read. */
  runtimeSpec?: unknown;
}

export interface CriSandbox {
  id: string;
  identity: ContainerIdentity;
  pid?: number;
  config?: SandboxDeclared;
  runtimeSpec?: unknown;
}

export interface CriResult {
  containers: CriContainer[];
  sandboxes: CriSandbox[];
  errors: GatherError[];
}

const MAX_INFO_CHARS = 4 * 1024 * 1024;
const CONCURRENCY = 8;

function verboseInfo(res: CriMessage, path: string, errors: GatherError[]): Record<string, unknown> {
  const info = res?.info?.info;
  if (typeof info !== 'string' || info.length === 0) return {};
  if (info.length > MAX_INFO_CHARS) {
    errors.push({ path, code: 'EFBIG', message: `verbose info is ${info.length} chars, over the ${MAX_INFO_CHARS} bound` });
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(info);
    return typeof parsed === 'object' && parsed !== null ? parsed as Record<string, unknown> : {};
  } catch {
    errors.push({ path, code: 'EINVAL', message: 'verbose info is not JSON' });
    return {};
  }
}

const pidOf = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v.slice(0, 1024) : undefined);

function criError(path: string, method: string, err: unknown): GatherError {
  const e = err as { code?: number; details?: string; message?: string };
  const code = e?.code === 4 ? 'ETIMEDOUT' : e?.code === 14 ? 'ECONNREFUSED' : 'EIO';
  return { path, code, message: `${method}: ${(e?.details || e?.message || String(err)).slice(0, 500)}` };
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) { const i = next++; out[i] = await fn(items[i]); }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * `socketPath` is agent-side (resolved); `hostPath` is what errors name. Each call gets `timeoutMs`, the
 * whole gather `budgetMs`: a runtime that answers slowly cannot hold a scan for minutes.
 */
export async function gatherFromCri(
  socketPath: string, hostPath: string, timeoutMs = 2000, budgetMs = 10_000, only?: ReadonlySet<string>,
): Promise<CriResult> {
  const errors: GatherError[] = [];
  let client: CriClient;
  try {
    // gRPC is loaded only when a CRI socket is there to ask (a scan without one starts faster).
    const { CriClient } = await import('./cri-client.js');
    client = new CriClient(socketPath, timeoutMs);
  } catch (err) {
    errors.push({ path: hostPath, code: 'EIO', message: `CRI client: ${(err as Error).message.slice(0, 300)}` });
    return { containers: [], sandboxes: [], errors };
  }
  const deadline = Date.now() + budgetMs;
  let skipped = 0;
  /** A status call within the remaining budget, or undefined (counted) once it is spent. */
  const status = async (method: string, request: CriMessage): Promise<CriMessage | undefined> => {
    const left = deadline - Date.now();
    if (left <= 0) { skipped++; return undefined; }
    return client.call(method, request, Math.min(timeoutMs, left));
  };
  try {
    let sandboxItems: CriMessage[];
    let containerItems: CriMessage[];
    try {
      const sb = await client.call('ListPodSandbox', { filter: { state: { state: 'SANDBOX_READY' } } });
      sandboxItems = Array.isArray(sb.items) ? sb.items : [];
      const ct = await client.call('ListContainers', { filter: { state: { state: 'CONTAINER_RUNNING' } } });
      containerItems = Array.isArray(ct.containers) ? ct.containers : [];
      if (only) {
        // Listing is one call; the status calls are what a targeted re-gather saves.
        containerItems = containerItems.filter((c) => only.has(String(c.id ?? '')));
        const pods = new Set([...only, ...containerItems.map((c) => String(c.pod_sandbox_id ?? ''))]);
        sandboxItems = sandboxItems.filter((sb) => pods.has(String(sb.id ?? '')));
      }
    } catch (err) {
      errors.push(criError(hostPath, 'list', err));
      return { containers: [], sandboxes: [], errors };
    }
    const sandboxes = await mapLimited(sandboxItems, CONCURRENCY, async (item): Promise<CriSandbox> => {
      const id = String(item.id ?? '');
      const md = item.metadata ?? {};
      const sandbox: CriSandbox = {
        id,
        identity: { type: 'sandbox', namespace: text(md.namespace), pod: text(md.name), podUid: text(md.uid) },
      };
      try {
        const res = await status('PodSandboxStatus', { pod_sandbox_id: id, verbose: true });
        const info = res ? verboseInfo(res, hostPath, errors) : {};
        sandbox.pid = pidOf(info.pid);
        if (info.config !== undefined) sandbox.config = declaredFromCriSandboxConfig(info.config);
        sandbox.runtimeSpec = info.runtimeSpec;
      } catch (err) {
        errors.push(criError(hostPath, `PodSandboxStatus ${id}`, err));
      }
      return sandbox;
    });
    const podOf = new Map(sandboxes.map((s) => [s.id, s.identity]));
    const containers = await mapLimited(containerItems, CONCURRENCY, async (item): Promise<CriContainer> => {
      const id = String(item.id ?? '');
      const sandboxId = text(item.pod_sandbox_id);
      const pod = sandboxId ? podOf.get(sandboxId) : undefined;
      const container: CriContainer = {
        id,
        identity: {
          type: 'container', sandboxId, namespace: pod?.namespace, pod: pod?.pod, podUid: pod?.podUid,
          container: text(item.metadata?.name), image: text(item.image?.image),
        },
      };
      try {
        const res = await status('ContainerStatus', { container_id: id, verbose: true });
        const info = res ? verboseInfo(res, hostPath, errors) : {};
        container.pid = pidOf(info.pid);
        if (info.config !== undefined) container.config = declaredFromCriContainerConfig(info.config);
        container.runtimeSpec = info.runtimeSpec;
      } catch (err) {
        errors.push(criError(hostPath, `ContainerStatus ${id}`, err));
      }
      return container;
    });
    if (skipped > 0) {
      errors.push({ path: hostPath, code: 'ETIMEDOUT', message: `CRI time budget of ${budgetMs} ms spent; ${skipped} status calls skipped` });
    }
    return { containers, sandboxes, errors };
  } finally {
    client.close();
  }
}
