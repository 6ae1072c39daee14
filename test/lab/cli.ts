// npm run lab -- up --hosts N [--vm [--os debian12|debian13] [--offline]] [--family rhel|debian|mixed|current] [--centos7-repos eol|vault] | down | status | exec NAME -- CMD...
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_SEED, labDown, labExec, labStatus, labUnavailable, labUp, LAB_DIR, readLabState, type FamilyChoice, type LabState } from './lab.js';
import { vmDown, vmUp } from './vm/vms.js';
import { isVmOs, VM_OSES, type VmOs } from './vm/image.js';

const program = new Command('lab').description('the kbootstrap lab: SSH test hosts on this machine').exitOverride();

program.command('up')
  .option('--hosts <n>', 'number of hosts', (v) => { const n = Number(v); if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number'); return n; }, 3)
  .option('--family <family>', 'rhel | debian | mixed (with CentOS 7, Kubernetes 1.30) | current (the default Kubernetes)', 'mixed')
  .option('--centos7-repos <repos>', "CentOS 7's base repositories: eol (stock, mirrorlist.centos.org: yum fails) | vault", DEFAULT_SEED.centos7Repos)
  .option('--vm', 'real Debian virtual machines (qemu) instead of namespace hosts')
  .option('--os <os>', `with --vm: the VMs' release, ${Object.keys(VM_OSES).join(' | ')}`, 'debian12')
  .option('--offline', 'with --vm: the repository server and a registry on a loopback address no VM reaches; the VMs reach each other and the site\'s Debian mirror')
  .action(async (o: { hosts: number; family: FamilyChoice; centos7Repos: 'eol' | 'vault'; vm?: boolean; os: string; offline?: boolean }) => {
    if (!['rhel', 'debian', 'mixed', 'current'].includes(o.family)) throw new Error('--family is rhel, debian, mixed or current');
    if (!isVmOs(o.os)) throw new Error(`--os is ${Object.keys(VM_OSES).join(' or ')}`);
    if (o.os !== 'debian12' && !o.vm) throw new Error('--os is for --vm (the namespace lab mixes its releases with --family)');
    if (o.offline && !o.vm) throw new Error('--offline is for --vm');
    const os: VmOs = o.os;
    if (!['eol', 'vault'].includes(o.centos7Repos)) throw new Error('--centos7-repos is eol or vault');
    const t0 = Date.now();
    let st: LabState;
    if (o.vm) {
      try {
        st = await vmUp({ hosts: o.hosts, os, offline: !!o.offline, say: (m) => process.stdout.write(`${m}\n`) });
      } catch (e) {
        vmDown({ keepDir: true }); // never leave VMs running after a failed start; the lab dir keeps the consoles
        throw e;
      }
    } else st = await labUp({ hosts: o.hosts, family: o.family, centos7Repos: o.centos7Repos });
    process.stdout.write(labStatus());
    process.stdout.write(`${st.hosts.length} hosts up in ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
    process.stdout.write(`inventory: ${LAB_DIR}/inventory.yaml\nssh: ssh -i ${LAB_DIR}/id_ed25519 -o UserKnownHostsFile=${LAB_DIR}/known_hosts root@${st.hosts[0]!.address}\n`);
  });

program.command('down').action(() => {
  const t0 = Date.now();
  // a VM lab's down touches only what its lab dir and bridge name; the namespace lab's also sweeps stale namespace hosts
  if (readLabState()?.kind === 'vm') vmDown();
  else labDown();
  process.stdout.write(`lab down (${((Date.now() - t0) / 1000).toFixed(1)}s)\n`);
});

program.command('status').action(() => {
  const why = labUnavailable();
  if (why) process.stdout.write(`note: ${why}\n`);
  process.stdout.write(labStatus());
});

program.command('exec')
  .argument('<name>')
  .argument('<cmd...>')
  .action((name: string, cmd: string[]) => {
    const r = labExec(name, cmd);
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    process.exitCode = r.code;
  });

program.parseAsync(process.argv).catch((e: Error & { code?: string }) => {
  if (e.code?.startsWith('commander.')) { process.exitCode = e.code === 'commander.helpDisplayed' ? 0 : 2; return; }
  process.stderr.write(`lab: ${e.message}\n`);
  process.exitCode = 1;
});
