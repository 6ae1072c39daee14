import { render } from '../shell/templates.js';
import { KUBE_PACKAGES, installedPackages, unitState } from '../host/fact.js';
import { kv } from '../shell/kv.js';
import type { ClusterSpec } from '../inventory/model.js';
import type { Repository } from '../os/types.js';
import { allHosts, type Step, type StepContext } from './types.js';
import { describeFileStates, fileStateCheck, parseFileStates, uploadFiles, type FileState, type ManagedFile } from './files.js';
import { describeKeys, installKeys, keysCheck, missingKeys, repoFile } from './repositories.js';

const KUBE = KUBE_PACKAGES;
const packagesFact = (c: ClusterSpec) => installedPackages([...KUBE, ...extraPackages(c)]);
const kubeletUnit = unitState('kubelet');

const repository = (ctx: StepContext): Repository => ctx.host.os.kubernetesRepository(ctx.cluster, ctx.host.facts);
const files = (ctx: StepContext): ManagedFile[] => [repoFile(repository(ctx))];

/**
 * What kube-proxy's mode needs on the host: ipvs its ipset and ipvsadm; nftables the nft program
 * (package nftables on Debian/Ubuntu and EL alike), which calico's nftables data plane asks for on
 * the host and `check` looks for (src/kube/proxy-mode.ts).
 */
function extraPackages(cluster: ClusterSpec): string[] {
  return { ipvs: ['ipset', 'ipvsadm'], nftables: ['nftables'], iptables: [] }[cluster.kubeProxyMode];
}

interface Found {
  files: FileState[];
  /** packages must be installed, upgraded, downgraded or held */
  install: boolean;
  missingKeys: string[];
}

export const kubePackagesStep: Step<Found> = {
  id: 'kube-packages',
  title: 'Install kubelet, kubeadm and kubectl at the pinned version',
  hosts: allHosts,
  requires: ['container-runtime'],
  managedFiles: files,
  check: (ctx) => fileStateCheck(files(ctx))
    + packagesFact(ctx.cluster).script(ctx.host.os)
    + kubeletUnit.script(ctx.host.os)
    + ctx.host.os.holdsCheck()
    + keysCheck([repository(ctx)]),
  parse(out, ctx) {
    const c = ctx.cluster;
    const os = ctx.host.os;
    const m = kv(out.stdout);
    const installed = packagesFact(c).parse(out.stdout);
    const states = parseFileStates(out, files(ctx));
    const wrong: string[] = [];
    for (const p of KUBE) {
      const have = installed.get(p) ?? '';
      if (!os.kubeVersionMatches(have, c)) wrong.push(have ? `${p} ${have}` : `${p} missing`);
    }
    for (const p of extraPackages(c)) if (!installed.get(p)) wrong.push(`${p} missing`);
    const notHeld = os.notHeld(KUBE, new Set(m.get('held') ?? []));
    const keys = missingKeys(out.stdout, [repository(ctx)]);
    const enabled = kubeletUnit.parse(out.stdout).enabled === 'enabled';
    const parts = [
      ...(wrong.length ? [`want ${c.kubernetesVersion}: ${wrong.join(', ')}`] : []),
      ...describeFileStates(states),
      ...describeKeys(out.stdout, keys),
      ...(notHeld.length ? [`not held: ${notHeld.join(', ')}`] : []),
      ...(enabled ? [] : ['kubelet not enabled']),
    ];
    const found: Found = { files: states, install: wrong.length > 0 || notHeld.length > 0, missingKeys: keys };
    if (!parts.length) return { done: true, reason: `${KUBE.join(', ')} ${c.kubernetesVersion} installed and held`, found };
    return { done: false, reason: parts.join('; '), found };
  },
  unknown: (ctx) => ({ files: [], install: true, missingKeys: [repository(ctx).key?.path ?? ''].filter(Boolean) }),
  async apply(ctx, f) {
    const c = ctx.cluster;
    const os = ctx.host.os;
    const opts = { mutates: true, timeoutMs: 15 * 60_000 } as const;
    await installKeys(ctx.host, [repository(ctx)], f.missingKeys);
    const repoChanged = await uploadFiles(ctx.host, files(ctx), f.files);
    if (f.install || repoChanged.length) {
      // goes with the enable below, in one round trip (ExecOptions.carry)
      await ctx.host.exec(os.kubeInstallScript([...os.kubePackageSpecs(c, KUBE), ...extraPackages(c)], KUBE, c), { ...opts, carry: true });
    }
    await ctx.host.exec(render('kube-packages/enable', {}), opts);
  },
};
