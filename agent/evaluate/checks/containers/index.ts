import type { Check } from '../../check.js';

export const containersChecks: Check[] = [];
