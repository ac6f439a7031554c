// Bearer tokens with roles: `read` for queries, `report` for ingest. Tokens are kept only as SHA-256 digests.
import { createHash } from 'node:crypto';
import type { onRequestAsyncHookHandler, RouteOptions } from 'fastify';

export const ROLES = ['read', 'report'] as const;
export type Role = (typeof ROLES)[number];

const isRole = (name: string): name is Role => ROLES.some((role) => role === name);

interface TokenEntry {
  name: string;
  roles: Set<Role>;
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

/** One token per line: `<token> <role>[,<role>] [name]`; `#` starts a comment. */
export function loadTokens(text: string, source = 'tokens file'): TokenSet {
  const set = new TokenSet();
  text.split('\n').forEach((line, i) => {
    const body = line.replace(/#.*/, '').trim();
    if (!body) return;
    const [token, roles, name] = body.split(/\s+/);
    const where = `${source}:${i + 1}`;
    if (!roles) throw new Error(`${where}: expected "<token> <roles> [name]"`);
    if (token.length < MIN_TOKEN_LENGTH) throw new Error(`${where}: token shorter than ${MIN_TOKEN_LENGTH} characters`);
    const parsed = roles.split(',').map((r) => r.trim());
    const bad = parsed.filter((r) => !isRole(r));
    if (bad.length) throw new Error(`${where}: unknown role ${bad.join(', ')} (roles: ${ROLES.join(', ')})`);
    set.add(token, { name: name ?? `token-${i + 1}`, roles: new Set(parsed.filter(isRole)) });
  });
  if (set.size === 0) throw new Error(`${source}: no tokens`);
  return set;
}

type AuthOutcome = { ok: true; who: string } | { ok: false; code: 401 | 403; message: string };

function authorize(tokens: TokenSet | undefined, header: string | undefined, role: Role): AuthOutcome {
  if (!tokens) return { ok: true, who: 'anonymous (--no-auth)' };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return { ok: false, code: 401, message: 'a bearer token is required (Authorization: Bearer <token>)' };
  const entry = tokens.find(m[1]);
  if (!entry) return { ok: false, code: 401, message: 'unknown token' };
  if (!entry.roles.has(role)) return { ok: false, code: 403, message: `this token lacks the ${role} role` };
  return { ok: true, who: entry.name };
}

/** Every route must say who may call it (`config.role`), so a route cannot be left open by forgetting. */
export function requireRole(route: RouteOptions): void {
  if (route.config?.role === undefined) throw new Error(`route ${String(route.method)} ${route.url} declares no role (config.role)`);
}

/**
 * The auth hook: runs when a request arrives, before its body is read or its parameters are parsed, and answers
 * 401 (no or unknown token) or 403 (the token lacks the route's role).
 */
export function authHook(tokens: TokenSet | undefined): onRequestAsyncHookHandler {
  return async (req, reply) => {
    const role = req.routeOptions.config.role;
    if (!role) return;
    const auth = authorize(tokens, req.headers.authorization, role);
    if (auth.ok) return;
    if (auth.code === 401) reply.header('www-authenticate', 'Bearer realm="vigil-collector"');
    return reply.code(auth.code).send({ error: auth.code === 401 ? 'Unauthorized' : 'Forbidden', message: auth.message });
  };
}
