/** Every step, in plan order. */
import type { Step } from './types.js';
import { hostnameStep } from './hostname.js';
import { hostsFileStep } from './hosts-file.js';
import { selinuxStep } from './selinux.js';
import { firewallStep } from './firewall.js';
import { swapStep } from './swap.js';
import { kernelModulesStep } from './kernel-modules.js';
import { sysctlStep } from './sysctl.js';
import { containerRuntimeStep } from './container-runtime.js';
import { crictlStep } from './crictl.js';
import { kubePackagesStep } from './kube-packages.js';
import { kubeadmInitStep } from './kubeadm-init.js';
import { joinStep } from './join.js';
import { cniStep } from './cni.js';
import { kubeProxyModeStep } from './kube-proxy-mode.js';
import { nodeLabelsStep } from './node-labels.js';
import { verifyStep } from './verify.js';

export const PREPARE_STEPS: Step[] = [
  hostnameStep, hostsFileStep, selinuxStep, firewallStep, swapStep, kernelModulesStep,
  sysctlStep, containerRuntimeStep, crictlStep, kubePackagesStep,
];

export const ALL_STEPS: Step[] = [
  ...PREPARE_STEPS, kubeadmInitStep, joinStep, cniStep, kubeProxyModeStep, nodeLabelsStep, verifyStep,
];

export function stepById(id: string): Step | undefined {
  return ALL_STEPS.find((s) => s.id === id);
}
