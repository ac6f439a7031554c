// CIS Kubernetes Benchmark v1.12, sections 1-4: the node-level checks, one row per CIS id, in id order. Each section
// file mirrors kube-bench's cfg/cis-1.12/<section>.yaml. A new CIS version is a new folder beside this one.
import type { Benchmark } from '../../rows.js';
import { MASTER } from './master.js';
import { ETCD } from './etcd.js';
import { CONTROL_PLANE } from './control-plane.js';
import { NODE } from './node.js';

export const CIS_1_12: Benchmark = {
  name: 'CIS Kubernetes Benchmark',
  version: '1.12',
  rows: [...MASTER, ...ETCD, ...CONTROL_PLANE, ...NODE],
};
