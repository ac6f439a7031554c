// Who may call the REST API. Static bearer tokens (the tokens file) with roles: `read` for queries, `report` for
// ingest, kept only as SHA-256 digests; a `report` token may be bound to nodes (`nodes=a,b`) or be an explicit
// import token (`nodes=*`). With --sa-issuer, agents' ServiceAccount tokens are `report` callers bound to their
// node. Each request's caller is kept for the route (callerOf): what it may write is decided there.
import { createHash } from 'node:crypto';
import type { FastifyRequest, onRequestAsyncHookHandler, RouteOptions } from 'fastify';
import type { Registry } from 'prom-client';
import { bearerToken, serviceAccountCaller, untrustedCaller, type CallerIdentity } from '../ingest/identity.js';
import { deliveryMetrics } from '../ingest/ingestor.js';
import { KeysUnavailable, looksLikeJwt, TokenRefused, type ServiceAccountVerifier } from '../ingest/service-accounts.js';

export const ROLES = ['read', 'report'] as const;
export type Role = (typeof ROLES)[number];

const isRole = (name: string): name is Role => ROLES.some((role) => role === name);

interface TokenEntry {
  name: string;
  roles: Set<Role>;
  /** The nodes a `report` token may write; `*`: any (an explicit import token); undefined: unbound. */
  nodes?: readonly string[] | '*';
}

export class TokenSet {
  private readonly byDigest = new Map<string, TokenEntry>();

  add(token: string, entry: TokenEntry): void {
    this.byDigest.set(digest(token), entry);
  }

  get size(): number {
    return this.byDigest.size;
  }

  /** Looks a presented token up by its digest, so lookups never compare the secret itself. */
  find(token: string): TokenEntry | undefined {
    return this.byDigest.get(digest(token));
  }
}

const digest = (token: string): string => createHash('sha256').update(token).digest('hex');

const MIN_TOKEN_LENGTH = 16;
const NODE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function parseNodes(text: string, where: string): readonly string[] | '*' {
  if (text === '*') return '*';
  const nodes = text.split(',').map((n) => n.trim()).filter(Boolean);
  const bad = nodes.filter((n) => !NODE_NAME.test(n) || n.length > 253);
  if (nodes.length === 0 || bad.length) throw new Error(`${where}: nodes= takes node names (a,b) or *, not ${JSON.stringify(text)}`);
  return nodes;
}

/** One token per line: `<token> <role>[,<role>] [name] [nodes=a,b|nodes=*]`; `#` starts a comment. */
export function loadTokens(text: string, source = 'tokens file'): TokenSet {
  const set = new TokenSet();
  text.split('\n').forEach((line, i) => {
    const body = line.replace(/#.*/, '').trim();
    if (!body) return;
    const [token, roles, ...rest] = body.split(/\s+/);
    const where = `${source}:${i + 1}`;
    if (!roles) throw new Error(`${where}: expected "<token> <roles> [name] [nodes=a,b]"`);
    if (token.length < MIN_TOKEN_LENGTH) throw new Error(`${where}: token shorter than ${MIN_TOKEN_LENGTH} characters`);
    const parsed = roles.split(',').map((r) => r.trim());
    const bad = parsed.filter((r) => !isRole(r));
    if (bad.length) throw new Error(`${where}: unknown role ${bad.join(', ')} (roles: ${ROLES.join(', ')})`);
    let name: string | undefined;
    let nodes: TokenEntry['nodes'];
    for (const field of rest) {
      if (field.startsWith('nodes=')) {
        if (nodes !== undefined) throw new Error(`${where}: nodes= given twice`);
        nodes = parseNodes(field.slice('nodes='.length), where);
      } else if (name === undefined) {
        name = field;
      } else {
        throw new Error(`${where}: unexpected ${JSON.stringify(field)} (expected "<token> <roles> [name] [nodes=a,b]")`);
      }
    }
    set.add(token, { name: name ?? `token-${i + 1}`, roles: new Set(parsed.filter(isRole)), nodes });
  });
  if (set.size === 0) throw new Error(`${source}: no tokens`);
  return set;
}

type AuthOutcome =
  | { ok: true; caller: CallerIdentity }
  | { ok: false; code: 401 | 403 | 503; message: string; reason?: string; detail?: Record<string, unknown> };

function tokenCaller(entry: TokenEntry): CallerIdentity {
  const nodes = entry.nodes;
  return {
    kind: 'token', subject: entry.name, bound: Array.isArray(nodes), anyNode: nodes === '*',
    nodes: Array.isArray(nodes) ? nodes : undefined, detail: { token: entry.name },
  };
}

async function authorize(
  tokens: TokenSet | undefined, serviceAccounts: ServiceAccountVerifier | undefined, header: string | undefined, role: Role,
): Promise<AuthOutcome> {
  const token = bearerToken(header);
  // A ServiceAccount token is an agent's, and agents only report.
  if (token && serviceAccounts && role === 'report' && !tokens?.find(token) && looksLikeJwt(token)) {
    try {
      return { ok: true, caller: serviceAccountCaller(await serviceAccounts.verify(token)) };
    } catch (err) {
      if (err instanceof TokenRefused) return { ok: false, code: 401, message: err.message, reason: err.reason };
      if (err instanceof KeysUnavailable) return { ok: false, code: 503, message: err.message, reason: 'keys-unavailable' };
      throw err;
    }
  }
  if (!tokens) return { ok: true, caller: untrustedCaller('anonymous (--no-auth)') };
  if (!header) return { ok: false, code: 401, message: 'a bearer token is required (Authorization: Bearer <token>)' };
  if (!token) return { ok: false, code: 401, message: 'a bearer token is required (Authorization: Bearer <token>)' };
  const entry = tokens.find(token);
  if (!entry) return { ok: false, code: 401, message: 'unknown token' };
  if (!entry.roles.has(role)) return { ok: false, code: 403, message: `this token lacks the ${role} role` };
  return { ok: true, caller: tokenCaller(entry) };
}

const callers = new WeakMap<FastifyRequest, CallerIdentity>();

/** Who made this request, as the auth hook established it (an anonymous caller on open routes). */
export function callerOf(req: FastifyRequest): CallerIdentity {
  return callers.get(req) ?? untrustedCaller('anonymous');
}

/** Every route must say who may call it (`config.role`), so a route cannot be left open by forgetting. */
export function requireRole(route: RouteOptions): void {
  if (route.config?.role === undefined) throw new Error(`route ${String(route.method)} ${route.url} declares no role (config.role)`);
}

/**
 * The auth hook: runs when a request arrives, before its body is read or its parameters are parsed, and answers
 * 401 (no or unknown token, a ServiceAccount token that does not verify) or 403 (the token lacks the route's
 * role). Refused ServiceAccount tokens are logged and counted (`vigil_collector_refused_reports_total`, on
 * `registry`).
 */
export function authHook(tokens: TokenSet | undefined, serviceAccounts?: ServiceAccountVerifier, registry?: Registry): onRequestAsyncHookHandler {
  const refused = registry ? deliveryMetrics(registry) : undefined;
  return async (req, reply) => {
    const role = req.routeOptions.config.role;
    if (!role) return;
    const auth = await authorize(tokens, serviceAccounts, req.headers.authorization, role);
    if (auth.ok) {
      callers.set(req, auth.caller);
      return;
    }
    if (auth.reason) {
      refused?.refused('rest', auth.reason);
      req.log.warn({ transport: 'rest', peer: req.ip, reason: auth.reason }, `refused REST caller: ${auth.message}`);
    }
    if (auth.code === 401) reply.header('www-authenticate', 'Bearer realm="vigil-collector"');
    const error = auth.code === 401 ? 'Unauthorized' : auth.code === 403 ? 'Forbidden' : 'Service Unavailable';
    return reply.code(auth.code).send({ error, message: auth.message });
  };
}
