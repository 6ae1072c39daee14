/**
 * cluster.cni.manifest as a local file: only a regular file under the
 * inventory's own directory (after resolving symlinks), at most
 * MAX_MANIFEST_BYTES. The inventory is the user's; the files around it are
 * not all meant for a cluster (an absolute path, ../ or /proc/self/environ
 * would send any file the operator can read to the control plane).
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';

/** 4 MiB: calico.yaml v3.28 is about 250 KiB, the tigera-operator bundle about 1.5 MiB. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export type LocalManifest = { ok: true; path: string; size: number } | { ok: false; reason: string };

/** Where a local manifest lives, or why it is refused. Nothing is read. */
export function resolveLocalManifest(inventoryFile: string, manifest: string): LocalManifest {
  return resolveUnderInventory(inventoryFile, manifest, {
    what: 'a local manifest', hint: 'expected an https URL or a path like ./calico.yaml', missingHint: 'expected an https URL or a local file',
    maxBytes: MAX_MANIFEST_BYTES, kind: 'a CNI manifest',
  });
}

/**
 * A file the inventory names that goes to the hosts (a CNI manifest, a registry's CA): a regular file
 * under the inventory's own directory (after resolving symlinks), given relative to it, at most maxBytes.
 */
export function resolveUnderInventory(inventoryFile: string, rel: string,
  o: { what: string; hint: string; missingHint: string; maxBytes: number; kind: string }): LocalManifest {
  const shown = JSON.stringify(rel);
  if (isAbsolute(rel)) {
    return { ok: false, reason: `${shown} is an absolute path: ${o.what} must be a file under the inventory's directory, given relative to it (${o.hint})` };
  }
  let dir: string;
  let real: string;
  try {
    dir = realpathSync(dirname(resolve(inventoryFile)));
  } catch {
    return { ok: false, reason: `cannot resolve the inventory's directory to look for ${shown}` };
  }
  try {
    real = realpathSync(resolve(dir, rel));
  } catch {
    return { ok: false, reason: `no such file ${shown} next to the inventory (${o.missingHint})` };
  }
  const r = relative(dir, real);
  if (r === '' || r === '..' || r.startsWith(`..${sep}`) || isAbsolute(r)) {
    return { ok: false, reason: `${shown} resolves to ${real}, outside the inventory's directory ${dir}: ${o.what} must be a file under it` };
  }
  const st = statSync(real);
  if (!st.isFile()) return { ok: false, reason: `${shown} is not a regular file` };
  if (st.size > o.maxBytes) {
    return { ok: false, reason: `${shown} is ${st.size} bytes, more than the ${o.maxBytes >= 1024 * 1024 ? `${o.maxBytes / 1024 / 1024} MiB` : `${o.maxBytes / 1024} KiB`} ${o.kind} may have` };
  }
  return { ok: true, path: real, size: st.size };
}

/**
 * Read a local manifest with the same rules, checked again on the open file
 * (it may have changed since the inventory was loaded). Throws with the reason.
 */
export function readLocalManifest(inventoryFile: string, manifest: string): { path: string; content: string; sha256: string } {
  const r = resolveLocalManifest(inventoryFile, manifest);
  if (!r.ok) throw new Error(`cluster.cni.manifest: ${r.reason}`);
  const fd = openSync(r.path, 'r');
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_MANIFEST_BYTES) throw new Error(`cluster.cni.manifest: ${r.path} changed since the inventory was read`);
    const buf = Buffer.alloc(MAX_MANIFEST_BYTES + 1);
    let n = 0;
    for (let got = -1; got !== 0 && n <= MAX_MANIFEST_BYTES;) {
      got = readSync(fd, buf, n, buf.length - n, null);
      n += got;
    }
    if (n > MAX_MANIFEST_BYTES) throw new Error(`cluster.cni.manifest: ${r.path} grew past ${MAX_MANIFEST_BYTES / 1024 / 1024} MiB while it was read`);
    const bytes = buf.subarray(0, n);
    return { path: r.path, content: bytes.toString('utf8'), sha256: createHash('sha256').update(bytes).digest('hex') };
  } finally {
    closeSync(fd);
  }
}
