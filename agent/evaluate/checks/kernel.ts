import type { Check } from '../check.js';

export const kernelChecks: Check[] = [];
