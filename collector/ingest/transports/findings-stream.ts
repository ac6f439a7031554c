// The JetStream stream the agents publish into belongs to the collector: it creates VIGIL_FINDINGS when it is
// missing (file storage, limits retention, a maximum age, the findings subjects, replicas on a NATS cluster), and
// refuses to run on an existing one that would keep less (memory storage, work-queue retention, a shorter age,
// other subjects, fewer replicas): agents' reports would be lost without anyone noticing. Agents need publish
// rights only.
import {
  DiscardPolicy, nanos, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig,
} from 'nats';
import { FINDINGS_STREAM, FINDINGS_SUBJECTS } from '../../../proto/nats.js';

export interface FindingsStreamLimits {
  /** How long JetStream keeps a message the collector has not taken (default 7 days). */
  maxAgeMs?: number;
  /** Copies on a NATS cluster (1 on a single server). */
  replicas?: number;
  maxBytes?: number;
  maxMsgSize?: number;
  duplicateWindowMs?: number;
}

const DEFAULT_STREAM_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

function wantedConfig(limits: FindingsStreamLimits): Partial<StreamConfig> & { name: string } {
  return {
    name: FINDINGS_STREAM,
    subjects: [FINDINGS_SUBJECTS],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: limits.replicas ?? 1,
    max_age: nanos(limits.maxAgeMs ?? DEFAULT_STREAM_MAX_AGE_MS),
    max_bytes: limits.maxBytes ?? 1024 * 1024 * 1024,
    max_msg_size: limits.maxMsgSize ?? 8 * 1024 * 1024,
    duplicate_window: nanos(limits.duplicateWindowMs ?? 10 * 60 * 1000),
  };
}

/** What makes an existing stream weaker than the one wanted, one line each; empty when it is good enough. */
export function streamWeaknesses(existing: Partial<StreamConfig>, wanted: Partial<StreamConfig>): string[] {
  const out: string[] = [];
  if (existing.storage !== StorageType.File) out.push(`storage is ${existing.storage}, not file (messages would not survive a NATS restart)`);
  if (existing.retention !== RetentionPolicy.Limits) out.push(`retention is ${existing.retention}, not limits`);
  const age = Number(existing.max_age ?? 0);
  if (age !== 0 && age < Number(wanted.max_age)) out.push(`max_age is ${age / 1e9}s, shorter than ${Number(wanted.max_age) / 1e9}s`);
  const subjects = existing.subjects ?? [];
  if (!subjects.includes(FINDINGS_SUBJECTS)) out.push(`subjects are ${JSON.stringify(subjects)}, not ${FINDINGS_SUBJECTS}`);
  if ((existing.num_replicas ?? 1) < (wanted.num_replicas ?? 1)) out.push(`${existing.num_replicas ?? 1} replicas, fewer than ${wanted.num_replicas}`);
  return out;
}

/** Creates the stream, or checks the one there; throws (naming every weakness) on one that keeps less. */
export async function ensureFindingsStream(jsm: JetStreamManager, limits: FindingsStreamLimits = {}): Promise<'created' | 'checked'> {
  const wanted = wantedConfig(limits);
  let existing: Partial<StreamConfig> | undefined;
  try {
    existing = (await jsm.streams.info(FINDINGS_STREAM)).config;
  } catch (err) {
    if (!/stream not found/i.test((err as Error).message)) throw err;
  }
  if (!existing) {
    try {
      await jsm.streams.add(wanted);
      return 'created';
    } catch (err) {
      // Another collector replica created it between our info and add: check theirs.
      if (!/already in use|already exists/i.test((err as Error).message)) throw err;
      existing = (await jsm.streams.info(FINDINGS_STREAM)).config;
    }
  }
  const weak = streamWeaknesses(existing, wanted);
  if (weak.length > 0) {
    throw new StreamTooWeak(`NATS stream ${FINDINGS_STREAM} exists but keeps less than Vigil needs: ${weak.join('; ')}. `
      + `Fix or delete it (nats stream edit/rm ${FINDINGS_STREAM}); the collector creates it when it is missing.`);
  }
  return 'checked';
}

/** A configuration problem: the collector does not retry it, it stops. */
export class StreamTooWeak extends Error {
  override name = 'StreamTooWeak';
}
