/**
 * The gate in front of `up` and `plan`: the running cluster is at the
 * version the inventory asks for, or there is no cluster yet. Otherwise
 * kube-packages would install the new kubelet, kubeadm and kubectl on every
 * host in the prepare phase, without drain and without `kubeadm upgrade`,
 * which is exactly what kubeadm's upgrade procedure forbids
 * (https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/).
 * Its phase runs before prepare, so a refusal stops `up` before any host changes.
 */
import { KbError } from '../errors.js';
import { render } from '../shell/templates.js';
import { clusterState } from '../kube/cluster-state.js';
import { clusterVersion, formatVersion, move, nodesBehind, parseVersion } from '../kube/versions.js';
import { firstControlPlaneOnly, type Step } from './types.js';

/** Found: why the cluster is not at the inventory's version (the refusal apply gives); undefined when the check could not tell. */
export const clusterVersionStep: Step<string | undefined> = {
  id: 'cluster-version',
  title: 'The running cluster is at the version the inventory asks for',
  hosts: firstControlPlaneOnly,
  requires: [],
  mandatory: true,
  check: () => render('cluster/state', {}),
  parse(out, ctx) {
    const found = undefined;
    const want = ctx.cluster.kubernetesVersion;
    const state = clusterState(out.stdout);
    if (state.kind === 'absent') return { done: true, reason: `no cluster yet: it starts at ${want}`, found };
    const no = (reason: string) => ({ done: false, reason, found: reason });
    if (state.kind === 'down') return no(`cannot tell which version the cluster runs (the API server does not answer: ${state.error}); up installs no packages it cannot compare`);
    const running = clusterVersion(state);
    const target = parseVersion(want)!;
    if (!running) return { done: true, reason: 'the cluster does not say its version (no kubeadm-config ConfigMap, no control-plane node)', found };
    const m = move(running, target);
    if (m.kind === 'refused') return no(m.why);
    if (m.kind === 'upgrade') return no(`the cluster runs ${formatVersion(running)}, the inventory asks for ${want}: run \`kbootstrap upgrade\``);
    const behind = nodesBehind(state, target);
    if (behind.length) return no(`the cluster runs ${want} but these nodes have not followed: ${behind.join(', ')}: run \`kbootstrap upgrade\``);
    return { done: true, reason: `the cluster runs ${want}`, found };
  },
  unknown: () => undefined,
  // nothing to change: the refusal is the point, and it comes before any host changes
  async apply(ctx, why) {
    if (why !== undefined) throw new KbError(why);
    // the check failed (or this is a dry run): the same comparison in shell, read-only
    await ctx.host.exec(render('cluster-version/guard', { want: ctx.cluster.kubernetesVersion }), { mutates: false });
  },
};
