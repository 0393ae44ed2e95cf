import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Graph, Node } from '../../graph/graph.js';

/**
 * Node cannot enter a network namespace, so capture workers and injection senders run as child Node processes
 * started through `nsenter --net=<path>` (any path: /var/run/netns, docker's...). They talk JSON lines on
 * stdin/stdout; stderr carries their logs.
 */

/** The netns `Path` owning a node (through ownership edges), or undefined for the agent's own namespace. */
export function namespacePathOf(graph: Graph, node: Node): string | undefined {
  let cur: Node | undefined = node;
  for (let depth = 0; cur && depth < 16; depth++) {
    if (cur.metadata.Type === 'netns' && typeof cur.metadata.Path === 'string') return cur.metadata.Path;
    if (cur.metadata.Type === 'host') return undefined;
    cur = graph.lookupParents(cur, {}, { RelationType: 'ownership' })[0];
  }
  return undefined;
}

export interface JsonChild<M> {
  readonly process: ChildProcessWithoutNullStreams;
  send(msg: unknown): void;
  /** Resolves with the exit code once the process has exited and its stdout was read to the end. */
  readonly exited: Promise<number>;
  onMessage(cb: (msg: M) => void): void;
  /** Last lines the child wrote on stderr (for error reports). */
  stderrTail(): string;
}

/** Starts `node <script> <json arg>` inside the namespace (or in ours when nsPath is undefined). */
export function spawnJsonChild<M>(nsPath: string | undefined, script: string, arg: unknown): JsonChild<M> {
  const argv = [script, JSON.stringify(arg)];
  const child = nsPath ? spawn('nsenter', [`--net=${nsPath}`, process.execPath, ...argv], { stdio: 'pipe' }) : spawn(process.execPath, argv, { stdio: 'pipe' });
  const listeners: Array<(m: M) => void> = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4096);
  });
  child.stdin.on('error', () => undefined);
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    let m: M;
    try {
      m = JSON.parse(line) as M;
    } catch {
      return;
    }
    for (const l of listeners) l(m);
  });
  const exited = new Promise<number>((resolve) => {
    let code = -1;
    let closed = false;
    let exitedProc = false;
    const done = () => closed && exitedProc && resolve(code);
    child.on('error', (err) => {
      stderr += `\n${err.message}`;
      exitedProc = true;
      closed = true;
      resolve(-1);
    });
    child.on('exit', (c, signal) => {
      code = c ?? (signal ? 128 : -1);
      exitedProc = true;
      done();
    });
    lines.on('close', () => {
      closed = true;
      done();
    });
  });
  return {
    process: child,
    exited,
    send: (msg) => {
      if (child.stdin.writable) child.stdin.write(JSON.stringify(msg) + '\n');
    },
    onMessage: (cb) => listeners.push(cb),
    stderrTail: () => stderr.trim().split('\n').slice(-5).join('\n'),
  };
}
