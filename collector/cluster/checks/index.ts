// Every cluster check, in CIS order.
import type { ClusterCheck } from './catalogue.js';
import { NAMESPACE_CHECKS } from './namespaces.js';
import { RBAC_CHECKS } from './rbac.js';
import { WORKLOAD_CHECKS } from './workloads.js';

export const CLUSTER_CHECKS: readonly ClusterCheck[] = [...RBAC_CHECKS, ...NAMESPACE_CHECKS, ...WORKLOAD_CHECKS]
  .sort((a, b) => (a.cis ?? '').localeCompare(b.cis ?? '', undefined, { numeric: true }));
