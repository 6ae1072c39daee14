// npm run demo: a newcomer's first look. Brings up a 3-host lab, runs
// `kbootstrap up` against it for real over SSH, runs it again to show that
// nothing changes, and says how to look around and tear down. Without root
// (no lab), it shows the dry run of inventories/lab.yaml instead.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { LAB_DIR, REPO, labUnavailable, labUp } from '../test/lab/lab.js';
import { ensurePrereqs, prereqBlock } from './prereqs.js';

const kb = (args: string[]) => spawnSync(process.execPath, [join(REPO, 'bin', 'kbootstrap.js'), ...args], { stdio: 'inherit' }).status ?? 1;
const bold = process.stdout.isTTY ? (s: string) => `\x1b[1m${s}\x1b[0m` : (s: string) => s;
const say = (s: string) => process.stdout.write(`\n${bold(s)}\n`);

// installs missing Debian packages when it can (as root on Debian/Ubuntu), else lists what is missing
const missing = ensurePrereqs('demo');
const why = labUnavailable();
if (why) {
  say(`The lab cannot run here (${why}).`);
  say('Instead, this is what kbootstrap would run on the seed tutorial\'s three CentOS 7 VMs (a dry run; nothing is contacted):');
  process.exitCode = kb(['up', join(REPO, 'inventories', 'lab.yaml'), '--dry-run']);
  // after a dry run of over a thousand lines: the reason has to be the last thing on screen
  process.stdout.write(prereqBlock('demo', missing.length ? missing : [why]));
} else {
  say('Starting a lab of 3 hosts (Rocky 9, Ubuntu 22.04, Debian 12) in network namespaces on this machine...');
  const t0 = Date.now();
  const st = await labUp({ hosts: 3, family: 'current' });
  const [lab01] = st.hosts;
  if (!lab01) throw new Error('the lab started no hosts');
  for (const h of st.hosts) process.stdout.write(`  ${h.name}  ${h.address}  ${h.os}\n`);
  process.stdout.write(`  up in ${((Date.now() - t0) / 1000).toFixed(1)}s. The hosts run a real sshd; the package manager, container runtime, kubeadm and kubectl on them are simulations.\n`);
  const inv = join(LAB_DIR, 'inventory.yaml');
  say(`kbootstrap up ${inv}`);
  const first = kb(['up', inv]);
  if (first !== 0) { process.exitCode = first; process.exit(); }
  say('Again: a converged cluster, so every step reports ok and nothing changes');
  process.exitCode = kb(['up', inv]);
  say('Look around:');
  process.stdout.write(`  npm run lab -- exec lab-01 -- kubectl get nodes
  npm run lab -- exec lab-02 -- cat /etc/hosts
  ssh -i ${LAB_DIR}/id_ed25519 -o UserKnownHostsFile=${LAB_DIR}/known_hosts root@${lab01.address}
  node bin/kbootstrap.js plan ${inv}
Tear down:
  npm run lab -- down
`);
}
