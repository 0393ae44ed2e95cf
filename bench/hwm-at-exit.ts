import { readFileSync } from 'node:fs';

/**
 * Preloaded (`node --import`) into a benchmarked process when /usr/bin/time is absent: prints the peak resident
 * set size (VmHWM) and the CPU time on stderr as the process exits, when /proc can still be read from inside.
 */
process.on('exit', () => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  const cpu = process.cpuUsage();
  if (m) process.stderr.write(`bench-vmhwm-kb ${m[1]}\nbench-cpu-s ${(cpu.user + cpu.system) / 1e6}\n`);
});
