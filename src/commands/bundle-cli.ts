/**
 * The bundle command as the CLI registers it: only commander loads with
 * --help; its code (src/commands/bundle.ts) loads when it runs.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { OS_NAMES, type OsName } from '../inventory/os-names.js';
import type { BundleCommandDeps, BundleFlags } from './bundle.js';
import { BUNDLE_ARCHES, type BundleArch } from '../bundle/arch.js';

export function registerBundleCommand(program: Command, d: BundleCommandDeps): void {
  program.command('bundle')
    .summary('everything the cluster downloads, in one file (offline hosts)')
    .description('collect the packages (with the dependencies their repositories carry), container images and CNI manifest the inventory\'s cluster would download, for the OS releases of its hosts, into one file with a manifest of every file, its sha256, origin and why. Downloads are cached between bundles and resume after a cut. With --check FILE, read a bundle and match it against the inventory instead')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--file <file>', 'the bundle to write (a tar file)')
    .option('--check <file>', 'check this bundle against the inventory (every file\'s sha256, the version, OS releases, images), writing nothing')
    .option('--push <registry>', 'copy the images of the bundle --from names into this registry of cluster.registries (its CA and credentials as the inventory gives them), so that the hosts pull them from there instead of importing them; needs skopeo')
    .option('--from <file>', 'the bundle --push reads (checked whole against the inventory first)')
    .option('--os <os>', `also bundle for these OS releases, comma-separated or repeated (hosts without os:, or not reachable now): ${OS_NAMES.join(', ')}`, (v: string, prev: OsName[] = []) => {
      const out = [...prev];
      for (const x of v.split(',').map((s) => s.trim()).filter(Boolean)) {
        if (!(OS_NAMES as readonly string[]).includes(x)) throw new InvalidArgumentError(`expected one of ${OS_NAMES.join(', ')}, got ${JSON.stringify(x)}`);
        out.push(x as OsName);
      }
      return out;
    })
    .option('--arch <arch>', `the hosts' architectures to bundle packages and images for, comma-separated: ${BUNDLE_ARCHES.join(', ')} (default amd64; amd64,arm64 for a cluster of both)`, (v: string, prev: BundleArch[] = []) => {
      const out = [...prev];
      for (const x of v.split(',').map((s) => s.trim()).filter(Boolean)) {
        if (!(BUNDLE_ARCHES as readonly string[]).includes(x)) throw new InvalidArgumentError(`expected ${BUNDLE_ARCHES.join(' or ')}, got ${JSON.stringify(x)}`);
        if (!out.includes(x as BundleArch)) out.push(x as BundleArch);
      }
      return out;
    })
    .option('--with-os-packages', 'also bundle what the steps install from a Debian or Ubuntu release\'s own repositories (curl, gpg, ipset…) and what the bundled packages need from them, with their dependencies, less the packages of Priority required and important every installation has; read from the release\'s signed repositories (or the packageMirror\'s copy). EL releases: listed, not bundled')
    .option('--concurrency <n>', 'downloads at once (1-32)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 32) throw new InvalidArgumentError('expected a whole number from 1 to 32');
      return n;
    }, 4)
    .action(async (file: string, o: BundleFlags) => {
      await (await import('./bundle.js')).bundleCommand(d, file, o);
    });
}
