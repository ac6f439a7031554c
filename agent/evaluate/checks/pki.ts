import type { Check } from '../check.js';

export const pkiChecks: Check[] = [];
