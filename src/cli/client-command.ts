import { hostname } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../common/errors.js';
import { AnalyzerClient, AnalyzerError, UnreachableError, errorFromResponse, parseAnswer } from '../common/http-client.js';
import { parseServiceAddress } from '../common/address.js';
import type { EdgeJSON, GraphJSON, NodeJSON } from '../graph/graph.js';

/**
 * `skydive client ...`: the analyzer's REST API from the command line. Output is JSON pretty-printed as the
 * original client prints it (scripts parse it); `--format dot|table` for queries. An analyzer error or an
 * unreachable analyzer is one line on stderr and exit code 1. Other features add their subcommands with
 * `addClientCommands(register)` (or take the Command returned by registerClientCommand) and use `clientFor`,
 * `runClient` and `printJSON`.
 */
export type ClientCommandRegistration = (client: Command) => void;

const extensions: ClientCommandRegistration[] = [];

/** Register subcommands of `skydive client` defined in another module (called before the program is built). */
export function addClientCommands(register: ClientCommandRegistration): void {
  extensions.push(register);
}

export function registerClientCommand(program: Command): Command {
  const client = program
    .command('client')
    .description('query and modify the topology through an analyzer')
    .enablePositionalOptions(false)
    .addOption(new Option('--analyzer <addr>', 'analyzer address host:port').env('SKYDIVE_ANALYZER').default('127.0.0.1:8082').argParser(analyzerAddress))
    .addOption(new Option('--username <name>', 'username for the analyzer API').env('SKYDIVE_USERNAME'))
    .addOption(new Option('--password <password>', 'password for the analyzer API').env('SKYDIVE_PASSWORD'));

  client
    .command('query <gremlin>')
    .description('run a Gremlin query (POST /api/topology)')
    .addOption(formatOption())
    .action((gremlin: string, opts: { format: Format }, cmd: Command) => runClient(() => queryAndPrint(clientFor(cmd), gremlin, opts.format)));

  const topology = client.command('topology').description('query or export the topology');
  topology
    .command('query')
    .description('run a Gremlin query')
    .requiredOption('--gremlin <query>', 'Gremlin query, e.g. "G.V().Has(\'Type\',\'netns\')"')
    .addOption(formatOption())
    .action((opts: { gremlin: string; format: Format }, cmd: Command) => runClient(() => queryAndPrint(clientFor(cmd), opts.gremlin, opts.format)));
  topology
    .command('export')
    .description('print the whole topology (the query G)')
    .addOption(formatOption())
    .action((opts: { format: Format }, cmd: Command) => runClient(() => queryAndPrint(clientFor(cmd), 'G', opts.format)));

  client
    .command('status')
    .description('analyzer status: connected agents, subscribers, probes')
    .action((_opts: unknown, cmd: Command) => runClient(async () => printJSON(await clientFor(cmd).json('GET', '/api/status'))));

  registerElementCommands(client, 'node');
  registerElementCommands(client, 'edge');

  for (const register of extensions) register(client);
  return client;
}

// ---- shared helpers for client subcommands (also used by other modules)

/** The API client configured by the `client` options (--analyzer, --username, --password). */
export function clientFor(cmd: Command): AnalyzerClient {
  const o = cmd.optsWithGlobals() as { analyzer: string; username?: string; password?: string };
  return new AnalyzerClient(o.analyzer, o.username ? { username: o.username, password: o.password ?? '' } : undefined);
}

/**
 * Run a client action: analyzer errors and unreachable analyzers are reported on one line (exit code 1);
 * usage errors go up to main (exit code 2).
 */
export async function runClient(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (err instanceof AnalyzerError || err instanceof UnreachableError) {
      process.stderr.write(`skydive: ${err.message}${err instanceof AnalyzerError ? ` [${err.code}]` : ''}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}

/** JSON as the original client prints it: indented by two spaces, one trailing newline. */
export function printJSON(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** `k1=v1, k2=v2` → {k1: 'v1', k2: 'v2'}; dotted keys nest (`Ovs.Name=x`). */
export function parseMetadataDef(def: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const part of def.split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError('SKYDIVE_CLIENT_BAD_METADATA', `bad metadata '${p}': expected key=value`);
    const key = p.slice(0, eq).trim();
    const value = p.slice(eq + 1).trim();
    const parts = key.split('.');
    let cur = out;
    for (const k of parts.slice(0, -1)) {
      if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
      cur = cur[k] as Record<string, unknown>;
    }
    cur[parts[parts.length - 1]] = value;
  }
  return out;
}

// ---- queries

type Format = 'json' | 'dot' | 'table' | 'pcap';

/** Formats other than JSON that the analyzer renders itself, by media type (`pcap` only for RawPackets()). */
const SERVER_FORMATS: Partial<Record<Format, string>> = { dot: 'text/vnd.graphviz', pcap: 'application/vnd.tcpdump.pcap' };

function formatOption(): Option {
  return new Option('--format <format>', 'output format (pcap: for ...RawPackets() queries)').choices(['json', 'dot', 'table', 'pcap']).default('json');
}

async function queryAndPrint(api: AnalyzerClient, gremlin: string, format: Format): Promise<void> {
  const accept = SERVER_FORMATS[format];
  if (accept) {
    const res = await api.request('POST', '/api/topology', { body: { GremlinQuery: gremlin }, accept });
    if (res.status < 200 || res.status >= 300) throw errorFromResponse(res);
    process.stdout.write(res.raw);
    return;
  }
  const res = await api.request('POST', '/api/topology', { body: { GremlinQuery: gremlin } });
  const result = parseAnswer<unknown>(res);
  if (format === 'table') process.stdout.write(renderTable(result));
  else printJSON(result ?? null);
}

function renderTable(result: unknown): string {
  if (Array.isArray(result) && result.every(isGraph)) {
    return (result as GraphJSON[]).map((g) => table(NODE_COLUMNS, g.Nodes) + '\n' + table(EDGE_COLUMNS, g.Edges)).join('\n');
  }
  if (Array.isArray(result) && result.length && result.every(isEdge)) return table(EDGE_COLUMNS, result as EdgeJSON[]);
  if (Array.isArray(result) && result.length && result.every(isNode)) return table(NODE_COLUMNS, result as NodeJSON[]);
  if (Array.isArray(result)) return result.map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))).join('\n') + (result.length ? '\n' : '');
  return (typeof result === 'object' && result !== null ? JSON.stringify(result) : String(result)) + '\n';
}

type Column<T> = [string, (x: T) => unknown];
const NODE_COLUMNS: Column<NodeJSON>[] = [
  ['ID', (n) => n.ID],
  ['TYPE', (n) => n.Metadata?.Type],
  ['NAME', (n) => n.Metadata?.Name],
  ['HOST', (n) => n.Host],
];
const EDGE_COLUMNS: Column<EdgeJSON>[] = [
  ['ID', (e) => e.ID],
  ['RELATION', (e) => e.Metadata?.RelationType],
  ['PARENT', (e) => e.Parent],
  ['CHILD', (e) => e.Child],
];

function table<T>(columns: Column<T>[], rows: T[]): string {
  const cells = [columns.map((c) => c[0]), ...rows.map((r) => columns.map((c) => cellText(c[1](r))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

function cellText(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function isObj(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}
function isGraph(x: unknown): boolean {
  return isObj(x) && Array.isArray(x.Nodes) && Array.isArray(x.Edges);
}
function isNode(x: unknown): boolean {
  return isObj(x) && typeof x.ID === 'string' && isObj(x.Metadata) && !('Parent' in x);
}
function isEdge(x: unknown): boolean {
  return isObj(x) && typeof x.ID === 'string' && typeof x.Parent === 'string' && typeof x.Child === 'string';
}

// ---- node / edge

function registerElementCommands(client: Command, kind: 'node' | 'edge'): void {
  const cmd = client.command(kind).description(`create, list, get or delete ${kind}s of the live graph`);
  const create = cmd.command('create').description(`create a ${kind} (POST /api/${kind})`);
  if (kind === 'node') {
    create.requiredOption('--node-name <name>', 'Metadata.Name').requiredOption('--node-type <type>', 'Metadata.Type');
  } else {
    create
      .requiredOption('--parent <id>', 'parent node ID')
      .requiredOption('--child <id>', 'child node ID')
      .requiredOption('--edge-type <relation>', 'Metadata.RelationType (ownership, layer2, ...)');
  }
  create
    .option('--metadata <defs>', "extra metadata 'k1=v1, k2=v2' (dotted keys nest)")
    .option('--host <host>', 'Host of the element', hostname())
    .action((opts: Record<string, string | undefined>, c: Command) =>
      runClient(async () => {
        const metadata = opts.metadata ? parseMetadataDef(opts.metadata) : {};
        const host = opts.host ?? hostname();
        const body: Record<string, unknown> =
          kind === 'node'
            ? { Metadata: { ...metadata, Name: opts.nodeName, Type: opts.nodeType }, Host: host, Origin: `cli.${host}` }
            : { Parent: opts.parent, Child: opts.child, Metadata: { ...metadata, RelationType: opts.edgeType }, Host: host, Origin: `cli.${host}` };
        printJSON(await clientFor(c).json('POST', `/api/${kind}`, body));
      }),
    );

  cmd
    .command('list')
    .description(`list ${kind}s (GET /api/${kind}, an object by ID)`)
    .action((_o: unknown, c: Command) => runClient(async () => printJSON(await clientFor(c).json('GET', `/api/${kind}`))));

  cmd
    .command('get <id>')
    .description(`get one ${kind} by ID`)
    .action((id: string, _o: unknown, c: Command) => runClient(async () => printJSON(await clientFor(c).json('GET', `/api/${kind}/${encodeURIComponent(id)}`))));

  cmd
    .command('delete [ids...]')
    .description(`delete ${kind}s by ID, or every ${kind} a Gremlin query returns`)
    .option('--gremlin <query>', `delete the ${kind}s returned by this query`)
    .action((ids: string[], opts: { gremlin?: string }, c: Command) =>
      runClient(async () => {
        const api = clientFor(c);
        const targets = [...ids];
        if (opts.gremlin) {
          const found = await api.query<unknown>(opts.gremlin);
          if (!Array.isArray(found) || !found.every(kind === 'node' ? isNode : isEdge)) {
            throw new UsageError('SKYDIVE_CLIENT_BAD_QUERY', `--gremlin must return ${kind}s (e.g. G.${kind === 'node' ? 'V' : 'E'}().Has(...))`);
          }
          targets.push(...(found as Array<{ ID: string }>).map((x) => x.ID));
        }
        if (!targets.length) throw new UsageError('SKYDIVE_CLIENT_NOTHING_TO_DELETE', `give ${kind} IDs or --gremlin`);
        for (const id of targets) await api.json('DELETE', `/api/${kind}/${encodeURIComponent(id)}`);
        printJSON(targets);
      }),
    );
}

function analyzerAddress(v: string): string {
  const a = parseServiceAddress(v);
  if (typeof a === 'string') throw new InvalidArgumentError(a);
  return v;
}
