// The agents' findings the cluster checks join with: which secret-looking environment variables each running
// container really has (CIS 5.4.1 on the node; names only).
import { stringsOf } from '../../common/json.js';
import type { IngestMessage } from '../store/messages.js';
import type { FactSelector, StoredFinding } from '../store/types.js';
import type { NodeSecretEnv, NodeView } from './checks/catalogue.js';

const NODE_VIEW_CHECK = 'container-secret-env';

export const NODE_VIEW_SELECTOR: FactSelector = [{ checkIds: [NODE_VIEW_CHECK], resourceKinds: ['container'], excludeStatus: ['pass'] }];

export function nodeViewFrom(findings: readonly StoredFinding[]): NodeView {
  const secretEnv = new Map<string, NodeSecretEnv[]>();
  for (const { node, finding } of findings) {
    const r = finding.resource;
    if (finding.checkId !== NODE_VIEW_CHECK || r.kind !== 'container' || !r.namespace || !r.pod || !r.container) continue;
    // Entries like `envFrom secret NAME` name a whole Secret, not a variable.
    const names = stringsOf(finding.evidence.value).filter((n) => !n.includes(' '));
    if (names.length === 0) continue;
    const key = `${r.namespace}/${r.pod}`;
    secretEnv.set(key, [...(secretEnv.get(key) ?? []), { node, container: r.container, names, findingId: finding.id }]);
  }
  return { secretEnv };
}

/** Whether an agent's message may change the node view (finding ids start with their check id). */
export function affectsNodeView(message: IngestMessage): boolean {
  if (message.kind === 'full') return true;
  return message.upserts.some((f) => f.checkId === NODE_VIEW_CHECK) || message.resolved.some((id) => id.startsWith(`${NODE_VIEW_CHECK}:`));
}
