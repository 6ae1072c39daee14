/**
 * kube-vip as a static pod on every control plane (cluster.loadBalancer.type
 * kube-vip): ARP mode, leader election on a Lease; the leader holds the VIP
 * that controlPlaneEndpoint names. It must exist before `kubeadm init` (the
 * kubelet reaches the API server through the VIP while init waits) and
 * before each control-plane join, as kube-vip's static-pod guide orders it:
 * https://kube-vip.io/docs/installation/static/
 * A manifest in place before a control-plane join is fine: kubeadm's join
 * preflight checks only its own manifests there since kubernetes/kubernetes#104942 (1.23).
 */
import { stringify } from 'yaml';
import { render } from '../shell/templates.js';
import { first, kv } from '../shell/kv.js';
import { KbError } from '../errors.js';
import type { ClusterSpec, HostSpec, Inventory } from '../inventory/model.js';
import type { StepContext, Step, ManagedFile } from './types.js';
import { describeFileStates, parseFileStates, type FileState } from './files.js';
import { defaultAddonVersion, kubeVipRow } from '../versions/index.js';

export const KUBE_VIP_MANIFEST = '/etc/kubernetes/manifests/kube-vip.yaml';
/** The release kbootstrap runs: the newest kube-vip row of the versions table (src/versions/table.ts). */
export const KUBE_VIP_VERSION = defaultAddonVersion('kube-vip', 0);
/**
 * Leader election timing, kube-vip's generated defaults (vip_leaseduration 5,
 * vip_renewdeadline 3, vip_retryperiod 1, in seconds): another control plane
 * takes the VIP within about the lease duration after the leader stops.
 */
export const KUBE_VIP_LEASE = { name: 'plndr-cp-lock', durationSeconds: 5, renewDeadlineSeconds: 3, retryPeriodSeconds: 1 } as const;

export type KubeconfigFile = 'admin.conf' | 'super-admin.conf';

/** kube-vip's image: loadBalancer.image, else the pinned release, from imageRepository when that is a mirror. */
export function kubeVipImage(cluster: ClusterSpec): string {
  if (cluster.loadBalancer?.image) return cluster.loadBalancer.image;
  return cluster.imageRepository === 'registry.k8s.io'
    ? `ghcr.io/kube-vip/kube-vip:${KUBE_VIP_VERSION}`
    : `${cluster.imageRepository}/kube-vip:${KUBE_VIP_VERSION}`;
}

/**
 * The kube-vip manifest, in the layout `kube-vip manifest pod --controlplane
 * --arp --leaderElection` prints (https://kube-vip.io/docs/installation/static/),
 * without services (svc_enable false: only the control-plane VIP).
 * The kubeconfig is the one thing that differs between the first control
 * plane during init and everywhere else (kube-vip/kube-vip#684), and only in
 * the hostPath line, which templates/load-balancer/after-init.sh.hbs rewrites.
 */
export function kubeVipManifest(cluster: ClusterSpec, iface: string, kubeconfig: KubeconfigFile): ManagedFile {
  const lb = cluster.loadBalancer!;
  const env = (name: string, value: string) => ({ name, value });
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'kube-vip', namespace: 'kube-system' },
    spec: {
      containers: [{
        name: 'kube-vip',
        image: kubeVipImage(cluster),
        imagePullPolicy: 'IfNotPresent',
        args: ['manager'],
        env: [
          env('vip_arp', 'true'),
          env('port', String(lb.port)),
          { name: 'vip_nodename', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          env('vip_interface', iface),
          // the VIP's prefix length: vip_cidr up to 0.8, vip_subnet from 0.9 (versions table, kube-vip rows)
          env(kubeVipRow(kubeVipImage(cluster)).subnetEnv ?? 'vip_subnet', '32'),
          env('dns_mode', 'first'),
          env('cp_enable', 'true'),
          env('cp_namespace', 'kube-system'),
          env('svc_enable', 'false'),
          env('vip_leaderelection', 'true'),
          env('vip_leasename', KUBE_VIP_LEASE.name),
          env('vip_leaseduration', String(KUBE_VIP_LEASE.durationSeconds)),
          env('vip_renewdeadline', String(KUBE_VIP_LEASE.renewDeadlineSeconds)),
          env('vip_retryperiod', String(KUBE_VIP_LEASE.retryPeriodSeconds)),
          env('address', lb.address),
        ],
        securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } },
        volumeMounts: [{ mountPath: '/etc/kubernetes/admin.conf', name: 'kubeconfig' }],
      }],
      // kube-vip talks to the local API server as https://kubernetes:6443; static pods honour
      // hostAliases again from the patch releases named in kube-vip/kube-vip#692 and #938
      hostAliases: [{ hostnames: ['kubernetes'], ip: '127.0.0.1' }],
      hostNetwork: true,
      volumes: [{ name: 'kubeconfig', hostPath: { path: `/etc/kubernetes/${kubeconfig}` } }],
    },
  };
  return {
    path: KUBE_VIP_MANIFEST,
    mode: '600',
    content: `# kbootstrap: kube-vip holds the control-plane VIP ${lb.address} (ARP, leader election on the Lease kube-system/${KUBE_VIP_LEASE.name})\n`
      + '# On Kubernetes >= 1.29 the first control plane mounts super-admin.conf until kubeadm init is over, then admin.conf (kube-vip/kube-vip#684)\n'
      + stringify(pod, { lineWidth: 0 }),
  };
}

const kubeVipHosts = (inv: Inventory): HostSpec[] =>
  inv.cluster.loadBalancer?.type === 'kube-vip' ? inv.hosts.filter((h) => h.role === 'control-plane') : [];

const isFirstControlPlane = (ctx: StepContext) => ctx.host.name === ctx.firstControlPlane.name;

/**
 * On Kubernetes >= 1.29 kubeadm's admin.conf gets its rights (RBAC) only once
 * init has run, so kube-vip on the first control plane uses super-admin.conf
 * until then (kube-vip/kube-vip#684; the 1.29 changelog's urgent upgrade
 * notes). super-admin.conf exists only on that host.
 */
function kubeconfigFor(ctx: StepContext, adminConf: boolean): KubeconfigFile {
  return isFirstControlPlane(ctx) && ctx.cluster.minor >= 29 && !adminConf ? 'super-admin.conf' : 'admin.conf';
}

export interface LoadBalancerFound {
  /** the interface the VIP goes on (inventory, else the one holding the host's address) */
  iface?: string;
  /** /etc/kubernetes/admin.conf exists (init or join done) */
  adminConf: boolean;
  /** the VIP in the manifest already on the host */
  vip?: string;
  states?: FileState[];
}

/** Said when the VIP in place differs from the inventory's: it is baked into certificates and kubeconfigs. */
export function vipChangedMessage(host: string, was: string, want: string): string {
  return `${host}: kube-vip holds VIP ${was} but the inventory says ${want}; the old address is in the API server certificate's SANs, ` +
    'in controlPlaneEndpoint (kubeadm-config ConfigMap), in every admin.conf and kubelet.conf and in the kube-proxy ConfigMap, so kbootstrap refuses. ' +
    'up --force rewrites the kube-vip manifests only; then, on each control plane, renew the API server certificate with the new SAN ' +
    '(move /etc/kubernetes/pki/apiserver.{crt,key} aside, kubeadm init phase certs apiserver --config …), and point every kubeconfig and the kube-proxy ConfigMap at the new address';
}

export const loadBalancerStep: Step<LoadBalancerFound> = {
  id: 'load-balancer',
  title: 'Run kube-vip for the control-plane VIP',
  hosts: kubeVipHosts,
  requires: ['kube-packages'],
  // the manifest on a converged host, as far as the inventory fixes it: without loadBalancer.interface the interface is known only at run time
  managedFiles: (ctx) => [kubeVipManifest(ctx.cluster, ctx.cluster.loadBalancer?.interface ?? '<INTERFACE>', kubeconfigFor(ctx, true))],
  check: (ctx) => [
    render('common/file-state', { paths: [KUBE_VIP_MANIFEST] }),
    render('load-balancer/interface', { address: ctx.host.spec.address }),
    render('load-balancer/check', { manifest: KUBE_VIP_MANIFEST }),
  ],
  parse(out, ctx) {
    const m = kv(out.stdout);
    const lb = ctx.cluster.loadBalancer!;
    const found: LoadBalancerFound = {
      iface: lb.interface ?? (first(m, 'iface') || undefined),
      adminConf: first(m, 'admin-conf') === 'present',
      vip: first(m, 'vip'),
    };
    if (!found.iface) {
      return { done: false, found, reason: `no interface holds ${ctx.host.spec.address}: set cluster.loadBalancer.interface` };
    }
    if (found.vip && found.vip !== lb.address) {
      return { done: false, found, reason: `VIP changed from ${found.vip} to ${lb.address} (up refuses without --force)` };
    }
    const kubeconfig = kubeconfigFor(ctx, found.adminConf);
    const want = kubeVipManifest(ctx.cluster, found.iface, kubeconfig);
    found.states = parseFileStates(out, [want]);
    const bad = describeFileStates(found.states);
    if (bad.length) return { done: false, found, reason: `${bad.join('; ')} (VIP ${lb.address} on ${found.iface}, ${kubeconfig})` };
    return { done: true, found, reason: `kube-vip holds VIP ${lb.address} on ${found.iface} with ${kubeconfig}` };
  },
  // a dry run knows neither the interface nor whether init ran: the inventory's interface or a placeholder, before init
  unknown: (ctx) => ({ iface: ctx.cluster.loadBalancer?.interface, adminConf: false }),
  async apply(ctx, found) {
    const { host, cluster } = ctx;
    const lb = cluster.loadBalancer!;
    if (found.vip && found.vip !== lb.address && !ctx.options.force) throw new KbError(vipChangedMessage(host.name, found.vip, lb.address));
    let iface = found.iface;
    if (!iface) {
      // the check could not tell (a dry run, a failed check): ask the host now
      const res = await host.exec(render('load-balancer/interface', { address: host.spec.address }), {
        mutates: false, note: `find the interface holding ${host.spec.address}`, dryRunStdout: `iface=<INTERFACE holding ${host.spec.address}>`,
      });
      iface = first(kv(res.stdout), 'iface') || undefined;
      if (!iface) throw new KbError(`${host.name}: no interface holds ${host.spec.address}: set cluster.loadBalancer.interface`);
    }
    const file = kubeVipManifest(cluster, iface, kubeconfigFor(ctx, found.adminConf));
    if (found.states?.some((s) => s.state !== 'missing') || found.vip) {
      await host.exec(render('load-balancer/remove', { manifest: KUBE_VIP_MANIFEST }), { mutates: true });
    }
    await host.upload(file.content, file.path, { mode: file.mode });
  },
};

/** Run by kubeadm-init's apply once init is over (Kubernetes >= 1.29 with kube-vip). */
export function kubeVipAfterInitScript(cluster: ClusterSpec): string | undefined {
  return cluster.loadBalancer?.type === 'kube-vip' && cluster.minor >= 29 ? render('load-balancer/after-init', { manifest: KUBE_VIP_MANIFEST }) : undefined;
}
