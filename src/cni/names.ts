/**
 * The CNI plugins kbootstrap installs, by the name the inventory gives
 * (cluster.cni.plugin). A leaf module: the schema, the versions table and the
 * model read it without importing the plugins themselves. Adding a name here
 * does not compile until ./index.ts lists its module (a Record over CniName).
 */
export const CNI_NAMES = ['calico', 'flannel'] as const;
export type CniName = (typeof CNI_NAMES)[number];
