/**
 * cluster.certRenewal: timer — a systemd timer on every control plane that
 * renews kubeadm's certificates when one has less than 30 days left, as
 * kubespray does with its own timer (kubernetes-sigs/kubespray#13413, 2026).
 * The script it runs is the one `kbootstrap certs renew` sends (preflight,
 * VIP handover, renew, static Pod restart), so both renew the same way. The
 * control planes run it at different hours, so two never restart at once.
 */
import { render } from '../shell/templates.js';
import { unitState } from '../host/fact.js';
import type { Inventory, HostSpec } from '../inventory/model.js';
import { WARN_DAYS, DAY_MS } from '../kube/certs.js';
import type { ManagedFile, Step, StepContext } from './types.js';
import { describeFileStates, fileStateCheck, parseFileStates, uploadFiles, type FileState } from './files.js';
import { MANIFESTS_ASIDE, RESTART_PENDING } from './certs.js';
import { withVipHandover } from './vip-handover.js';

export const CERT_TIMER = 'kbootstrap-certs-renew.timer';
const SERVICE = 'kbootstrap-certs-renew.service';
const SCRIPT = '/usr/local/sbin/kbootstrap-certs-renew';

const controlPlanes = (inv: Inventory): HostSpec[] => inv.hosts.filter((h) => h.role === 'control-plane');

export function certTimerFiles(ctx: StepContext): ManagedFile[] {
  const cps = controlPlanes(ctx.inv);
  const index = Math.max(0, cps.findIndex((h) => h.name === ctx.host.name));
  const renew = render('certs/renew', { renew: true, aside: MANIFESTS_ASIDE, pending: RESTART_PENDING, wait: '20' });
  const body = render('certs/timer-script', { days: String(WARN_DAYS), seconds: String((WARN_DAYS * DAY_MS) / 1000) })
    + render('certs/preflight', { controlPlanes: cps })
    + withVipHandover(ctx, renew);
  return [
    { path: SCRIPT, mode: '755', content: `#!/usr/bin/env bash\nset -euo pipefail\n${body}` },
    {
      path: `/etc/systemd/system/${SERVICE}`,
      mode: '644',
      content: [
        '# kbootstrap: cluster.certRenewal: timer',
        '[Unit]',
        `Description=Renew kubeadm's certificates when one has less than ${WARN_DAYS} days left`,
        'Documentation=https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-certs/',
        'After=kubelet.service',
        '',
        '[Service]',
        'Type=oneshot',
        `ExecStart=${SCRIPT}`,
        '',
      ].join('\n'),
    },
    {
      path: `/etc/systemd/system/${CERT_TIMER}`,
      mode: '644',
      content: [
        '# kbootstrap: cluster.certRenewal: timer',
        '[Unit]',
        "Description=Daily look at kubeadm's certificates",
        '',
        '[Timer]',
        // one control plane an hour, so two never restart their static Pods at once
        `OnCalendar=*-*-* ${String((2 + index) % 24).padStart(2, '0')}:30:00`,
        'Persistent=true',
        '',
        '[Install]',
        'WantedBy=timers.target',
        '',
      ].join('\n'),
    },
  ];
}

interface TimerFound { files: FileState[]; enabled: boolean }

/** the timer as status reads it too */
const timerUnit = unitState(CERT_TIMER);

export const certRenewalTimerStep: Step<TimerFound> = {
  id: 'cert-renewal-timer',
  title: 'A systemd timer renews the certificates (cluster.certRenewal: timer)',
  hosts: controlPlanes,
  requires: ['kubeadm-init'],
  skip: (ctx) => (ctx.cluster.certRenewal === 'timer' ? undefined : 'cluster.certRenewal is not timer: kbootstrap certs renew renews on demand'),
  managedFiles: certTimerFiles,
  check: (ctx) => fileStateCheck(certTimerFiles(ctx)) + timerUnit.script(ctx.host.os),
  parse(out, ctx) {
    const files = parseFileStates(out, certTimerFiles(ctx));
    const unit = timerUnit.parse(out.stdout);
    const enabled = unit.enabled === 'enabled' && unit.active === 'active';
    const parts = [...describeFileStates(files), ...(enabled ? [] : [`${CERT_TIMER} is not enabled and active`])];
    const found = { files, enabled };
    return parts.length ? { done: false, reason: parts.join('; '), found } : { done: true, reason: `${CERT_TIMER} active`, found };
  },
  unknown: (ctx) => ({ files: certTimerFiles(ctx).map((f) => ({ path: f.path, state: 'missing' as const })), enabled: false }),
  async apply(ctx, f) {
    const changed = await uploadFiles(ctx.host, certTimerFiles(ctx), f.files);
    if (changed.length || !f.enabled) await ctx.host.exec(render('certs/timer-enable', { timer: CERT_TIMER }), { mutates: true });
  },
};
