// The agent's transports, in one list. A transport is one module (types.ts: TransportComponent) added to
// TRANSPORTS; its options, the --transport choices and the outbox's consumers all come from here.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { grpcTransport } from './grpc.js';
import { natsTransport } from './nats.js';
import { DEFAULT_TOKEN_FILE } from '../token.js';
import type { OptionValues, Transport, TransportComponent, TransportContext } from './types.js';

export const TRANSPORTS: readonly TransportComponent[] = [grpcTransport, natsTransport];

/** Names --transport also takes, for a fixed set of transports. */
const TRANSPORT_ALIASES: Readonly<Record<string, readonly string[]>> = { both: ['grpc', 'nats'] };

const NAMES = TRANSPORTS.map((t) => t.name);
const CHOICES = `${NAMES.join(', ')} or a comma list of them (${
  Object.entries(TRANSPORT_ALIASES).map(([alias, names]) => `${alias} = ${names.join(',')}`).join('; ')})`;

/** `grpc`, `grpc,nats`, `both`: the transport names, in registry order, without repeats. */
export function parseTransportList(text: string): string[] {
  const wanted = new Set<string>();
  for (const word of text.split(',').map((w) => w.trim()).filter(Boolean)) {
    const names = TRANSPORT_ALIASES[word] ?? (NAMES.includes(word) ? [word] : undefined);
    if (!names) {
      throw new InvalidArgumentError(`unknown transport "${word}": expected ${CHOICES}`);
    }
    for (const n of names) wanted.add(n);
  }
  if (wanted.size === 0) throw new InvalidArgumentError(`expected ${CHOICES}`);
  return NAMES.filter((n) => wanted.has(n));
}

/** --transport, --token-file and every transport's own options, for `vigil-agent run`. */
export function addTransportOptions(cmd: Command): Command {
  cmd.addOption(new Option('--transport <names>', `${CHOICES}; default: every transport whose address is given`)
    .argParser(parseTransportList));
  cmd.addOption(new Option('--token-file <file>', `this agent's ServiceAccount token, sent on every transport and read again when it `
    + `changes (default: ${DEFAULT_TOKEN_FILE} when it exists)`));
  for (const t of TRANSPORTS) for (const o of t.options()) cmd.addOption(o);
  return cmd;
}

/**
 * The transports to use: those named by --transport, else those whose options are given. Throws, naming
 * the missing options, when one cannot work or none is configured.
 */
export function chooseTransports(values: OptionValues & { transport?: readonly string[] }): TransportComponent[] {
  const chosen = values.transport
    ? TRANSPORTS.filter((t) => values.transport!.includes(t.name))
    : TRANSPORTS.filter((t) => t.configured(values));
  if (chosen.length === 0) {
    throw new Error(`no transport: give ${TRANSPORTS.map((t) => `${t.requires} (${t.name})`).join(' or ')}`);
  }
  for (const t of chosen) t.check(values);
  return chosen;
}

/** The chosen transports, made (not started); all drain the one outbox. */
export async function createTransports(chosen: readonly TransportComponent[], values: OptionValues, ctx: TransportContext): Promise<Transport[]> {
  const made: Transport[] = [];
  try {
    for (const t of chosen) made.push(await t.create(values, ctx));
  } catch (err) {
    await Promise.allSettled(made.map((t) => t.stop()));
    throw err;
  }
  return made;
}
