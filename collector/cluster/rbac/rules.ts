// One RBAC rule against one request, as the API server's authorizer decides it
// (plugin/pkg/auth/authorizer/rbac/rbac.go RuleAllows, pkg/apis/rbac/v1/evaluation_helpers.go):
// verbs and API groups match exactly or by `*`; a resource matches `*`, its exact `resource/subresource`, or
// `*/subresource`; `pods` does not cover `pods/exec`; a rule with resourceNames allows only requests that name
// one of them, so never list, watch or create.
import type { PolicyRule } from '../objects.js';

export interface ResourceRequest {
  verb: string;
  /** `''` is the core group. */
  group: string;
  resource: string;
  subresource?: string;
  /** The object's name; absent for collection requests (list, watch, create, deletecollection). */
  name?: string;
}

const matchesOne = (ruleValues: readonly string[], requested: string): boolean =>
  ruleValues.some((v) => v === '*' || v === requested);

function resourceMatches(rule: PolicyRule, req: ResourceRequest): boolean {
  const combined = req.subresource ? `${req.resource}/${req.subresource}` : req.resource;
  return rule.resources.some((r) => r === '*' || r === combined || (req.subresource !== undefined && r === `*/${req.subresource}`));
}

export function ruleAllows(rule: PolicyRule, req: ResourceRequest): boolean {
  if (!matchesOne(rule.verbs, req.verb) || !matchesOne(rule.apiGroups, req.group) || !resourceMatches(rule, req)) return false;
  if (rule.resourceNames.length === 0) return true;
  return req.name !== undefined && rule.resourceNames.includes(req.name);
}

/**
 * How much of a kind of request a rule allows: `all` (any object), `named` (only the objects in its
 * resourceNames — not full access, and never list/watch/create), or `none`.
 */
export function ruleReach(rule: PolicyRule, req: Omit<ResourceRequest, 'name'>): 'all' | 'named' | 'none' {
  if (!matchesOne(rule.verbs, req.verb) || !matchesOne(rule.apiGroups, req.group) || !resourceMatches(rule, req)) return 'none';
  return rule.resourceNames.length === 0 ? 'all' : 'named';
}

/** `*` in verbs, API groups or resources (not in nonResourceURLs, which are paths). */
export function wildcardsIn(rule: PolicyRule): Array<'verbs' | 'apiGroups' | 'resources'> {
  const out: Array<'verbs' | 'apiGroups' | 'resources'> = [];
  if (rule.verbs.includes('*')) out.push('verbs');
  if (rule.apiGroups.includes('*')) out.push('apiGroups');
  if (rule.resources.includes('*')) out.push('resources');
  return out;
}

/** Every verb on every resource of every group: what cluster-admin holds, under any name. */
export const isSuperuserRule = (rule: PolicyRule): boolean =>
  rule.verbs.includes('*') && rule.apiGroups.includes('*') && rule.resources.includes('*') && rule.resourceNames.length === 0;

/** `verbs=get,list apiGroups="" resources=secrets resourceNames=a`: a rule as one line. */
export function ruleText(rule: PolicyRule): string {
  const list = (xs: readonly string[]): string => xs.map((x) => (x === '' ? '""' : x)).join(',');
  const parts = [`verbs=${list(rule.verbs)}`];
  if (rule.nonResourceURLs.length) parts.push(`nonResourceURLs=${list(rule.nonResourceURLs)}`);
  if (rule.apiGroups.length || rule.resources.length) parts.push(`apiGroups=${list(rule.apiGroups)}`, `resources=${list(rule.resources)}`);
  if (rule.resourceNames.length) parts.push(`resourceNames=${list(rule.resourceNames)}`);
  return parts.join(' ');
}
