/**
 * The steps of `kbootstrap upgrade`, kubeadm's procedure for one minor (or
 * patch) version (https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/
 * and .../upgrading-linux-nodes/): preflight, the package repository of the
 * target minor, then per node kubeadm, `kubeadm upgrade apply` (first control
 * plane) or `kubeadm upgrade node` (the others), drain, kubelet + kubectl,
 * restart, uncordon. Each is check-then-apply, and each check reads the node
 * itself, so a second run continues where the first stopped and a finished
 * upgrade changes nothing. The target is the inventory's kubernetesVersion.
 */
import { KbError } from '../errors.js';
import { render } from '../shell/templates.js';
import { KUBE_PACKAGES, installedPackages } from '../host/fact.js';
import { first, kv } from '../shell/kv.js';
import { clusterState } from '../kube/cluster-state.js';
import { runningAddonWarning } from '../versions/index.js';
import { clusterCni } from '../cni/index.js';
import { clusterVersion, formatVersion, move, nodesBehind, parseVersion } from '../kube/versions.js';
import type { Repository } from '../os/types.js';
import { allButFirstControlPlane, allHosts, firstControlPlaneOnly, type Step, type StepContext } from './types.js';
import { describeFileStates, fileStateCheck, parseFileStates, uploadFiles, type FileState, type ManagedFile } from './files.js';
import { describeKeys, installKeys, keysCheck, missingKeys, repoFile } from './repositories.js';
import { asideReason, restoreVip, vipAside, vipAsideCheck, withVipHandover } from './vip-handover.js';

const KUBE = KUBE_PACKAGES;
const kubeadmFact = installedPackages(['kubeadm']);
const kubeletFact = installedPackages(['kubelet', 'kubectl']);

/** An image reference's tag ('' without one; a registry's :port is not a tag). */
function imageTag(image: string): string {
  const tail = image.slice(image.lastIndexOf(':') + 1);
  return image.includes(':') && !tail.includes('/') ? tail : '';
}
const target = (ctx: StepContext) => ctx.cluster.kubernetesVersion;


/** The preflight: refusals (a downgrade, a skip, no cluster) and health before anything moves. Found: the refusal. */
export const upgradePreflightStep: Step<string | undefined> = {
  id: 'upgrade-preflight',
  title: 'Preflight: the version move is allowed, every node Ready, etcd running',
  hosts: firstControlPlaneOnly,
  requires: [],
  check: () => render('cluster/state', {}),
  parse(out, ctx) {
    const no = (reason: string) => ({ done: false, reason, found: reason });
    const state = clusterState(out.stdout);
    if (state.kind === 'absent') return no('there is no cluster to upgrade: run `kbootstrap up` first');
    if (state.kind === 'down') return no(`the API server does not answer: ${state.error}`);
    const want = parseVersion(target(ctx))!;
    const running = clusterVersion(state);
    if (!running) return no('the cluster does not say its version (no kubeadm-config ConfigMap, no control-plane node)');
    const m = move(running, want);
    if (m.kind === 'refused') return no(m.why);
    const problems: string[] = [];
    for (const n of state.nodes.values()) if (n.status.split(',')[0] !== 'Ready') problems.push(`node ${n.name} ${n.status}`);
    // stacked etcd runs as a static Pod per control plane (etcd-<node>); kubeadm upgrade apply upgrades it too
    const etcd = state.pods.filter((p) => p.namespace === 'kube-system' && p.name.startsWith('etcd-'));
    for (const p of etcd) if (p.phase !== 'Running' || p.ready !== p.containers) problems.push(`pod ${p.name} ${p.phase} ${p.ready}/${p.containers}`);
    if (problems.length) return no(`not upgrading an unhealthy cluster: ${problems.join('; ')}`);
    const behind = nodesBehind(state, want);
    const from = formatVersion(running);
    const reason = m.kind === 'upgrade'
      ? `${from} -> ${target(ctx)}: ${state.nodes.size} nodes Ready, ${etcd.length ? 'etcd running' : 'no stacked etcd Pod seen'}`
      : behind.length ? `the control plane runs ${from}; nodes to follow: ${behind.join(', ')}` : `every node runs ${from}`;
    return { done: true, reason, found: undefined };
  },
  unknown: () => undefined,
  async apply(ctx, why) {
    if (why !== undefined) throw new KbError(why);
    // the check failed (or this is a dry run): the health part again in shell; a real run re-checks afterwards and refuses
    await ctx.host.exec(render('upgrade/preflight', {}), { mutates: false });
  },
};

/**
 * The CNI against the target minor, read from the running cluster (the
 * plugin's image tag, src/cni/): a release not tested with the new minor is
 * said in the run's warnings, and nothing changes. Moving a CNI is the user's
 * call (its own upgrade procedure, its own risks), not a side effect.
 */
export const upgradeCniStep: Step = {
  id: 'upgrade-cni',
  title: 'The running CNI release against the target minor (reported, never changed)',
  hosts: firstControlPlaneOnly,
  requires: [],
  skip: (ctx) => (ctx.cluster.cni.plugin === 'none' ? 'cni.plugin is none: networking is left to you' : undefined),
  check: () => render('cluster/state', {}),
  parse(out, ctx) {
    const state = clusterState(out.stdout);
    if (state.kind !== 'present') return { done: true, reason: 'no cluster to read the CNI from (preflight says why)', found: undefined };
    const plugin = clusterCni(ctx.cluster.cni);
    const version = plugin?.installed(state)?.version;
    if (!plugin || !version) return { done: true, reason: `no ${ctx.cluster.cni.plugin} release found running (no image tag)`, found: undefined };
    const warning = runningAddonWarning(plugin.id, version, ctx.cluster.minor);
    return { done: true, reason: warning ? `${plugin.id} ${version}: not tested against ${ctx.cluster.minorVersion}` : `${plugin.id} ${version}`, found: undefined, ...(warning ? { warning } : {}) };
  },
  unknown: () => undefined,
  // done whatever it finds: only a dry run, which cannot read the cluster, comes here
  async apply() { /* reports only */ },
};

const repository = (ctx: StepContext): Repository => ctx.host.os.kubernetesRepository(ctx.cluster, ctx.host.facts);
const repoFiles = (ctx: StepContext): ManagedFile[] => [repoFile(repository(ctx))];

/** pkgs.k8s.io has one repository per minor (https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/change-package-repository/). */
export const upgradeRepositoryStep: Step<{ files: FileState[]; missingKeys: string[] }> = {
  id: 'upgrade-repository',
  title: 'The Kubernetes package repository of the target minor',
  hosts: allHosts,
  requires: [],
  managedFiles: repoFiles,
  check: (ctx) => fileStateCheck(repoFiles(ctx)) + keysCheck([repository(ctx)]),
  parse(out, ctx) {
    const files = parseFileStates(out, repoFiles(ctx));
    const keys = missingKeys(out.stdout, [repository(ctx)]);
    const parts = [...describeFileStates(files), ...describeKeys(out.stdout, keys)];
    const found = { files, missingKeys: keys };
    if (!parts.length) return { done: true, reason: `${repository(ctx).path} is the ${ctx.cluster.minorVersion} repository`, found };
    return { done: false, reason: parts.join('; '), found };
  },
  unknown: (ctx) => ({ files: [], missingKeys: [repository(ctx).key?.path ?? ''].filter(Boolean) }),
  async apply(ctx, f) {
    await installKeys(ctx.host, [repository(ctx)], f.missingKeys);
    await uploadFiles(ctx.host, repoFiles(ctx), f.files);
  },
};

/** Found: nothing; the step installs kubeadm at the target past its hold and holds it again. */
export const upgradeKubeadmStep: Step = {
  id: 'upgrade-kubeadm',
  title: 'kubeadm at the target version (held again afterwards)',
  hosts: allHosts,
  check: (ctx) => kubeadmFact.script(ctx.host.os),
  requires: ['upgrade-repository'],
  parse(out, ctx) {
    const have = kubeadmFact.parse(out.stdout).get('kubeadm') ?? '';
    if (ctx.host.os.kubeVersionMatches(have, ctx.cluster)) return { done: true, reason: `kubeadm ${have}`, found: undefined };
    return { done: false, reason: `want kubeadm ${target(ctx)}: ${have ? `kubeadm ${have}` : 'kubeadm missing'}`, found: undefined };
  },
  unknown: () => undefined,
  async apply(ctx) {
    const os = ctx.host.os;
    await ctx.host.exec(os.kubeInstallScript(os.kubePackageSpecs(ctx.cluster, ['kubeadm']), KUBE, ctx.cluster), { mutates: true, timeoutMs: 15 * 60_000 });
  },
};

interface ControlPlaneFound { upgrade: boolean }

/**
 * `kubeadm upgrade plan` (its output shown to the user) then `kubeadm upgrade
 * apply vX.Y.Z -y` on the first control plane; done when kubeadm-config says
 * the target and kube-vip's manifest is in place.
 */
export const upgradeApplyStep: Step<ControlPlaneFound> = {
  id: 'upgrade-apply',
  title: 'kubeadm upgrade plan, then kubeadm upgrade apply on the first control plane',
  hosts: firstControlPlaneOnly,
  requires: ['upgrade-kubeadm'],
  check: (ctx) => [render('cluster/state', {}), ...vipAsideCheck(ctx)],
  parse(out, ctx) {
    const state = clusterState(out.stdout);
    if (state.kind !== 'present') return { done: false, reason: state.kind === 'down' ? `the API server does not answer: ${state.error}` : 'no cluster', found: { upgrade: true } };
    const running = clusterVersion(state);
    const have = running ? formatVersion(running) : 'an unknown version';
    const upgrade = have !== target(ctx);
    const aside = vipAside(out.stdout);
    if (!upgrade && !aside) return { done: true, reason: `the control plane runs ${have}`, found: { upgrade } };
    return { done: false, reason: [`the control plane runs ${have}`, ...(aside ? [asideReason] : [])].join('; '), found: { upgrade } };
  },
  unknown: () => ({ upgrade: true }),
  async apply(ctx, f) {
    if (!f.upgrade) return void (await restoreVip(ctx));
    const v = `v${target(ctx)}`;
    const plan = await ctx.host.exec(render('upgrade/plan', { target: v }), { mutates: false, timeoutMs: 10 * 60_000, note: 'kubeadm upgrade plan' });
    ctx.show(`kubeadm upgrade plan ${v}`, plan.stdout);
    await ctx.host.exec(withVipHandover(ctx, render('upgrade/apply', { target: v })), { mutates: true, timeoutMs: 30 * 60_000 });
  },
};

interface NodeRead { kubelet: string; unschedulable: boolean; apiserverTag: string; error?: string }

function readNode(stdout: string): NodeRead {
  const m = kv(stdout);
  const image = first(m, 'apiserver-image') ?? '';
  const apiserverTag = imageTag(image).replace(/^v/, '');
  const raw = first(m, 'node');
  if (raw === undefined) return { kubelet: '', unschedulable: false, apiserverTag, error: first(m, 'node-error') ?? 'the node could not be read' };
  try {
    const o = JSON.parse(raw) as { spec?: { unschedulable?: boolean }; status?: { nodeInfo?: { kubeletVersion?: string } } };
    return { kubelet: (o.status?.nodeInfo?.kubeletVersion ?? '').replace(/^v/, ''), unschedulable: Boolean(o.spec?.unschedulable), apiserverTag };
  } catch {
    return { kubelet: '', unschedulable: false, apiserverTag, error: 'kubectl printed something that is not JSON' };
  }
}

const nodeState = (ctx: StepContext) => render('upgrade/node-state', { node: ctx.host.spec.name });

/**
 * `kubeadm upgrade node` on the other control planes: done when the node's
 * API server static Pod runs the target. A worker's `kubeadm upgrade node`
 * only rewrites the kubelet configuration, which shows nowhere a check could
 * read before the kubelet itself moves, so on workers it runs inside the
 * kubelet step (see there) rather than as a step that could never be seen done.
 */
export const upgradeNodeStep: Step<ControlPlaneFound> = {
  id: 'upgrade-node',
  title: 'kubeadm upgrade node',
  hosts: (inv) => allButFirstControlPlane(inv).filter((h) => h.role === 'control-plane'),
  requires: ['upgrade-kubeadm'],
  check: (ctx) => [nodeState(ctx), ...vipAsideCheck(ctx)],
  parse(out, ctx) {
    const have = readNode(out.stdout).apiserverTag;
    const upgrade = have !== target(ctx);
    const aside = vipAside(out.stdout);
    if (!upgrade && !aside) return { done: true, reason: `kube-apiserver ${have}`, found: { upgrade } };
    return { done: false, reason: [`kube-apiserver ${have || 'unknown'}`, ...(aside ? [asideReason] : [])].join('; '), found: { upgrade } };
  },
  unknown: () => ({ upgrade: true }),
  async apply(ctx, f) {
    if (!f.upgrade) return void (await restoreVip(ctx));
    await ctx.host.exec(withVipHandover(ctx, render('upgrade/node', {})), { mutates: true, timeoutMs: 30 * 60_000 });
  },
};

interface KubeletFound { drain: boolean }

/**
 * Drain, kubelet + kubectl at the target (holds lifted and set again), restart, wait for the new version, uncordon.
 * On a worker whose kubelet has not moved yet, `kubeadm upgrade node` first (kubeadm's order for workers:
 * kubeadm, upgrade node, drain, kubelet, restart, uncordon; https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/upgrading-linux-nodes/);
 * it is idempotent, so an interrupted run repeats it harmlessly.
 */
export const upgradeKubeletStep: Step<KubeletFound> = {
  id: 'upgrade-kubelet',
  title: 'Drain, kubelet and kubectl at the target version, restart the kubelet, uncordon',
  hosts: allHosts,
  check: (ctx) => [nodeState(ctx), kubeletFact.script(ctx.host.os) + ctx.host.os.holdsCheck()],
  requires: ['upgrade-kubeadm'],
  parse(out, ctx) {
    const n = readNode(out.stdout);
    const pkgs = kubeletFact.parse(out.stdout);
    const m = kv(out.stdout);
    const os = ctx.host.os;
    const wrong = ['kubelet', 'kubectl'].filter((p) => !os.kubeVersionMatches(pkgs.get(p) ?? '', ctx.cluster)).map((p) => `${p} ${pkgs.get(p) || 'missing'}`);
    const notHeld = os.notHeld(KUBE, new Set(m.get('held') ?? []));
    const parts = [
      ...(n.error ? [n.error] : n.kubelet !== target(ctx) ? [`node reports kubelet ${n.kubelet || 'unknown'}`] : []),
      ...(wrong.length ? [`want ${target(ctx)}: ${wrong.join(', ')}`] : []),
      ...(n.unschedulable ? ['node cordoned'] : []),
      ...(notHeld.length ? [`not held: ${notHeld.join(', ')}`] : []),
    ];
    // a node already at the target that is only cordoned (an interrupted run) needs no drain
    const found = { drain: wrong.length > 0 || n.kubelet !== target(ctx) };
    if (!parts.length) return { done: true, reason: `kubelet ${target(ctx)}, schedulable`, found };
    return { done: false, reason: parts.join('; '), found };
  },
  unknown: () => ({ drain: true }),
  async apply(ctx, f) {
    const node = ctx.host.spec.name;
    const os = ctx.host.os;
    const long = { mutates: true, timeoutMs: 15 * 60_000 } as const;
    if (f.drain && ctx.host.spec.role === 'worker') await ctx.host.exec(render('upgrade/node', {}), { ...long, note: 'kubeadm upgrade node' });
    if (f.drain) await ctx.firstControlPlane.exec(render('upgrade/drain', { node, timeout: '10m' }), { ...long, note: `drain ${node}` });
    await ctx.host.exec(os.kubeInstallScript(os.kubePackageSpecs(ctx.cluster, ['kubelet', 'kubectl']), KUBE, ctx.cluster), long);
    await ctx.host.exec(render('upgrade/restart-kubelet', { node, want: `v${target(ctx)}`, tries: '90' }), long);
    await ctx.firstControlPlane.exec(render('upgrade/uncordon', { node }), { mutates: true, note: `uncordon ${node}` });
  },
};
