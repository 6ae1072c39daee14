/**
 * Every CNI plugin kbootstrap installs. A Record over CniName: adding a name
 * to ./names.ts does not compile until its module is listed here.
 */
import { ADDONS, defaultAddonVersion } from '../versions/index.js';
import type { CniName } from './names.js';
import { calico } from './calico.js';
import { flannel } from './flannel.js';
import type { CniPlugin } from './types.js';

export const CNI_PLUGINS: Record<CniName, CniPlugin> = { calico, flannel };

/** The plugin an inventory names, or undefined for none. */
export function clusterCni(cni: { plugin: CniName | 'none' }): CniPlugin | undefined {
  return cni.plugin === 'none' ? undefined : CNI_PLUGINS[cni.plugin];
}

export { CNI_NAMES, type CniName } from './names.js';
export type { CniPlugin, ManifestEdit } from './types.js';


/** The release kbootstrap installs: the inventory's cni.version, else the minor's default from the versions table. */
export function cniVersion(plugin: CniPlugin, cni: { version?: string }, minor: number): string {
  return cni.version ?? defaultAddonVersion(plugin.id, minor);
}

/** The manifest URL kbootstrap fetches when the inventory gives no cni.manifest. */
export function defaultManifestUrl(plugin: CniPlugin, cni: { version?: string }, minor: number): string {
  return plugin.manifestUrl(cniVersion(plugin, cni, minor));
}

/**
 * The pinned sha256 of a manifest URL kbootstrap builds (manifestUrl of a release the versions table
 * has a manifestSha256 for), or undefined. flannel's kube-flannel.yml is a release asset built by
 * `kubectl kustomize` in its release workflow, with no published checksum (flannel-io/flannel
 * .github/workflows/release.yml, read 2026-12-05): none is pinned.
 */
export function pinnedManifestSha256(url: string): string | undefined {
  for (const r of ADDONS) {
    const plugin = (CNI_PLUGINS as Partial<Record<string, CniPlugin>>)[r.addon];
    if (plugin && r.manifestSha256 && plugin.manifestUrl(r.latest) === url) return r.manifestSha256;
  }
  return undefined;
}
