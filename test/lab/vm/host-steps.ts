/**
 * The host steps the VM tests and the VM bench run: every step of the prepare phase that needs no
 * running control plane (and so no Kubernetes binary but the packages themselves).
 */
export const VM_HOST_STEPS = ['hostname', 'hosts-file', 'swap', 'kernel-modules', 'sysctl', 'container-runtime', 'crictl', 'kube-packages'] as const;
