// Everything that arrives from outside is checked before it reaches the store, the same way for every transport
// (REST, gRPC, NATS): the shared report schemas, node names as Kubernetes writes them, and the size limits of
// proto/report.ts (nesting, evidence values, undeclared keys, node info). A large message is checked a slice at a
// time, so one 150,000-finding report does not hold the event loop.
import { z } from 'zod';
import {
  EvidenceSchema, FindingSchema, jsonExtent, NodeReportSchema, REPORT_LIMITS, ResourceSchema,
  type Finding, type JsonExtentProblem, type NodeReport,
} from '../../proto/report.js';
import { isNodeName, NODE_NAME_MAX_LENGTH, NODE_NAME_RULE } from '../../proto/node-name.js';
import { TimeSlicer } from '../store/slices.js';
import { IngestValidationError, type IngestMessage } from './types.js';

const MAX_FINDINGS = 200_000;
const MAX_ISSUES = 20;

/** Node names as Kubernetes writes them (proto/node-name.ts): `../../etc/passwd` or control characters are refused. */
const NodeName = z.string().max(NODE_NAME_MAX_LENGTH, `must be at most ${NODE_NAME_MAX_LENGTH} characters`)
  .refine(isNodeName, `must be ${NODE_NAME_RULE}`);
const Seq = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** The report around its findings, which are checked one by one afterwards. */
const ReportHead = NodeReportSchema.extend({
  node: NodeReportSchema.shape.node.extend({ name: NodeName }),
  findings: z.array(z.unknown()).max(MAX_FINDINGS),
});

const MessageHead = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('full'), node: NodeName, seq: Seq.optional(), report: ReportHead }),
  z.object({
    kind: z.literal('delta'),
    node: NodeName,
    seq: Seq,
    scannedAt: z.string().datetime({ offset: true }),
    upserts: z.array(z.unknown()).max(MAX_FINDINGS),
    resolved: z.array(z.string().min(1).max(200)).max(MAX_FINDINGS),
  }),
]);

type Path = ReadonlyArray<PropertyKey>;

/** A path as the issue lines show it; long keys (a hostile 8 MB key) are cut so the answer stays small. */
function pathText(path: Path): string {
  if (path.length === 0) return '(root)';
  return path.map((p) => {
    const text = String(p);
    return text.length > 64 ? `${text.slice(0, 64)}…` : text;
  }).join('.');
}

/** `findings.3.status: Invalid option ...` lines, at most `max` of them. */
export function describeIssues(error: z.ZodError, max = MAX_ISSUES): string[] {
  return error.issues.slice(0, max).map((i) => `${pathText(i.path)}: ${i.message}`);
}

const keysOf = (schema: z.ZodObject): ReadonlySet<string> => new Set(Object.keys(schema.shape));
const FINDING_KEYS = keysOf(FindingSchema);
const EVIDENCE_KEYS = keysOf(EvidenceSchema);
const NODE_KEYS = keysOf(NodeReportSchema.shape.node);
/** Each resource kind's declared keys (one shape may serve several kinds: the API objects of node `cluster`). */
const RESOURCE_KEYS = new Map(ResourceSchema.options.flatMap((o) => {
  const kind = o.shape.kind;
  const kinds: readonly string[] = 'options' in kind ? kind.options : [kind.value];
  return kinds.map((k) => [k, keysOf(o)] as const);
}));

const L = REPORT_LIMITS;

function extentMessage(problem: JsonExtentProblem, maxChars: number): string {
  switch (problem) {
    case 'deep': return `nested deeper than ${L.maxDepth} levels`;
    case 'large': return `larger than ${maxChars} characters as JSON`;
    case 'long-key': return `has a key longer than ${L.keyChars} characters`;
  }
}

/** Issues found so far, as `path: problem` lines. */
class Issues {
  readonly lines: string[] = [];
  add(path: Path, message: string): void {
    if (this.lines.length < MAX_ISSUES) this.lines.push(`${pathText(path)}: ${message}`);
  }
  zod(base: Path, error: z.ZodError): void {
    for (const i of error.issues) this.add([...base, ...i.path], i.message);
  }
  get full(): boolean {
    return this.lines.length >= MAX_ISSUES;
  }
}

/** Keys an object carries beyond its schema's: few, short, small and shallow. */
function checkExtraKeys(obj: Record<string, unknown>, declared: ReadonlySet<string>, path: Path, issues: Issues): void {
  let count = 0;
  let budget: number = L.extraChars;
  for (const key of Object.keys(obj)) {
    if (declared.has(key)) continue;
    if (++count > L.extraKeys) return issues.add(path, `more than ${L.extraKeys} keys the schema does not declare`);
    if (key.length > L.keyChars) return issues.add([...path, key], `a key longer than ${L.keyChars} characters`);
    const extent = jsonExtent(obj[key], { maxDepth: L.maxDepth, maxChars: budget, keyChars: L.keyChars });
    if (extent.problem) {
      const message = extent.problem === 'large'
        ? `undeclared keys larger than ${L.extraChars} characters as JSON in all` : extentMessage(extent.problem, budget);
      return issues.add([...path, key], message);
    }
    budget -= extent.chars + key.length + 4;
  }
}

function checkFindingLimits(f: Finding, path: Path, issues: Issues): void {
  checkExtraKeys(f, FINDING_KEYS, path, issues);
  const resourceKeys = RESOURCE_KEYS.get(f.resource.kind);
  if (resourceKeys) checkExtraKeys(f.resource, resourceKeys, [...path, 'resource'], issues);
  checkExtraKeys(f.evidence, EVIDENCE_KEYS, [...path, 'evidence'], issues);
  if (f.evidence.value !== undefined) {
    const extent = jsonExtent(f.evidence.value, { maxDepth: L.maxDepth, maxChars: L.evidenceValueChars, keyChars: L.keyChars });
    if (extent.problem) issues.add([...path, 'evidence', 'value'], extentMessage(extent.problem, L.evidenceValueChars));
  }
}

function checkNodeLimits(node: NodeReport['node'], issues: Issues): void {
  checkExtraKeys(node, NODE_KEYS, ['node'], issues);
  const components = Object.keys(node.components ?? {});
  if (components.length > L.components) issues.add(['node', 'components'], `more than ${L.components} components`);
  const long = components.find((c) => c.length > L.keyChars);
  if (long !== undefined) issues.add(['node', 'components', long], `a component name longer than ${L.keyChars} characters`);
  if (issues.lines.length > 0) return;
  const extent = jsonExtent(node, { maxDepth: L.maxDepth, maxChars: L.nodeInfoChars, keyChars: L.keyChars });
  if (extent.problem) issues.add(['node'], extentMessage(extent.problem, L.nodeInfoChars));
}

/** Findings one by one: each against the schema and the limits; a turn for the event loop whenever a slice is used up. */
async function checkFindings(items: readonly unknown[], base: Path, issues: Issues): Promise<Finding[]> {
  const slicer = new TimeSlicer();
  const out: Finding[] = new Array(items.length);
  for (let i = 0; i < items.length && !issues.full; i++) {
    const parsed = FindingSchema.safeParse(items[i]);
    if (!parsed.success) issues.zod([...base, i], parsed.error);
    else {
      checkFindingLimits(parsed.data, [...base, i], issues);
      out[i] = parsed.data;
    }
    if ((i & 63) === 63 && slicer.due) await slicer.next();
  }
  return out;
}

function fail(issues: Issues, what: string): never {
  throw new IngestValidationError(`invalid ${what}: ${issues.lines[0]}`, issues.lines);
}

/** A message from any transport: its envelope, node names, every finding and every limit. Throws IngestValidationError. */
export async function validateMessage(input: unknown): Promise<IngestMessage> {
  const issues = new Issues();
  const head = MessageHead.safeParse(input);
  if (!head.success) {
    issues.zod([], head.error);
    fail(issues, 'ingest message');
  }
  const m = head.data;
  if (m.kind === 'full') {
    if (m.report.node.name !== m.node) {
      throw new IngestValidationError(
        `report is for node ${JSON.stringify(m.report.node.name)}, message names ${JSON.stringify(m.node)}`,
        ['node: does not match report.node.name'],
      );
    }
    checkNodeLimits(m.report.node, issues);
    const findings = await checkFindings(m.report.findings, ['report', 'findings'], issues);
    if (issues.lines.length > 0) fail(issues, 'ingest message');
    return { ...m, report: { ...m.report, findings } };
  }
  const upserts = await checkFindings(m.upserts, ['upserts'], issues);
  if (issues.lines.length > 0) fail(issues, 'ingest message');
  return { ...m, upserts };
}

/** A posted report (REST), with issue paths as in the document. Throws IngestValidationError. */
export async function validateReport(input: unknown): Promise<NodeReport> {
  const issues = new Issues();
  const head = ReportHead.safeParse(input);
  if (!head.success) {
    issues.zod([], head.error);
    fail(issues, 'report');
  }
  checkNodeLimits(head.data.node, issues);
  const findings = await checkFindings(head.data.findings, ['findings'], issues);
  if (issues.lines.length > 0) fail(issues, 'report');
  return { ...head.data, findings };
}

/**
 * Validation in arrival order: a small message behind a large one waits for it, so a transport's messages reach
 * the ingest queue in the order they came (a delta must not overtake the full snapshot before it).
 */
export class OrderedValidation {
  private tail: Promise<unknown> = Promise.resolve();

  /** Validates `input` after everything before it, then hands it to `use` (synchronously, still in order). */
  then<T>(input: unknown, use: (message: IngestMessage) => T): Promise<T> {
    const done = this.tail.then(() => validateMessage(input)).then(use);
    this.tail = done.catch(() => undefined);
    return done;
  }

  /** Resolves when every message given so far has been validated (and handed on, or rejected). */
  async idle(): Promise<void> {
    let tail: Promise<unknown>;
    do {
      tail = this.tail;
      await tail;
    } while (tail !== this.tail);
  }
}
