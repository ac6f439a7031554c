// Label selectors as Kubernetes evaluates them (metav1.LabelSelectorAsSelector): matchLabels and every
// matchExpressions requirement must hold; an empty selector selects everything.
import type { LabelSelector } from '../objects.js';

export function selects(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels)) if (labels[key] !== value) return false;
  for (const { key, operator, values } of selector.matchExpressions) {
    const has = Object.hasOwn(labels, key);
    switch (operator) {
      case 'In': if (!has || !values.includes(labels[key])) return false; break;
      case 'NotIn': if (has && values.includes(labels[key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      // The API server rejects other operators; an unknown one selects nothing rather than everything.
      default: return false;
    }
  }
  return true;
}

/** True for `{}`: every object. */
export const selectsAll = (selector: LabelSelector): boolean =>
  Object.keys(selector.matchLabels).length === 0 && selector.matchExpressions.length === 0;
