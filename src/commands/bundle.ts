/**
 * `kbootstrap bundle INVENTORY --file FILE`: everything the inventory's cluster downloads, in one
 * file, made on a machine that reaches the upstreams (or the inventory's mirror and registries);
 * and `--check FILE`: a bundle read whole and matched against the inventory, as `up --bundle` will.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { EXIT, UsageError } from '../errors.js';
import type { OsName } from '../inventory/os-names.js';
import { load } from './load.js';
import type { Io } from '../io.js';
import { readRegistryAuth } from '../run/registry-auth.js';
import { Redactor } from '../redact.js';
import { BundleCache, cacheDir } from '../bundle/fetch.js';
import { bundleNeeds, bundleReleases } from '../bundle/needs.js';
import { verifyBundle } from '../bundle/verify.js';
import type { BundleArch } from '../bundle/arch.js';

export interface BundleCommandDeps {
  io: Io;
  setCode(code: number): void;
}

export interface BundleFlags { file?: string; check?: string; push?: string; from?: string; os?: OsName[]; arch?: BundleArch[]; concurrency: number; withOsPackages?: boolean }

/** kbootstrap bundle INVENTORY --file FILE | --check FILE (registered by bundle-cli.ts, loaded when it runs). */
export async function bundleCommand(d: BundleCommandDeps, file: string, o: BundleFlags): Promise<void> {
  const { io } = d;
  const inv = load(file, io, { keyFiles: false });
  if (o.check) {
    const m = await verifyBundle(o.check, inv);
    io.out(`${o.check}: a whole bundle for ${inv.cluster.name}: Kubernetes ${m.kubernetesVersion}, ${[...new Set(m.osReleases.map((r) => r.os))].join(', ')} (${(m.arches ?? ['amd64']).join(', ')}), ${m.images.length} images, ${m.files.length} files checked\n`);
    d.setCode(EXIT.ok);
    return;
  }
  if (o.push) {
    if (!o.from) throw new UsageError('bundle --push REGISTRY: name the bundle to push with --from FILE');
    const { pushTarget, pushBundle } = await import('../bundle/push.js');
    const reg = pushTarget(inv, o.push);
    const m = await verifyBundle(o.from, inv);
    const { auth, secrets } = readRegistryAuth(inv, process.env);
    const redactor = new Redactor();
    redactor.add(...secrets);
    const r = await pushBundle(o.from, m, inv, reg, auth, (s) => redactor.redact(s), (l) => io.err(redactor.redact(l) + '\n'));
    io.out(`${o.from}: ${r.sent.length} images pushed to ${reg.host}, ${r.present.length} already there; up --bundle imports on the hosts only what the registry lacks\n`);
    d.setCode(EXIT.ok);
    return;
  }
  if (o.from) throw new UsageError('bundle: --from FILE goes with --push REGISTRY');
  if (!o.file) throw new UsageError('bundle: name the file to write with --file FILE (-o is the output format, as on every command)');
  if (existsSync(o.file)) throw new UsageError(`bundle: ${o.file} exists; kbootstrap does not overwrite it (move it, or choose another name)`);
  if (!existsSync(dirname(o.file))) throw new UsageError(`bundle: cannot write ${o.file}: no such directory`);
  const releases = bundleReleases(inv, o.os ?? []);
  const arches = o.arch?.length ? o.arch : ['amd64' as const];
  // what cannot be bundled is refused before anything is fetched
  const needs = bundleNeeds(inv, releases, arches);
  const refused = o.withOsPackages ? needs.osReleases.find((r) => r.osRefusal) : undefined;
  if (refused) throw new UsageError(`bundle --with-os-packages: ${refused.osRefusal}`);
  const { auth, secrets } = readRegistryAuth(inv, process.env);
  const redactor = new Redactor();
  redactor.add(...secrets);
  const say = (l: string) => io.err(redactor.redact(l) + '\n');
  const t0 = Date.now();
  const cache = new BundleCache(cacheDir(), undefined);
  say(`kbootstrap: bundling for ${inv.cluster.name} (Kubernetes ${inv.cluster.kubernetesVersion}, ${inv.cluster.containerRuntime}; ${releases.join(', ')}; ${arches.join(', ')}), cache ${cache.dir}`);
  // the registry client and OpenPGP load only for this command (every other command starts without them)
  const { buildBundle, mb } = await import('../bundle/build.js');
  const r = await buildBundle(inv, { releases, arches, file: o.file, cache, concurrency: o.concurrency, auth, say, withOsPackages: o.withOsPackages });
  for (const x of r.manifest.osReleases) {
    if (x.osPackages) say(`kbootstrap: ${x.os} ${x.arch}: ${x.osPackages.packages.length} packages of its own repositories bundled (${x.osPackages.packages.map((p) => p.name).join(', ')}); ${x.osPackages.present.length} more it needs are on every installation (${x.osId === 'debian' || x.osId === 'ubuntu' ? 'Priority required' : 'the comps group core'})`);
  }
  const fromOs = [...new Set(r.manifest.osReleases.flatMap((x) => x.fromOs))];
  if (fromOs.length) say(`kbootstrap: not in the bundle, from each release's own repositories: ${fromOs.join(', ')}${o.withOsPackages ? ' (left by --with-os-packages' : ' (--with-os-packages bundles them for Debian, Ubuntu, Rocky 9 and AlmaLinux 9'}; check --bundle names what each host lacks)`);
  say(`kbootstrap: wrote ${o.file}: ${mb(r.size)}, ${r.manifest.files.length} files (${mb(cache.fetched)} downloaded, ${mb(cache.reused)} from the cache) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  d.setCode(EXIT.ok);
}
