// `vigil-collector query ...`: the REST API from a terminal. Filters are generated from the routes' parameter specs.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { isRecord } from '../../common/json.js';
import { FindingsQuery } from '../serve/routes/findings.js';
import { getAllPages, getJson, type QueryTarget } from './client.js';
import { RENDERERS, sortChecks } from './render.js';

interface Globals { url: string; tokenFile?: string; format: 'table' | 'json'; json?: boolean }

function target(cmd: Command): QueryTarget {
  const g = cmd.optsWithGlobals<Globals>();
  const token = g.tokenFile ? readFileSync(g.tokenFile, 'utf8').trim() : process.env.VIGIL_TOKEN;
  return { url: g.url, token };
}

/** A table for people by default; the REST answer as JSON with --json (or --format json). */
const print = (cmd: Command, kind: string, body: unknown): void => {
  const { format, json } = cmd.optsWithGlobals<Globals>();
  const render = RENDERERS[kind];
  if (json || format === 'json' || !render) process.stdout.write(JSON.stringify(body, null, 2) + '\n');
  else process.stdout.write(render(body));
};

/** The findings filters, named and described as the REST route's query schema has them (the cursor is followed by --all). */
const FINDINGS_FILTERS = Object.entries(FindingsQuery.shape)
  .filter(([name]) => name !== 'cursor')
  .map(([name, schema]) => ({ name, description: schema.description ?? name }));

function addParamOptions(cmd: Command, params: ReadonlyArray<{ name: string; description: string }>): Command {
  for (const p of params) cmd.option(`--${p.name} <value>`, p.description);
  return cmd;
}

const pick = (opts: Record<string, unknown>, params: ReadonlyArray<{ name: string }>): Record<string, string | undefined> =>
  Object.fromEntries(params.map((p) => [p.name, opts[p.name] === undefined ? undefined : String(opts[p.name])]));

export function queryCommand(): Command {
  const query = new Command('query')
    .description('ask a running collector (REST) from a terminal')
    .option('--url <url>', 'collector base URL', process.env.VIGIL_COLLECTOR_URL ?? 'http://127.0.0.1:8080')
    .option('--token-file <file>', 'file holding a bearer token with the read role (default: $VIGIL_TOKEN)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--json', 'print the REST answer as JSON (the same as --format json)');

  addParamOptions(query.command('findings').description('findings across the cluster, problems first (failures, errors, warnings, then passes and skips)'), FINDINGS_FILTERS)
    .option('--all', 'follow pages (up to 100000 findings)')
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const params = pick(opts, FINDINGS_FILTERS);
      const body = opts.all
        ? { items: await getAllPages(target(cmd), 'api/v1/findings', params, 100_000) }
        : await getJson(target(cmd), 'api/v1/findings', params);
      print(cmd, 'findings', body);
    });

  query.command('nodes').description('nodes and their status')
    .option('--role <role>', 'only nodes with this role')
    .option('--status <status>', 'reporting or silent')
    .action(async (opts: Record<string, string | undefined>, cmd: Command) => {
      print(cmd, 'nodes', await getJson(target(cmd), 'api/v1/nodes', { role: opts.role, status: opts.status }));
    });

  query.command('node <name>').description('one node with its findings (problems first) and history')
    .option('--limit <n>', 'most findings shown (default 1000)')
    .option('--history <n>', 'most history entries shown (default 100)')
    .action(async (name: string, opts: Record<string, string | undefined>, cmd: Command) => {
      print(cmd, 'node', await getJson(target(cmd), `api/v1/nodes/${encodeURIComponent(name)}`, { limit: opts.limit, history: opts.history }));
    });

  query.command('checks').description('checks with pass/fail counts across nodes, in CIS order')
    .option('--component <component>', 'only this component')
    .option('--cis <id>', 'CIS id or section prefix')
    .action(async (opts: Record<string, string | undefined>, cmd: Command) => {
      const body = await getJson(target(cmd), 'api/v1/checks', { component: opts.component, cis: opts.cis });
      print(cmd, 'checks', isRecord(body) && Array.isArray(body.items) ? { ...body, items: sortChecks(body.items.filter(isRecord)) } : body);
    });

  query.command('correlations').description('drift, attack paths and coverage gaps')
    .option('--kind <kinds>', 'drift, attack-path, coverage (comma-separated)')
    .option('--severity <severities>', 'comma-separated severities')
    .option('--node <name>', 'only correlations involving this node')
    .action(async (opts: Record<string, string | undefined>, cmd: Command) => {
      print(cmd, 'correlations', await getJson(target(cmd), 'api/v1/correlations', { kind: opts.kind, severity: opts.severity, node: opts.node }));
    });

  query.command('summary').description('the cluster at a glance')
    .action(async (_opts: unknown, cmd: Command) => { print(cmd, 'summary', await getJson(target(cmd), 'api/v1/summary')); });

  return query;
}
