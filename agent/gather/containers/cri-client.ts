// A small promise wrapper over the CRI RuntimeService (runtime.v1) on a unix socket, from proto/cri/api.proto.
// Shared by the agent (reads) and the integration harness (creates pods).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO_REL = join('proto', 'cri', 'api.proto');

/** The proto ships at <repo>/proto/cri/api.proto; this module runs from agent/ (tsx, vitest) or dist/agent/. */
export function findCriProto(start = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, PROTO_REL);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`${PROTO_REL} not found above ${start}`);
  }
}

let serviceCtor: grpc.ServiceClientConstructor | undefined;

function runtimeServiceCtor(): grpc.ServiceClientConstructor {
  if (serviceCtor) return serviceCtor;
  const def = protoLoader.loadSync(findCriProto(), {
    keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    runtime: { v1: { RuntimeService: grpc.ServiceClientConstructor } };
  };
  serviceCtor = pkg.runtime.v1.RuntimeService;
  return serviceCtor;
}

// Messages are plain objects shaped like the proto (snake_case); callers read them defensively.
export type CriMessage = Record<string, any>;

export class CriClient {
  private readonly client: grpc.Client;

  /** `socketPath` is an agent-side path (already resolved under the host root). */
  constructor(socketPath: string, private readonly timeoutMs = 2000, maxMessageBytes = 16 * 1024 * 1024) {
    const Ctor = runtimeServiceCtor();
    this.client = new Ctor(`unix://${socketPath}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': maxMessageBytes,
      'grpc.enable_retries': 0,
    });
  }

  call(method: string, request: CriMessage, timeoutMs = this.timeoutMs): Promise<CriMessage> {
    const fn = (this.client as unknown as Record<string, Function>)[method];
    if (typeof fn !== 'function') return Promise.reject(new Error(`unknown CRI method ${method}`));
    return new Promise((resolve, reject) => {
      fn.call(this.client, request, { deadline: Date.now() + timeoutMs },
        (err: grpc.ServiceError | null, res: CriMessage) => (err ? reject(err) : resolve(res)));
    });
  }

  close(): void {
    this.client.close();
  }
}
