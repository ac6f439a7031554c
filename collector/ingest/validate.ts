// Everything that arrives from outside is checked against the shared report schemas before it reaches the store.
import { z } from 'zod';
import { FindingSchema, NodeReportSchema } from '../../proto/report.js';
import { IngestValidationError, type IngestMessage } from './types.js';

const NodeName = z.string().min(1).max(253);
const Seq = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

const FullSchema = z.object({
  kind: z.literal('full'),
  node: NodeName,
  seq: Seq.optional(),
  report: NodeReportSchema,
});

const DeltaSchema = z.object({
  kind: z.literal('delta'),
  node: NodeName,
  seq: Seq,
  scannedAt: z.string().datetime({ offset: true }),
  upserts: z.array(FindingSchema).max(200_000),
  resolved: z.array(z.string().min(1).max(200)).max(200_000),
});

const MessageSchema = z.discriminatedUnion('kind', [FullSchema, DeltaSchema]);

/** `findings.3.status: Invalid option ...` lines, at most `max` of them. */
export function describeIssues(error: z.ZodError, max = 20): string[] {
  return error.issues.slice(0, max).map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
}

export function validateMessage(input: unknown): IngestMessage {
  const parsed = MessageSchema.safeParse(input);
  if (!parsed.success) {
    const issues = describeIssues(parsed.error);
    throw new IngestValidationError(`invalid ingest message: ${issues[0]}`, issues);
  }
  const message = parsed.data as IngestMessage;
  if (message.kind === 'full' && message.report.node.name !== message.node) {
    throw new IngestValidationError(
      `report is for node ${JSON.stringify(message.report.node.name)}, message names ${JSON.stringify(message.node)}`,
      ['node: does not match report.node.name'],
    );
  }
  return message;
}
