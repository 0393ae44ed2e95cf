import { pino, type Logger } from 'pino';

/**
 * One structured logger for every process (pino, JSON lines on stderr so that stdout stays clean for command
 * output). The level comes from `logging.level` in the config or SKYDIVE_LOGGING_LEVEL.
 */
let root: Logger | undefined;

export function logger(): Logger {
  if (!root) {
    const level = pinoLevel(process.env.SKYDIVE_LOGGING_LEVEL ?? process.env.SKYDIVE_LOG_LEVEL ?? 'info');
    root = pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
  }
  return root;
}

export function setLogLevel(level: string): void {
  logger().level = pinoLevel(level);
}

/** The original's level names (DEBUG, INFO, WARNING, CRITICAL...) as pino levels; unknown names mean info. */
export function pinoLevel(level: string): string {
  const l = level.toLowerCase();
  if (l === 'warning') return 'warn';
  if (l === 'critical') return 'fatal';
  if (l === 'notice') return 'info';
  return ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(l) ? l : 'info';
}

export function childLogger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return logger().child({ component, ...bindings });
}
