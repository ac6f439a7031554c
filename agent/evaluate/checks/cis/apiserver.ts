import type { Check } from '../../check.js';

export const apiserverChecks: Check[] = [];
