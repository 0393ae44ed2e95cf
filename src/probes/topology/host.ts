import { existsSync, readFileSync } from 'node:fs';
import { hostname, platform, release } from 'node:os';
import { genID, type Graph, type Metadata, type Node } from '../../graph/graph.js';

/**
 * The agent's root node (reference §5.1): Type host, Name = host_id, TID = genID(Name), plus what the original's
 * hardware probe reports (OS, platform, kernel, CPUs, virtualisation) and the user's `agent.metadata`.
 */
export function createHostNode(graph: Graph, hostID: string, extra: Metadata = {}): Node {
  const metadata: Metadata = {
    ...hardwareMetadata(),
    ...extra,
    Name: hostID,
    Type: 'host',
    Hostname: hostname(),
    TID: genID(hostID),
  };
  return graph.newNode(genID(hostID), metadata);
}

export function hardwareMetadata(): Metadata {
  const m: Metadata = { OS: platform(), KernelVersion: release() };
  const osr = osRelease();
  if (osr.ID) {
    m.Platform = osr.ID;
    m.PlatformFamily = platformFamily(osr.ID, osr.ID_LIKE ?? '');
    m.PlatformVersion = (osr.ID === 'debian' && readText('/etc/debian_version')?.trim()) || osr.VERSION_ID || '';
  }
  const cpus = cpuInfo();
  if (cpus.length) m.CPU = cpus;
  Object.assign(m, virtualization());
  const cmdline = readText('/proc/cmdline');
  if (cmdline) m.KernelCmdLine = kernelCmdLine(cmdline);
  const isolated = readText('/sys/devices/system/cpu/isolated')?.trim();
  if (isolated) m.IsolatedCPU = cpuList(isolated);
  const instance = (readText('/sys/class/dmi/id/product_uuid') ?? readText('/etc/machine-id'))?.trim();
  if (instance) m.InstanceID = instance;
  return m;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function osRelease(): Record<string, string> {
  const out: Record<string, string> = {};
  const text = readText('/etc/os-release') ?? readText('/usr/lib/os-release') ?? '';
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2].replace(/^["']|["']$/g, '');
  }
  return out;
}

/** gopsutil's families: debian, rhel, fedora, suse, arch, alpine... (ID, then ID_LIKE). */
function platformFamily(id: string, idLike: string): string {
  const families: Record<string, string> = {
    debian: 'debian', ubuntu: 'debian', linuxmint: 'debian', raspbian: 'debian',
    fedora: 'fedora',
    rhel: 'rhel', centos: 'rhel', rocky: 'rhel', almalinux: 'rhel', ol: 'rhel', amzn: 'rhel',
    suse: 'suse', opensuse: 'suse', sles: 'suse', 'opensuse-leap': 'suse', 'opensuse-tumbleweed': 'suse',
    arch: 'arch', manjaro: 'arch', alpine: 'alpine', gentoo: 'gentoo',
  };
  for (const cand of [id, ...idLike.split(/\s+/)]) if (families[cand]) return families[cand];
  return id;
}

/** /proc/cpuinfo, one entry per logical CPU, with gopsutil's field names and types. */
export function cpuInfo(text = readText('/proc/cpuinfo') ?? ''): Metadata[] {
  const cpus: Metadata[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const f: Record<string, string> = {};
    for (const line of block.split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) f[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    if (f.processor === undefined) continue;
    const int = (v: string | undefined): number => Number.parseInt(v ?? '0', 10) || 0;
    cpus.push({
      CPU: int(f.processor),
      VendorID: f.vendor_id ?? '',
      Family: f['cpu family'] ?? '',
      Model: f.model ?? '',
      Stepping: int(f.stepping),
      PhysicalID: f['physical id'] ?? '',
      CoreID: f['core id'] ?? '',
      Cores: int(f['cpu cores']),
      ModelName: f['model name'] ?? '',
      Mhz: Number.parseFloat(f['cpu MHz'] ?? '0') || 0,
      CacheSize: int(f['cache size']),
      Microcode: f.microcode ?? '',
    });
  }
  return cpus;
}

/** Best effort, like gopsutil: Xen/KVM/containers from /proc and sysfs; the cpuinfo hypervisor flag says guest. */
function virtualization(): Metadata {
  const hv = readText('/sys/hypervisor/type')?.trim();
  if (hv) return { VirtualizationSystem: hv, VirtualizationRole: 'guest' };
  if (existsSync('/proc/xen')) return { VirtualizationSystem: 'xen', VirtualizationRole: existsSync('/proc/xen/capabilities') ? 'host' : 'guest' };
  if (existsSync('/.dockerenv')) return { VirtualizationSystem: 'docker', VirtualizationRole: 'guest' };
  const container = /(?:^|\0)container=([^\0]+)/.exec(readText('/proc/1/environ') ?? '');
  if (container) return { VirtualizationSystem: container[1], VirtualizationRole: 'guest' };
  if (/^kvm\s/m.test(readText('/proc/modules') ?? '')) return { VirtualizationSystem: 'kvm', VirtualizationRole: 'host' };
  const cpuinfo = readText('/proc/cpuinfo') ?? '';
  if (/^flags\s*:.*\bhypervisor\b/m.test(cpuinfo)) {
    const product = readText('/sys/class/dmi/id/product_name')?.trim().toLowerCase() ?? '';
    const system = /kvm|qemu/.test(product) ? 'kvm' : /vmware/.test(product) ? 'vmware' : /virtualbox/.test(product) ? 'vbox' : '';
    return { VirtualizationSystem: system, VirtualizationRole: 'guest' };
  }
  return { VirtualizationSystem: '', VirtualizationRole: '' };
}

/** `a=b c d=e` ⇒ {a: 'b', c: true, d: 'e'}; stops at `--` (what follows belongs to init). */
function kernelCmdLine(text: string): Metadata {
  const out: Metadata = {};
  for (const tok of text.trim().split(/\s+/)) {
    if (tok === '--') break;
    const i = tok.indexOf('=');
    if (i < 0) out[tok] = true;
    else out[tok.slice(0, i)] = tok.slice(i + 1);
  }
  return out;
}

/** '0-2,5' ⇒ [0, 1, 2, 5]. */
function cpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const [a, b] = part.split('-').map((x) => Number.parseInt(x, 10));
    if (Number.isNaN(a)) continue;
    for (let i = a; i <= (Number.isNaN(b ?? Number.NaN) ? a : b); i++) out.push(i);
  }
  return out;
}
