import type { Check } from '../../check.js';

export const kubeProxyChecks: Check[] = [];
