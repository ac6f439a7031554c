import type { Check } from '../../check.js';

export const kubeletChecks: Check[] = [];
