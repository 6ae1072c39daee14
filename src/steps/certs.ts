/**
 * The steps of `kbootstrap certs renew`: kubeadm's manual certificate renewal
 * (https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-certs/,
 * read 2026-12-07) on each control plane in turn: `kubeadm certs renew all`,
 * then the static Pods restarted so they read the new files, with kube-vip's
 * VIP handed over first, then admin.conf for the SSH user. Each check reads
 * the certificates themselves (openssl, src/kube/certs.ts), so renewing what
 * is fresh changes nothing and a cut-off run continues where it stopped.
 * Kubelet client certificates rotate themselves: their step only checks that
 * rotation is on.
 */
import { KbError } from '../errors.js';
import { render } from '../shell/templates.js';
import { first, kv } from '../shell/kv.js';
import { clusterState } from '../kube/cluster-state.js';
import { describe, certState, earliest, renewable, residual, type CertInfo } from '../kube/certs.js';
import { certificates } from '../host/fact.js';
import type { HostSpec, Inventory } from '../inventory/model.js';
import { allHosts, firstControlPlaneOnly, type Step, type StepContext } from './types.js';
import { asideReason, restoreVip, vipAside, vipAsideCheck, withVipHandover } from './vip-handover.js';

/** static Pod manifests while their Pods are stopped for the restart (outside the manifests directory, which the kubelet watches) */
export const MANIFESTS_ASIDE = '/etc/kubernetes/manifests.kbootstrap-restart';
/** written before kubeadm certs renew, removed once the restarted API server answers: a restart is owed while it is there */
export const RESTART_PENDING = '/etc/kubernetes/kbootstrap-restart-pending';
/** the kubelet's fileCheckFrequency default (KubeletConfiguration), which kubeadm's renewal page tells to wait */
const FILE_CHECK_SECONDS = '20';

const controlPlanes = (inv: Inventory): HostSpec[] => inv.hosts.filter((h) => h.role === 'control-plane');

/** a control plane's certificates and a node's kubelet certificate: the fact status, check and certs check read too */
const cpCerts = certificates(true);
const nodeCerts = certificates(false);

/**
 * Before any control plane restarts: the cluster answers, every node is Ready, stacked etcd runs, and every
 * control plane answers on its API server port from the first one. With one control plane down, restarting
 * another's etcd leaves a three-member etcd without quorum, so nothing is renewed then. Found: the refusal.
 */
export const certsPreflightStep: Step<string | undefined> = {
  id: 'certs-preflight',
  title: 'Preflight: the cluster answers, every node Ready, every control plane up',
  hosts: firstControlPlaneOnly,
  requires: [],
  check: (ctx) => [render('cluster/state', {}), render('certs/reach', { controlPlanes: controlPlanes(ctx.inv) })],
  parse(out, ctx) {
    const no = (reason: string) => ({ done: false, reason, found: reason });
    const state = clusterState(out.stdout);
    if (state.kind === 'absent') return no('there is no cluster here: run `kbootstrap up` first');
    if (state.kind === 'down') return no(`the API server does not answer: ${state.error}`);
    const reach = new Map((kv(out.stdout).get('reach') ?? []).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const down = controlPlanes(ctx.inv).filter((h) => reach.get(h.name) !== 'ok');
    if (down.length) {
      return no(`control plane ${down.map((h) => `${h.name} (${h.address})`).join(', ')} does not answer on port 6443: no control plane is renewed while another is down (restarting etcd elsewhere would leave it without quorum); bring it back and run again`);
    }
    const problems: string[] = [];
    for (const n of state.nodes.values()) if (n.status.split(',')[0] !== 'Ready') problems.push(`node ${n.name} ${n.status}`);
    const etcd = state.pods.filter((p) => p.namespace === 'kube-system' && p.name.startsWith('etcd-'));
    for (const p of etcd) if (p.phase !== 'Running' || p.ready !== p.containers) problems.push(`pod ${p.name} ${p.phase} ${p.ready}/${p.containers}`);
    if (problems.length) return no(`not renewing certificates of an unhealthy cluster: ${problems.join('; ')}`);
    return { done: true, reason: `${state.nodes.size} nodes Ready, ${controlPlanes(ctx.inv).length} control planes answer`, found: undefined };
  },
  unknown: () => undefined,
  async apply(ctx, why) {
    if (why !== undefined) throw new KbError(why);
    await ctx.host.exec(render('certs/preflight', { controlPlanes: controlPlanes(ctx.inv) }), { mutates: false });
  },
};

interface RenewFound {
  /** kubeadm certs renew all is due */
  renew: boolean;
  /** a restart is owed (renewed now, or a cut-off run left one) */
  restart: boolean;
  /** the SSH user's ~/.kube/config is not admin.conf */
  userKubeconfig: boolean;
  /** kube-vip's manifest is aside (a cut-off run) */
  vipAside: boolean;
}

/** CAs running out: renew all does not renew them, so a renewal cannot help; said as a warning */
function caWarning(certs: CertInfo[], warnMs: number): string | undefined {
  const low = certs.filter((c) => c.kind === 'ca' && certState(c, warnMs) !== 'ok' && !c.missing);
  if (!low.length) return undefined;
  return `CA ${describe(low)} left: kubeadm certs renew does not renew CAs (https://kubernetes.io/docs/tasks/tls/manual-rotation-of-ca-certificates/)`;
}

/**
 * `kubeadm certs renew all` and the static Pod restart on one control plane, the VIP handed over first.
 * Done when every certificate renew all renews has more than minRemaining left, no restart is owed and the
 * SSH user's kubeconfig is admin.conf.
 */
export function certsRenewStep(minRemainingMs: number): Step<RenewFound> {
  const min = residual(minRemainingMs);
  return {
    id: 'certs-renew',
    title: `kubeadm certs renew all when a certificate has less than ${min} left, then restart the static Pods`,
    hosts: controlPlanes,
    requires: ['certs-preflight'],
    check: (ctx) => [cpCerts.script(ctx.host.os), render('certs/renew-state', { pending: RESTART_PENDING, aside: MANIFESTS_ASIDE, user: ctx.host.spec.ssh.user }), ...vipAsideCheck(ctx)],
    parse(out) {
      const facts = cpCerts.parse(out.stdout);
      const m = kv(out.stdout);
      const found: RenewFound = { renew: false, restart: false, userKubeconfig: first(m, 'user-kubeconfig') === 'differs', vipAside: vipAside(out.stdout) };
      if (facts.noOpenssl) return { done: false, reason: 'openssl is not installed: the certificates cannot be read (kubeadm certs renew all runs regardless)', found: { ...found, renew: true, restart: true } };
      const leaves = facts.certs.filter(renewable);
      if (!leaves.length) return { done: false, reason: 'no kubeadm certificates here (/etc/kubernetes/admin.conf is missing): is this control plane part of the cluster?', found };
      const due = leaves.filter((c) => c.missing || c.residualMs! < minRemainingMs).sort((a, b) => (a.residualMs ?? -Infinity) - (b.residualMs ?? -Infinity));
      found.renew = due.length > 0;
      found.restart = found.renew || first(m, 'restart-pending') === '1' || first(m, 'manifests-aside') === '1';
      const warning = caWarning(facts.certs, minRemainingMs);
      const parts = [
        ...(due.length ? [`${describe(due)} left, under ${min}`] : []),
        ...(!found.renew && found.restart ? ['a static Pod restart after renewal did not finish (a cut-off run)'] : []),
        ...(found.userKubeconfig ? ["the SSH user's ~/.kube/config is not admin.conf"] : []),
        ...(found.vipAside ? [asideReason] : []),
      ];
      const soonest = earliest(leaves)!;
      if (!parts.length) return { done: true, reason: `every certificate has ${min} or more left (first to expire: ${soonest.name}, ${residual(soonest.residualMs!)})`, found, ...(warning ? { warning } : {}) };
      return { done: false, reason: parts.join('; '), found, ...(warning ? { warning } : {}) };
    },
    unknown: () => ({ renew: true, restart: true, userKubeconfig: true, vipAside: false }),
    async apply(ctx, f) {
      if (f.restart) {
        const script = render('certs/renew', { renew: f.renew, aside: MANIFESTS_ASIDE, pending: RESTART_PENDING, wait: FILE_CHECK_SECONDS });
        await ctx.host.exec(withVipHandover(ctx, script), { mutates: true, timeoutMs: 15 * 60_000, note: f.renew ? 'renew, then restart the static Pods' : 'finish the static Pod restart a cut-off run left' });
      } else if (f.vipAside) {
        await restoreVip(ctx);
      }
      await ctx.host.exec(render('common/user-kubeconfig', { user: ctx.host.spec.ssh.user }), { mutates: true, note: "admin.conf, renewed, for the SSH user" });
    },
  };
}

/**
 * The kubelet's client certificate: the kubelet renews it itself before it runs out (kubeadm points
 * kubelet.conf at /var/lib/kubelet/pki/kubelet-client-current.pem, and its KubeletConfiguration has
 * rotateCertificates: true), so kbootstrap only checks that rotation is on, and says so otherwise.
 * Reports, never changes.
 */
export const kubeletRotationStep: Step = {
  id: 'kubelet-cert-rotation',
  title: 'The kubelet client certificate rotates itself (checked, never changed)',
  hosts: allHosts,
  requires: [],
  check: (ctx) => nodeCerts.script(ctx.host.os),
  parse(out, ctx: StepContext) {
    const facts = nodeCerts.parse(out.stdout);
    const c = facts.certs.find((x) => x.kind === 'kubelet');
    if (facts.noOpenssl) return { done: true, reason: 'openssl is not installed: the kubelet certificate cannot be read', found: undefined, warning: 'openssl is not installed: the kubelet client certificate could not be read' };
    if (!c || !facts.kubeletRotation) return { done: true, reason: 'no /etc/kubernetes/kubelet.conf: not joined', found: undefined, warning: `${ctx.host.name} is not joined (no kubelet.conf)` };
    const left = c.missing ? 'unreadable' : residual(c.residualMs!);
    const r = facts.kubeletRotation;
    if (r.file && r.enabled) return { done: true, reason: `rotates itself (kubelet-client-current.pem, ${left} left)`, found: undefined };
    const why = !r.enabled ? 'rotateCertificates is not true in /var/lib/kubelet/config.yaml' : 'kubelet.conf embeds its client certificate instead of naming /var/lib/kubelet/pki/kubelet-client-current.pem';
    return { done: true, reason: `does not rotate: ${why} (${left} left)`, found: undefined, warning: `the kubelet client certificate does not rotate itself: ${why}; ${left} left. kubeadm's page says how to fix kubelet.conf: https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-certs/#kubelet-client-cert` };
  },
  unknown: () => undefined,
  // done whatever it finds: only a dry run, which cannot read the host, comes here
  async apply() { /* reports only */ },
};
