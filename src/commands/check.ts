/**
 * kbootstrap check: preflight before up, read-only. Reachability and sudo
 * (the connection itself), OS, CPUs and memory on control planes, unique
 * product_uuid, MAC addresses and hostnames, free ports, clock skew, and the
 * control planes' port 6443 from every host.
 */
import type { HostSpec, Inventory } from '../inventory/model.js';
import type { SessionFlags } from '../session.js';
import { EXIT } from '../errors.js';
import { render } from '../shell/templates.js';
import { kv, first } from '../shell/kv.js';
import { listeningPorts } from '../kube/ports.js';
import { isSupportedRelease } from '../host/facts.js';
import { hostRequirements } from '../kube/host-requirements.js';
import { nftVersionProblem } from '../kube/proxy-mode.js';
import { osRowFor, osWarning } from '../versions/index.js';
import type { HostFacts } from '../os/types.js';
import type { Io } from '../io.js';
import { table } from '../table.js';
import { wrap } from '../wrap.js';
import type { Prompt } from '../ssh/credentials.js';
import { certVerdict, type CertFacts } from '../kube/certs.js';
import { certificates, joined, type Fact } from '../host/fact.js';
import { readFacts } from '../host/read-facts.js';
import { leftToOsFact, osPackagesVerdict, type LeftToOs } from '../bundle/left-to-os.js';

export type Verdict = 'pass' | 'warn' | 'fail';
export interface CheckRow { host: string; check: string; verdict: Verdict; detail: string }
export interface CheckFlags extends SessionFlags {
  output?: 'text' | 'json';
  /** check --bundle FILE: the OS packages the bundle leaves to each host's release, looked up on the host */
  bundle?: string;
}


interface Gathered {
  spec: HostSpec;
  /** how it was reached: user@address:port after OpenSSH's configuration */
  login: { user: string; address: string; port: number };
  os: string;
  supported: boolean;
  /** a release Docker no longer builds for (src/versions osWarning) */
  osWarning?: string | undefined;
  /** kernel and cgroup hierarchy, judged against the minor (src/kube/host-requirements.ts) */
  kernel: Pick<HostFacts, 'kernel' | 'cgroup'>;
  uuid: string;
  macs: string[];
  cpus: number;
  memMiB: number;
  hostname: string;
  joined: boolean;
  portsUsed: string[];
  api: Map<string, string>;
  skewS: number;
  /** a joined host's certificates (read with openssl) */
  certs?: CertFacts;
  /** `nft --version`, '' without nft; undefined when not asked (kube-proxy not in nftables mode) */
  nft?: string;
  /** check --bundle: the host's release, matched against the bundle's */
  release?: Pick<HostFacts, 'family' | 'osId' | 'versionId' | 'major' | 'arch' | 'prettyName'>;
  /** check --bundle: which of the packages the bundle leaves to the OS the host lacks (undefined: it could not say) */
  osPackagesMissing?: string[] | undefined;
}

/** Turn what each host reported into pass/warn/fail rows; pure, for tests. */
export function judge(inv: Inventory, hosts: Gathered[], unreachable: Map<string, string>, bundle?: LeftToOs): CheckRow[] {
  const rows: CheckRow[] = [];
  const add = (host: string, check: string, verdict: Verdict, detail: string) => rows.push({ host, check, verdict, detail });
  const dupes = (key: (g: Gathered) => string[]) => {
    const seen = new Map<string, string[]>();
    for (const g of hosts) for (const k of key(g)) if (k) seen.set(k, [...(seen.get(k) ?? []), g.spec.name]);
    return (g: Gathered) => key(g).flatMap((k) => (seen.get(k)?.length ?? 0) > 1 ? [`${k} (also ${seen.get(k)!.filter((n) => n !== g.spec.name).join(', ')})`] : []);
  };
  const dupUuid = dupes((g) => [g.uuid]);
  const dupMac = dupes((g) => g.macs.map((m) => m.split(' ')[1]!));
  const dupName = dupes((g) => [g.hostname]);
  const clocks = hosts.map((g) => g.skewS);
  const spread = clocks.length ? Math.max(...clocks) - Math.min(...clocks) : 0;
  for (const spec of inv.hosts) {
    const why = unreachable.get(spec.name);
    // as status and up give it, host first: each detail reads on its own in JSON (the text view drops the repeated name)
    if (why) { add(spec.name, 'reachable', 'fail', why.startsWith(`${spec.name}: `) ? why : `${spec.name}: ${why}`); continue; }
    const g = hosts.find((x) => x.spec === spec)!;
    const { user, address, port } = g.login;
    add(spec.name, 'reachable', 'pass', `ssh ${user}@${address}:${port}${user === 'root' ? '' : ', sudo works'}`);
    add(spec.name, 'os', g.supported && !g.osWarning ? 'pass' : 'warn', g.osWarning ? `${g.os}: ${g.osWarning}` : g.supported ? g.os : `${g.os} is not a tested release`);
    const req = hostRequirements(g.kernel, inv.cluster.minor, inv.cluster.kubeProxyMode);
    add(spec.name, 'kernel', req.refusals.length ? 'fail' : req.warnings.length ? 'warn' : 'pass',
      [...req.refusals, ...req.warnings].join('; ') || `${g.kernel.kernel || 'kernel unknown'}, cgroup ${g.kernel.cgroup || 'unknown'}`);
    if (bundle && g.release) {
      const v = osPackagesVerdict(bundle, spec, g.release, g.osPackagesMissing);
      add(spec.name, 'os-packages', v.verdict, v.detail);
    }
    if (spec.role === 'control-plane') {
      add(spec.name, 'cpus', g.cpus >= 2 ? 'pass' : 'fail', g.cpus >= 2 ? `${g.cpus}` : `${g.cpus} CPU: a control plane needs at least 2`);
      add(spec.name, 'memory', g.memMiB >= 2048 ? 'pass' : g.memMiB >= 1700 ? 'warn' : 'fail',
        g.memMiB >= 2048 ? `${g.memMiB} MiB` : `${g.memMiB} MiB: a control plane needs 2 GiB${g.memMiB >= 1700 ? ' (kubeadm refuses below 1700 MB)' : '; kubeadm refuses below 1700 MB'}`);
    }
    const du = dupUuid(g);
    add(spec.name, 'product_uuid', !g.uuid ? 'warn' : du.length ? 'fail' : 'pass', !g.uuid ? 'cannot read /sys/class/dmi/id/product_uuid' : du.length ? `duplicate ${du.join('; ')}: cloned VMs confuse the cluster` : g.uuid);
    const dm = dupMac(g);
    add(spec.name, 'mac', dm.length ? 'fail' : 'pass', dm.length ? `duplicate ${dm.join('; ')}` : g.macs.join(', ') || '-');
    const dn = dupName(g);
    add(spec.name, 'hostname', dn.length ? 'warn' : 'pass', dn.length ? `duplicate ${dn.join('; ')} (kbootstrap up renames it to ${spec.name})` : g.hostname);
    if (inv.cluster.kubeProxyMode === 'nftables') {
      const problem = nftVersionProblem(g.nft ?? '');
      add(spec.name, 'nft', problem ? 'warn' : 'pass', problem ?? (g.nft || 'nft present'));
    }
    if (g.portsUsed.length && !g.joined) add(spec.name, 'ports', 'fail', `in use: ${g.portsUsed.join(', ')}`);
    else add(spec.name, 'ports', 'pass', g.joined ? 'already part of the cluster' : 'free');
    add(spec.name, 'clock', spread > 5 ? 'fail' : spread > 2 ? 'warn' : 'pass', `${g.skewS >= 0 ? '+' : ''}${g.skewS.toFixed(1)}s from this machine${spread > 2 ? `; hosts differ by ${spread.toFixed(1)}s` : ''}`);
    const blocked = [...g.api].filter(([, st]) => st === 'timeout').map(([a]) => a);
    // a cluster that runs already: its certificates warn under 30 days and fail when expired
    if (g.joined && g.certs) {
      const v = certVerdict(g.certs, spec.role === 'control-plane');
      add(spec.name, 'certificates', v.verdict, v.detail);
    }
    add(spec.name, 'api-port', blocked.length ? 'fail' : 'pass', blocked.length ? `no answer from ${blocked.map((a) => `${a}:6443`).join(', ')} (firewall?)` : [...g.api].map(([a, st]) => `${a}:6443 ${st === 'open' ? 'open' : 'reachable'}`).join(', '));
  }
  return rows;
}

/** What check reads on a host, pass or fail (check/host: hardware, names, ports, the API port, the clock); judge() decides. */
export function preflightFact(inv: Inventory, spec: HostSpec): Fact<Omit<Gathered, 'spec' | 'login' | 'os' | 'supported' | 'osWarning' | 'kernel' | 'joined' | 'certs' | 'skewS'> & { clock: number }> {
  return {
    script: () => render('check/host', { ports: listeningPorts(spec.role), controlPlanes: inv.hosts.filter((h) => h.role === 'control-plane').map((h) => h.address), nft: inv.cluster.kubeProxyMode === 'nftables' }),
    parse(stdout) {
      const m = kv(stdout);
      return {
        uuid: first(m, 'uuid') ?? '',
        macs: m.get('mac') ?? [],
        cpus: Number(first(m, 'cpus') ?? 0),
        memMiB: Math.round(Number(first(m, 'mem-kib') ?? 0) / 1024),
        hostname: first(m, 'hostname') ?? '',
        portsUsed: m.get('port-used') ?? [],
        api: new Map((m.get('api') ?? []).map((l) => l.split(' ') as [string, string])),
        clock: Number(first(m, 'clock') ?? 0),
        nft: first(m, 'nft') ?? '',
      };
    },
  };
}

export async function check(inv: Inventory, o: CheckFlags, io: Io, prompt?: Prompt): Promise<number> {
  // --bundle: only its manifest, read before any host is asked (a bundle that cannot be read stops here)
  const bundle: LeftToOs | undefined = o.bundle ? { file: o.bundle, manifest: await (await import('../bundle/verify.js')).readBundleManifest(o.bundle) } : undefined;
  // in the same round trip as the other facts
  const osPackages = bundle && leftToOsFact(bundle.manifest);
  const read = await readFacts(inv, o, prompt, {
    step: 'check', facts: (spec) => ({ preflight: preflightFact(inv, spec), joined, certs: certificates(spec.role === 'control-plane'), ...(osPackages ? { osPackages } : {}) }),
  });
  const gathered: Gathered[] = read.flatMap((r) => {
    const h = r.connected;
    if (!h || !r.values) return [];
    const { preflight: { clock, ...p }, joined: isJoined, certs } = r.values;
    return [{
      spec: r.spec,
      login: { user: h.spec.ssh.user, address: h.spec.ssh.resolved?.address ?? h.spec.address, port: h.spec.ssh.port },
      os: h.facts.prettyName,
      supported: isSupportedRelease(h.facts),
      osWarning: osWarning(osRowFor(h.facts.osId, h.facts.versionId)),
      kernel: { kernel: h.facts.kernel, cgroup: h.facts.cgroup },
      ...p,
      joined: isJoined,
      // the host's clock against the middle of the round trip
      skewS: clock - (r.sent! + r.received!) / 2000,
      certs,
      ...(bundle && 'osPackages' in r.values ? { release: h.facts, osPackagesMissing: r.values.osPackages } : {}),
    }];
  });
  const rows = judge(inv, gathered, new Map(read.flatMap((r) => (r.error ? [[r.host, r.error] as [string, string]] : []))), bundle);
  const failed = rows.some((r) => r.verdict === 'fail');
  if (o.output === 'json') io.out(JSON.stringify({ rows, failed }, null, 2) + '\n');
  else {
    const checks = [...new Set(rows.map((r) => r.check))];
    const head = ['HOST', ...checks];
    const body = inv.hosts.map((h) => [h.name, ...checks.map((c) => rows.find((r) => r.host === h.name && r.check === c)?.verdict ?? '-')]);
    io.out(table([head, ...body]));
    const notes = rows.filter((r) => r.verdict !== 'pass');
    if (notes.length) io.out('\n' + notes.map((r) => wrap(`${r.host}: ${r.check}: ${r.verdict}: ${r.detail.replace(`${r.host}: `, '')}`, io.columns)).join('\n') + '\n');
  }
  return failed ? EXIT.failed : EXIT.ok;
}
