import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../config/loader.js';
import type { Config } from '../config/config.js';
import { childLogger, setLogLevel } from '../common/log.js';
import { dialableAddress, formatAddress, parseServiceAddress } from '../common/address.js';
import { collect } from './options.js';

// The servers (fastify, ws, probes, plugins) are loaded only by the commands that run them, so that
// `skydive client ...` and other short-lived commands start fast.
const loadAgent = async () => {
  const [{ Agent }, { agentPlugins }] = await Promise.all([import('../agent/agent.js'), import('../agent/plugins.js')]);
  return { Agent, agentPlugins };
};
const loadAnalyzer = async () => {
  const [{ Analyzer }, { analyzerPlugins }] = await Promise.all([import('../analyzer/analyzer.js'), import('../analyzer/plugins.js')]);
  return { Analyzer, analyzerPlugins };
};

/**
 * `skydive agent`, `skydive analyzer`, `skydive allinone`: load the configuration (--conf files, SKYDIVE_* env),
 * start the services and run until SIGINT/SIGTERM, then stop cleanly (agents leave, analyzer closes sockets).
 */
export function registerServerCommands(program: Command): void {
  program
    .command('agent')
    .description('run an agent: topology probes of this host, published to the analyzers')
    .option('-c, --conf <file>', 'configuration file (repeatable, merged in order; - reads stdin)', collect, [])
    .option('--host-id <id>', 'host id of this agent (overrides host_id)', nonEmpty('host id'))
    .option('--listen <addr>', 'address of the agent API (overrides agent.listen)', address)
    .action(async (opts: { conf: string[]; hostId?: string; listen?: string }) => {
      const config = loadServerConfig(opts.conf);
      const { Agent, agentPlugins } = await loadAgent();
      const agent = new Agent(config, { hostID: opts.hostId, listen: opts.listen });
      for (const p of agentPlugins()) agent.use(p);
      await runUntilSignal('agent', [agent]);
    });

  program
    .command('analyzer')
    .description('run an analyzer: aggregated topology, REST API and WebSocket endpoints')
    .option('-c, --conf <file>', 'configuration file (repeatable, merged in order; - reads stdin)', collect, [])
    .option('--listen <addr>', 'address of the analyzer API (overrides analyzer.listen)', address)
    .action(async (opts: { conf: string[]; listen?: string }) => {
      const config = loadServerConfig(opts.conf);
      const { Analyzer, analyzerPlugins } = await loadAnalyzer();
      const analyzer = new Analyzer(config, { listen: opts.listen });
      for (const p of analyzerPlugins()) analyzer.use(p);
      await runUntilSignal('analyzer', [analyzer]);
    });

  program
    .command('allinone')
    .description('run an analyzer and an agent in one process (the agent publishes to this analyzer)')
    .option('-c, --conf <file>', 'configuration file (repeatable, merged in order; - reads stdin)', collect, [])
    .action(async (opts: { conf: string[] }) => {
      const config = loadServerConfig(opts.conf);
      const [{ Analyzer, analyzerPlugins }, { Agent, agentPlugins }] = await Promise.all([loadAnalyzer(), loadAgent()]);
      const analyzer = new Analyzer(config);
      for (const p of analyzerPlugins()) analyzer.use(p);
      const listen = parseServiceAddress(config.get<string>('analyzer.listen'));
      const own = typeof listen === 'string' ? [] : [formatAddress(dialableAddress(listen))];
      const agent = new Agent(config, { analyzers: config.has('analyzers') ? undefined : own });
      for (const p of agentPlugins()) agent.use(p);
      await runUntilSignal('allinone', [analyzer, agent]);
    });
}

function loadServerConfig(files: string[]): Config {
  const config = loadConfig(files);
  setLogLevel(config.get<string>('logging.level', 'INFO'));
  return config;
}

interface Service {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Start the services in order, wait for SIGINT/SIGTERM, stop them in reverse order. */
async function runUntilSignal(name: string, services: Service[]): Promise<void> {
  const log = childLogger(name);
  const started: Service[] = [];
  const stopAll = async () => {
    for (const s of started.reverse()) {
      try {
        await s.stop();
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'error while stopping');
      }
    }
  };
  let signalled: NodeJS.Signals | undefined;
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      if (signalled) {
        log.warn({ signal: sig }, 'second signal: exiting now');
        process.exit(1);
      }
      signalled = sig;
      resolve(sig);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  try {
    for (const s of services) {
      if (signalled) break;
      await s.start();
      started.push(s);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  const sig = await stopped;
  log.info({ signal: sig }, 'stopping');
  await stopAll();
  log.info('stopped');
  // sockets of stopped services may linger for their close handshake; nothing else is left to do
  process.exit(0);
}

function address(v: string): string {
  const a = parseServiceAddress(v);
  if (typeof a === 'string') throw new InvalidArgumentError(a);
  return v;
}

function nonEmpty(what: string): (v: string) => string {
  return (v: string) => {
    if (v.trim() === '') throw new InvalidArgumentError(`${what} must not be empty`);
    return v;
  };
}
