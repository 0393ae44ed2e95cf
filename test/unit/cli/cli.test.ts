import { strict as assert } from 'node:assert';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMAND_GROUPS, commandGroupOf } from '../../../src/cli/command-groups.js';
import { VERSION } from '../../../src/common/version.js';
import { NATIVE_ADDON, PROJECT_ROOT, childScript } from '../../../src/common/project-root.js';
import { REPO_ROOT, SKYDIVE_BIN, runSkydive } from '../../helpers/shared.js';

describe('skydive CLI', function () {
  this.timeout(120000);

  it('lists every command in its help and prints its version', function () {
    const help = runSkydive(['--help']);
    assert.equal(help.status, 0, help.stderr);
    for (const cmd of ['flows', 'agent', 'analyzer', 'allinone', 'client', 'lab']) assert.match(help.stdout, new RegExp(`^  ${cmd}\\b`, 'm'), cmd);
    const version = runSkydive(['--version']);
    assert.equal(version.stdout.trim(), VERSION);
  });

  it('gives every command and subcommand a --help, from the bundle of its group', function () {
    const commands = [
      ['flows'],
      ['agent'],
      ['analyzer'],
      ['allinone'],
      ['client'],
      ['client', 'topology', 'query'],
      ['client', 'capture', 'create'],
      ['client', 'injection', 'create'],
      ['lab'],
      ['lab', 'up'],
      ['lab', 'run'],
    ];
    for (const cmd of commands) {
      const r = runSkydive([...cmd, '--help']);
      assert.equal(r.status, 0, `${cmd.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: skydive ${cmd.join(' ')} `, 'm'), cmd.join(' '));
    }
  });

  it('rejects an unknown command or flag with one line and exit code 2', function () {
    for (const args of [['frobnicate'], ['--bogus'], ['client', 'frobnicate']]) {
      const r = runSkydive(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  it('says the project is not built when its bundles are missing', function () {
    const dir = mkdtempSync(join(tmpdir(), 'skydive-cli-'));
    try {
      mkdirSync(join(dir, 'bin'));
      copyFileSync(SKYDIVE_BIN, join(dir, 'bin', 'skydive'));
      copyFileSync(join(REPO_ROOT, 'bin', 'package.json'), join(dir, 'bin', 'package.json'));
      const r = runSkydive(['--help'], join(dir, 'bin', 'skydive'));
      assert.equal(r.status, 1);
      assert.match(r.stderr, /not built yet; run `make build`/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('picks the bundle of the command group named by the first argument that is not an option', function () {
    assert.equal(commandGroupOf(['flows', '--pcap', 'x']), 'flows');
    assert.equal(commandGroupOf(['--conf', 'x.yml']), 'all');
    assert.equal(commandGroupOf(['-V']), 'all');
    assert.equal(commandGroupOf([]), 'all');
    assert.equal(commandGroupOf(['analyzer', '--listen', ':8082']), 'server');
    assert.equal(commandGroupOf(['allinone']), 'server');
    assert.equal(commandGroupOf(['client', 'topology', 'query']), 'client');
    assert.equal(commandGroupOf(['lab', 'up']), 'lab');
    // names of Object.prototype are no commands
    assert.equal(commandGroupOf(['constructor']), 'all');
    assert.equal(commandGroupOf(['toString']), 'all');
    for (const group of [...COMMAND_GROUPS, 'all']) assert.ok(existsSync(join(REPO_ROOT, 'dist', 'cli', `skydive-${group}.cjs`)), group);
  });

  it('finds the project root, the addon and the child scripts from the compiled modules', function () {
    assert.equal(PROJECT_ROOT, REPO_ROOT);
    assert.ok(existsSync(NATIVE_ADDON), NATIVE_ADDON);
    assert.equal(childScript('capture-worker.cjs', 'probes/capture/worker.js'), join(REPO_ROOT, 'dist', 'cli', 'capture-worker.cjs'));
    assert.equal(childScript('no-such-bundle.cjs', 'injector/sender.js'), join(REPO_ROOT, 'dist', 'src', 'injector', 'sender.js'));
  });
});
