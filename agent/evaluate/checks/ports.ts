import type { Check } from '../check.js';

export const portsChecks: Check[] = [];
