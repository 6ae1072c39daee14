import { render } from '../shell/templates.js';
import { first, kv } from '../shell/kv.js';
import { INIT_TOKEN, initConfig } from '../kubeadm-config.js';
import { clusterState } from '../kube/cluster-state.js';
import { firstControlPlaneOnly, type Step } from './types.js';
import { kubeVipAfterInitScript } from './load-balancer.js';

export const INIT_CONFIG_PATH = '/etc/kbootstrap/kubeadm-init.yaml';

export const kubeadmInitStep: Step = {
  id: 'kubeadm-init',
  title: 'Initialise the first control plane with kubeadm',
  hosts: firstControlPlaneOnly,
  requires: ['kube-packages'],
  // the shared cluster read answers "does the API server answer"; the second snippet is this host's own files
  check: (ctx) => [render('cluster/state', {}), render('kubeadm-init/check', { user: ctx.host.spec.ssh.user })],
  parse(out) {
    const m = kv(out.stdout);
    const state = clusterState(out.stdout);
    const found = undefined;
    if (state.kind === 'absent') {
      return { done: false, reason: first(m, 'leftovers') ? 'not initialised, but /etc/kubernetes/manifests is not empty (an earlier attempt? kbootstrap reset clears it)' : 'not initialised: /etc/kubernetes/admin.conf is missing', found };
    }
    if (state.kind === 'down') return { done: false, reason: `admin.conf exists but the API server does not answer: ${state.error}`, found };
    if (first(m, 'kubeconfig') !== 'same') return { done: false, reason: "the SSH user's ~/.kube/config is missing or stale", found };
    return { done: true, reason: 'initialised, API server ready', found };
  },
  unknown: () => undefined,
  async apply(ctx) {
    const { host, cluster } = ctx;
    await host.upload(initConfig(cluster, host.spec), INIT_CONFIG_PATH, { mode: '600' });
    // init (and kube-vip's switch back) go with the kubeconfig copy below, in one round trip (ExecOptions.carry)
    await host.exec(render('kubeadm-init/apply', { configPath: INIT_CONFIG_PATH, initTokenDescription: INIT_TOKEN.description }), { mutates: true, timeoutMs: 10 * 60_000, carry: true });
    const afterInit = kubeVipAfterInitScript(cluster);
    if (afterInit) await host.exec(afterInit, { mutates: true, timeoutMs: 3 * 60_000, note: 'kube-vip: from super-admin.conf back to admin.conf now that init is over', carry: true });
    await host.exec(render('common/user-kubeconfig', { user: host.spec.ssh.user }), { mutates: true });
  },
};
