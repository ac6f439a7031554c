import type { Check } from '../../check.js';

export const etcdChecks: Check[] = [];
