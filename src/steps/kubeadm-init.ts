import { render } from '../shell/templates.js';
import { initConfig } from '../kubeadm-config.js';
import { first, firstControlPlaneOnly, kv, type Step } from './types.js';

export const INIT_CONFIG_PATH = '/etc/kbootstrap/kubeadm-init.yaml';

export const kubeadmInitStep: Step = {
  id: 'kubeadm-init',
  title: 'Initialise the first control plane with kubeadm',
  hosts: firstControlPlaneOnly,
  check: (ctx) => render('kubeadm-init/check', { user: ctx.host.spec.ssh.user }),
  parse(out) {
    const m = kv(out.stdout);
    if (first(m, 'admin') !== 'present') {
      return { done: false, reason: first(m, 'leftovers') ? 'not initialised, but /etc/kubernetes/manifests is not empty (an earlier attempt? kbootstrap reset clears it)' : 'not initialised: /etc/kubernetes/admin.conf is missing' };
    }
    if (first(m, 'api') !== 'ready') return { done: false, reason: 'admin.conf exists but the API server does not answer /readyz' };
    if (first(m, 'kubeconfig') !== 'same') return { done: false, reason: "the SSH user's ~/.kube/config is missing or stale" };
    return { done: true, reason: 'initialised, API server ready' };
  },
  async apply(ctx) {
    const { host, cluster } = ctx;
    await host.upload(initConfig(cluster, host.spec), INIT_CONFIG_PATH, { step: 'kubeadm-init', mode: '600' });
    await host.exec(render('kubeadm-init/apply', { configPath: INIT_CONFIG_PATH }), { step: 'kubeadm-init', mutates: true, timeoutMs: 10 * 60_000 });
    await host.exec(render('common/user-kubeconfig', { user: host.spec.ssh.user }), { step: 'kubeadm-init', mutates: true });
  },
};
