/**
 * `kbootstrap bundle INVENTORY --file FILE`: everything the inventory's cluster downloads, in one
 * file, made on a machine that reaches the upstreams (or the inventory's mirror and registries);
 * and `--check FILE`: a bundle read whole and matched against the inventory, as `up --bundle` will.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { EXIT, UsageError } from '../errors.js';
import type { Inventory } from '../inventory/model.js';
import { OS_NAMES, type OsName } from '../inventory/schema.js';
import type { LoadOptions } from '../inventory/load.js';
import type { Io } from '../io.js';
import { readRegistryAuth } from '../run/registry-auth.js';
import { Redactor } from '../redact.js';
import { BundleCache, cacheDir } from '../bundle/fetch.js';
import { bundleNeeds, bundleReleases } from '../bundle/needs.js';
import { verifyBundle } from '../bundle/verify.js';
import type { BundleManifest } from '../bundle/manifest.js';

export interface BundleCommandDeps {
  io: Io;
  setCode(code: number): void;
  load(file: string, io: Io, opts?: LoadOptions): Inventory;
}

export function registerBundleCommand(program: Command, d: BundleCommandDeps): void {
  const { io } = d;
  program.command('bundle')
    .summary('everything the cluster downloads, in one file (offline hosts)')
    .description('collect the packages (with the dependencies their repositories carry), container images and CNI manifest the inventory\'s cluster would download, for the OS releases of its hosts, into one file with a manifest of every file, its sha256, origin and why. Downloads are cached between bundles and resume after a cut. With --check FILE, read a bundle and match it against the inventory instead')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--file <file>', 'the bundle to write (a tar file)')
    .option('--check <file>', 'check this bundle against the inventory (every file\'s sha256, the version, OS releases, images), writing nothing')
    .option('--os <os>', `also bundle for these OS releases, comma-separated or repeated (hosts without os:, or not reachable now): ${OS_NAMES.join(', ')}`, (v: string, prev: OsName[] = []) => {
      const out = [...prev];
      for (const x of v.split(',').map((s) => s.trim()).filter(Boolean)) {
        if (!(OS_NAMES as readonly string[]).includes(x)) throw new InvalidArgumentError(`expected one of ${OS_NAMES.join(', ')}, got ${JSON.stringify(x)}`);
        out.push(x as OsName);
      }
      return out;
    })
    .option('--concurrency <n>', 'downloads at once (1-32)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 32) throw new InvalidArgumentError('expected a whole number from 1 to 32');
      return n;
    }, 4)
    .action(async (file: string, o: { file?: string; check?: string; os?: OsName[]; concurrency: number }) => {
      const inv = d.load(file, io, { keyFiles: false });
      if (o.check) {
        const m = await verifyBundle(o.check, inv);
        io.out(`${o.check}: a whole bundle for ${inv.cluster.name}: Kubernetes ${m.kubernetesVersion}, ${m.osReleases.map((r) => r.os).join(', ')}, ${m.images.length} images, ${m.files.length} files checked\n`);
        d.setCode(EXIT.ok);
        return;
      }
      if (!o.file) throw new UsageError('bundle: name the file to write with --file FILE (-o is the output format, as on every command)');
      if (existsSync(o.file)) throw new UsageError(`bundle: ${o.file} exists; kbootstrap does not overwrite it (move it, or choose another name)`);
      if (!existsSync(dirname(o.file))) throw new UsageError(`bundle: cannot write ${o.file}: no such directory`);
      const releases = bundleReleases(inv, o.os ?? []);
      // what cannot be bundled is refused before anything is fetched
      bundleNeeds(inv, releases);
      const { auth, secrets } = readRegistryAuth(inv, process.env);
      const redactor = new Redactor();
      redactor.add(...secrets);
      const say = (l: string) => io.err(redactor.redact(l) + '\n');
      const t0 = Date.now();
      const cache = new BundleCache(cacheDir(), undefined);
      say(`kbootstrap: bundling for ${inv.cluster.name} (Kubernetes ${inv.cluster.kubernetesVersion}, ${inv.cluster.containerRuntime}; ${releases.join(', ')}), cache ${cache.dir}`);
      // the registry client and OpenPGP load only for this command (every other command starts without them)
      const { buildBundle, mb } = await import('../bundle/build.js');
      const r = await buildBundle(inv, { releases, file: o.file, cache, concurrency: o.concurrency, auth, say });
      const fromOs = [...new Set(r.manifest.osReleases.flatMap((x) => x.fromOs))];
      if (fromOs.length) say(`kbootstrap: not in the bundle, from each release's own repositories: ${fromOs.join(', ')}`);
      say(`kbootstrap: wrote ${o.file}: ${mb(r.size)}, ${r.manifest.files.length} files (${mb(cache.fetched)} downloaded, ${mb(cache.reused)} from the cache) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      d.setCode(EXIT.ok);
    });
}

/** The dry run's header under `up --bundle`: where each artifact comes from. */
export function bundleNotes(file: string, m: BundleManifest, server: string, url: string): string[] {
  return [
    `Bundle ${file} (Kubernetes ${m.kubernetesVersion}; ${m.osReleases.map((r) => r.os).join(', ')}): every file's sha256 checked here before any host changes`,
    `Packages from ${url}: the bundle unpacked on ${server}, served for the length of the run; apt checks the trees' own signatures`,
    ...m.images.map((i) => `Image ${i.ref} (${i.digest}): imported from the bundle's ${i.file} where the runtime lacks it`),
    ...(!m.cniManifest ? [] : 'file' in m.cniManifest
      ? [`CNI manifest from the bundle's ${m.cniManifest.file} (${m.cniManifest.url})`]
      : [`CNI manifest uploaded from ${m.cniManifest.local} as without a bundle; its images from the bundle`]),
  ];
}
