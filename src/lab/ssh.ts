import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { Client, type ClientChannel } from 'ssh2';
import { SkydiveError } from '../common/errors.js';
import type { SshEndpoint } from './state.js';

export const SSH_FAILED = 'SKYDIVE_LAB_SSH_FAILED';

export interface ExecResult {
  /** exit status; 128+N when the command died of signal N (as a shell reports it) */
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** written to the command's stdin, which is then closed */
  stdin?: string | Buffer;
  timeoutMs?: number;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

/** One SSH connection to a lab host (ssh2); commands run on channels of it, concurrently if needed. */
export class SshConnection {
  private constructor(private readonly client: Client, readonly endpoint: SshEndpoint) {}

  static open(ep: SshEndpoint, timeoutMs = 10000): Promise<SshConnection> {
    const privateKey = readFileSync(ep.privateKeyPath);
    return new Promise((resolve, reject) => {
      const client = new Client();
      const fail = (err: Error): void => {
        client.end();
        reject(new SkydiveError(SSH_FAILED, `ssh ${ep.user}@${ep.host}:${ep.port}: ${err.message}`));
      };
      client.once('ready', () => {
        client.removeListener('error', fail);
        // later transport errors surface through the pending exec/shell calls
        client.on('error', () => undefined);
        resolve(new SshConnection(client, ep));
      });
      client.once('error', fail);
      client.connect({ host: ep.host, port: ep.port, username: ep.user, privateKey, readyTimeout: timeoutMs, keepaliveInterval: 5000 });
    });
  }

  /** Run `command` through the remote user's shell, collecting its output. */
  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, stream) => {
        if (err) return reject(new SkydiveError(SSH_FAILED, `ssh ${this.endpoint.host}: cannot run command: ${err.message}`));
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let code: number | undefined;
        let timer: NodeJS.Timeout | undefined;
        if (opts.timeoutMs) {
          timer = setTimeout(() => {
            stream.signal('KILL');
            stream.close();
            reject(new SkydiveError(SSH_FAILED, `command timed out after ${opts.timeoutMs} ms on ${this.endpoint.host}: ${command}`));
          }, opts.timeoutMs);
        }
        stream.on('data', (d: Buffer) => {
          out.push(d);
          opts.onStdout?.(d);
        });
        stream.stderr.on('data', (d: Buffer) => {
          errOut.push(d);
          opts.onStderr?.(d);
        });
        stream.on('exit', (c: number | null, signal?: string) => {
          code = exitCode(c, signal);
        });
        stream.on('close', () => {
          if (timer) clearTimeout(timer);
          resolve({ code: code ?? 255, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errOut).toString() });
        });
        stream.end(opts.stdin ?? undefined);
      });
    });
  }

  /**
   * An interactive session bound to this terminal: a login shell, or `command` with a pty. Resolves with the
   * remote exit status.
   */
  interactive(command?: string): Promise<number> {
    const stdin = process.stdin;
    const term = { term: process.env.TERM || 'xterm', rows: process.stdout.rows || 24, cols: process.stdout.columns || 80 };
    return new Promise((resolve, reject) => {
      const start = (err: Error | undefined, stream: ClientChannel): void => {
        if (err) return reject(new SkydiveError(SSH_FAILED, `ssh ${this.endpoint.host}: ${err.message}`));
        let code = 0;
        const onResize = (): void => stream.setWindow(process.stdout.rows, process.stdout.columns, 0, 0);
        if (stdin.isTTY) stdin.setRawMode(true);
        process.stdout.on('resize', onResize);
        stdin.pipe(stream);
        stream.pipe(process.stdout);
        stream.stderr.pipe(process.stderr);
        stream.on('exit', (c: number | null, signal?: string) => {
          code = exitCode(c, signal);
        });
        stream.on('close', () => {
          stdin.unpipe(stream);
          if (stdin.isTTY) stdin.setRawMode(false);
          stdin.pause();
          process.stdout.removeListener('resize', onResize);
          resolve(code);
        });
      };
      if (command === undefined) this.client.shell(term, start);
      else this.client.exec(command, { pty: term }, start);
    });
  }

  /** Copy a local file to the host (SFTP). */
  upload(local: string, remote: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.sftp((err, sftp) => {
        if (err) return reject(new SkydiveError(SSH_FAILED, `sftp ${this.endpoint.host}: ${err.message}`));
        sftp.fastPut(local, remote, (e) => {
          sftp.end();
          if (e) reject(new SkydiveError(SSH_FAILED, `sftp ${this.endpoint.host}: cannot write ${remote}: ${e.message}`));
          else resolve();
        });
      });
    });
  }

  close(): void {
    this.client.end();
  }
}

function exitCode(code: number | null, signal?: string): number {
  if (code !== null && code !== undefined) return code;
  const n = signal ? (osConstants.signals as Record<string, number>)[`SIG${signal}`] : undefined;
  return n ? 128 + n : 255;
}

/** Quote one word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `env K=V ...` prefix with quoted values. */
export function envPrefix(env: Record<string, string>): string {
  const parts = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`);
  return parts.length ? `env ${parts.join(' ')} ` : '';
}
