// The API objects the collector reads, reduced to the fields its checks need, and the converters from what the
// API server sends. List items arrive as client-node model instances (Dates, no kind), watch objects as plain
// JSON: both go through the same zod schemas, which keep only plain fields, so the two shapes compare equal.
// Environment variable values and Secret contents are never kept: only names.
import { z } from 'zod';

export const RESOURCE_KINDS = [
  'Namespace', 'Pod', 'ServiceAccount', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'NetworkPolicy',
  'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

const strings = z.array(z.string()).nullish().transform((v) => v ?? []);
const labels = z.record(z.string(), z.string()).nullish().transform((v) => v ?? {});

const MetaSchema = z.object({
  name: z.string().min(1),
  namespace: z.string().nullish().transform((v) => v || undefined),
  resourceVersion: z.string().nullish().transform((v) => v ?? undefined),
  labels,
});
export type ObjectMeta = z.infer<typeof MetaSchema>;

const SelectorRequirement = z.object({ key: z.string(), operator: z.string(), values: strings });
export const LabelSelectorSchema = z.object({
  matchLabels: labels,
  matchExpressions: z.array(SelectorRequirement).nullish().transform((v) => v ?? []),
});
export type LabelSelector = z.infer<typeof LabelSelectorSchema>;

// ---- RBAC -------------------------------------------------------------------------------------------------

export const PolicyRuleSchema = z.object({
  verbs: strings,
  apiGroups: strings,
  resources: strings,
  resourceNames: strings,
  nonResourceURLs: strings,
});
export type PolicyRule = z.infer<typeof PolicyRuleSchema>;

const rules = z.array(PolicyRuleSchema).nullish().transform((v) => v ?? []);

const RoleSchema = z.object({ metadata: MetaSchema, rules });
export type RoleObject = z.infer<typeof RoleSchema>;

const ClusterRoleSchema = z.object({
  metadata: MetaSchema,
  rules,
  aggregationRule: z.object({
    clusterRoleSelectors: z.array(LabelSelectorSchema).nullish().transform((v) => v ?? []),
  }).nullish().transform((v) => v ?? undefined),
});
export type ClusterRoleObject = z.infer<typeof ClusterRoleSchema>;

const SubjectSchema = z.object({
  kind: z.string(),
  name: z.string(),
  namespace: z.string().nullish().transform((v) => v || undefined),
  apiGroup: z.string().nullish().transform((v) => v ?? undefined),
});
export type Subject = z.infer<typeof SubjectSchema>;

const RoleRefSchema = z.object({ kind: z.string(), name: z.string(), apiGroup: z.string().nullish() })
  .transform(({ kind, name }) => ({ kind, name }));

const BindingSchema = z.object({
  metadata: MetaSchema,
  roleRef: RoleRefSchema,
  subjects: z.array(SubjectSchema).nullish().transform((v) => v ?? []),
});
export type BindingObject = z.infer<typeof BindingSchema>;

// ---- core -------------------------------------------------------------------------------------------------

const NamespaceSchema = z.object({ metadata: MetaSchema });
export type NamespaceObject = z.infer<typeof NamespaceSchema>;

const ServiceAccountSchema = z.object({
  metadata: MetaSchema,
  automountServiceAccountToken: z.boolean().nullish().transform((v) => v ?? undefined),
});
export type ServiceAccountObject = z.infer<typeof ServiceAccountSchema>;

const seccompType = z.object({ seccompProfile: z.object({ type: z.string() }).nullish() }).nullish()
  .transform((sc) => sc?.seccompProfile?.type);

const EnvVarSchema = z.object({
  name: z.string(),
  valueFrom: z.object({
    secretKeyRef: z.object({ name: z.string().nullish(), key: z.string().nullish() }).nullish(),
    configMapKeyRef: z.object({ name: z.string().nullish() }).nullish(),
  }).nullish(),
}).transform((e) => {
  const secret = e.valueFrom?.secretKeyRef;
  // The value itself is dropped here: names only.
  return secret
    ? { name: e.name, from: 'secret' as const, secret: secret.name ?? '', key: secret.key ?? '' }
    : { name: e.name, from: (e.valueFrom ? 'reference' : 'value') as 'reference' | 'value' };
});

const EnvFromSchema = z.object({
  prefix: z.string().nullish(),
  secretRef: z.object({ name: z.string().nullish() }).nullish(),
  configMapRef: z.object({ name: z.string().nullish() }).nullish(),
}).transform((e) => (e.secretRef ? { from: 'secret' as const, name: e.secretRef.name ?? '' } : { from: 'configMap' as const, name: e.configMapRef?.name ?? '' }));

/** Only the seccomp profile is read; the other fields only tell whether a securityContext was given at all. */
const ContainerSecurityContext = z.object({ seccompProfile: z.object({ type: z.string() }).nullish() }).passthrough().nullish();

const ContainerSchema = z.object({
  name: z.string(),
  env: z.array(EnvVarSchema).nullish().transform((v) => v ?? []),
  envFrom: z.array(EnvFromSchema).nullish().transform((v) => v ?? []),
  securityContext: ContainerSecurityContext,
}).transform((c) => ({
  name: c.name,
  env: c.env,
  envFrom: c.envFrom,
  seccompType: c.securityContext?.seccompProfile?.type,
  hasSecurityContext: c.securityContext != null && Object.values(c.securityContext).some((v) => v != null),
}));
export type ContainerSpec = z.infer<typeof ContainerSchema> & { type: 'container' | 'init' | 'ephemeral' };

const containers = z.array(ContainerSchema).nullish().transform((v) => v ?? []);

const VolumeSchema = z.object({
  name: z.string(),
  projected: z.object({
    sources: z.array(z.object({ serviceAccountToken: z.object({}).passthrough().nullish() }).passthrough()).nullish(),
  }).nullish(),
}).passthrough().transform((v) => ({
  name: v.name,
  serviceAccountToken: (v.projected?.sources ?? []).some((s) => s.serviceAccountToken != null),
}));

const PodSchema = z.object({
  metadata: MetaSchema,
  spec: z.object({
    nodeName: z.string().nullish(),
    serviceAccountName: z.string().nullish(),
    automountServiceAccountToken: z.boolean().nullish(),
    hostNetwork: z.boolean().nullish(),
    securityContext: z.object({ seccompProfile: z.object({ type: z.string() }).nullish() }).passthrough().nullish(),
    containers,
    initContainers: containers,
    ephemeralContainers: containers,
    volumes: z.array(VolumeSchema).nullish().transform((v) => v ?? []),
  }),
  status: z.object({ phase: z.string().nullish() }).nullish(),
}).transform((p) => ({
  metadata: p.metadata,
  nodeName: p.spec.nodeName ?? undefined,
  serviceAccountName: p.spec.serviceAccountName || 'default',
  automountServiceAccountToken: p.spec.automountServiceAccountToken ?? undefined,
  hostNetwork: p.spec.hostNetwork === true,
  seccompType: seccompType.parse(p.spec.securityContext),
  hasSecurityContext: p.spec.securityContext != null && Object.values(p.spec.securityContext).some((v) => v != null),
  containers: [
    ...p.spec.containers.map((c) => ({ ...c, type: 'container' as const })),
    ...p.spec.initContainers.map((c) => ({ ...c, type: 'init' as const })),
    ...p.spec.ephemeralContainers.map((c) => ({ ...c, type: 'ephemeral' as const })),
  ],
  volumes: p.spec.volumes,
  phase: p.status?.phase ?? undefined,
}));
export type PodObject = z.infer<typeof PodSchema>;

// ---- networking and admission -----------------------------------------------------------------------------

const NetworkPolicySchema = z.object({
  metadata: MetaSchema,
  spec: z.object({
    podSelector: LabelSelectorSchema.nullish(),
    policyTypes: strings,
    ingress: z.array(z.object({ from: z.array(z.unknown()).nullish(), ports: z.array(z.unknown()).nullish() })).nullish(),
    egress: z.array(z.unknown()).nullish(),
  }),
}).transform((n) => {
  const ingress = n.spec.ingress ?? [];
  // policyTypes defaults to Ingress, plus Egress when egress rules are given.
  const types = n.spec.policyTypes.length ? n.spec.policyTypes : ['Ingress', ...(n.spec.egress?.length ? ['Egress'] : [])];
  return {
    metadata: n.metadata,
    podSelector: n.spec.podSelector ?? { matchLabels: {}, matchExpressions: [] },
    policyTypes: types,
    /** An ingress rule with no `from` and no `ports` admits everything. */
    allowsAllIngress: ingress.some((r) => !r.from?.length && !r.ports?.length),
  };
});
export type NetworkPolicyObject = z.infer<typeof NetworkPolicySchema>;

const RuleWithOperations = z.object({
  operations: strings,
  apiGroups: strings,
  resources: strings,
  scope: z.string().nullish().transform((v) => v ?? '*'),
});
export type AdmissionRule = z.infer<typeof RuleWithOperations>;

const WebhookSchema = z.object({
  name: z.string(),
  rules: z.array(RuleWithOperations).nullish().transform((v) => v ?? []),
  namespaceSelector: LabelSelectorSchema.nullish().transform((v) => v ?? undefined),
});

const WebhookConfigurationSchema = z.object({
  metadata: MetaSchema,
  webhooks: z.array(WebhookSchema).nullish().transform((v) => v ?? []),
});
export type WebhookConfigurationObject = z.infer<typeof WebhookConfigurationSchema>;

const MatchResources = z.object({
  namespaceSelector: LabelSelectorSchema.nullish().transform((v) => v ?? undefined),
  resourceRules: z.array(RuleWithOperations.extend({ resourceNames: strings })).nullish().transform((v) => v ?? []),
}).nullish().transform((v) => v ?? undefined);

const ValidatingAdmissionPolicySchema = z.object({
  metadata: MetaSchema,
  spec: z.object({ matchConstraints: MatchResources }),
}).transform((p) => ({ metadata: p.metadata, matchConstraints: p.spec.matchConstraints }));
export type ValidatingAdmissionPolicyObject = z.infer<typeof ValidatingAdmissionPolicySchema>;

const ValidatingAdmissionPolicyBindingSchema = z.object({
  metadata: MetaSchema,
  spec: z.object({
    policyName: z.string().nullish(),
    validationActions: strings,
    matchResources: MatchResources,
  }),
}).transform((b) => ({
  metadata: b.metadata,
  policyName: b.spec.policyName ?? '',
  validationActions: b.spec.validationActions,
  matchResources: b.spec.matchResources,
}));
export type ValidatingAdmissionPolicyBindingObject = z.infer<typeof ValidatingAdmissionPolicyBindingSchema>;

/** Every kind's object type. */
export interface ObjectsByKind {
  Namespace: NamespaceObject;
  Pod: PodObject;
  ServiceAccount: ServiceAccountObject;
  Role: RoleObject;
  ClusterRole: ClusterRoleObject;
  RoleBinding: BindingObject;
  ClusterRoleBinding: BindingObject;
  NetworkPolicy: NetworkPolicyObject;
  ValidatingAdmissionPolicy: ValidatingAdmissionPolicyObject;
  ValidatingAdmissionPolicyBinding: ValidatingAdmissionPolicyBindingObject;
  ValidatingWebhookConfiguration: WebhookConfigurationObject;
  MutatingWebhookConfiguration: WebhookConfigurationObject;
}

const SCHEMAS: { [K in ResourceKind]: z.ZodType<ObjectsByKind[K]> } = {
  Namespace: NamespaceSchema,
  Pod: PodSchema as z.ZodType<PodObject>,
  ServiceAccount: ServiceAccountSchema,
  Role: RoleSchema,
  ClusterRole: ClusterRoleSchema,
  RoleBinding: BindingSchema,
  ClusterRoleBinding: BindingSchema,
  NetworkPolicy: NetworkPolicySchema as z.ZodType<NetworkPolicyObject>,
  ValidatingAdmissionPolicy: ValidatingAdmissionPolicySchema as z.ZodType<ValidatingAdmissionPolicyObject>,
  ValidatingAdmissionPolicyBinding: ValidatingAdmissionPolicyBindingSchema as z.ZodType<ValidatingAdmissionPolicyBindingObject>,
  ValidatingWebhookConfiguration: WebhookConfigurationSchema,
  MutatingWebhookConfiguration: WebhookConfigurationSchema,
};

/** The API object as the model keeps it, or the first reason it cannot be read. */
export function convert<K extends ResourceKind>(kind: K, raw: unknown): { ok: true; object: ObjectsByKind[K] } | { ok: false; reason: string } {
  const parsed = SCHEMAS[kind].safeParse(raw);
  if (parsed.success) return { ok: true, object: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, reason: `${issue.path.join('.') || '(root)'}: ${issue.message}` };
}

/** `ns/name` for namespaced objects, `name` for cluster-scoped ones. */
export const objectKey = (meta: { name: string; namespace?: string }): string => (meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name);
