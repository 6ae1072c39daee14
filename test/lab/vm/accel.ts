/**
 * Which qemu accelerator boots a guest here. /dev/kvm is not enough: on this kind of machine it is
 * the kvm-pvm module, where `-enable-kvm -cpu host` aborts ("failed to set MSR 0x10a") and other CPU
 * models leave a stock Debian kernel crawling in its decompressor with no console output
 * (../shared/reference/vm-notes.md). So KVM counts only when a probe guest prints the kernel's banner
 * within seconds; otherwise software emulation (TCG), multi-threaded, with a 1 GiB translation cache:
 * it costs memory (about 1.5 GB RSS per VM against 1 GB with 256 MiB; 24 GiB here, at most three VMs
 * at once) and saves CPU: the host steps' converge plus the images step on one Debian 12 VM took 264
 * CPU-seconds of qemu against 342 with 256 MiB, the two VMs side by side (2026-12-07). The guests run
 * Node.js (the lab's simulations), whose generated code a small cache keeps translating again.
 * The probe's answer is kept per machine boot.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { cacheRoot } from './image.js';

export interface Accel {
  kind: 'kvm' | 'tcg';
  args: string[];
  why: string;
}

const TCG: string[] = ['-accel', 'tcg,thread=multi,tb-size=1024', '-cpu', 'max'];
const KVM: string[] = ['-enable-kvm', '-cpu', 'host'];

/** Boot the kernel under KVM for a few seconds and look for its banner on the serial port. */
function kvmBoots(kernel: string): { ok: boolean; why: string } {
  if (!existsSync('/dev/kvm')) return { ok: false, why: 'no /dev/kvm' };
  const dir = mkdtempSync(join(tmpdir(), 'kblab-kvm-probe-'));
  try {
    const serial = join(dir, 'serial');
    // no root disk: the kernel panics after its banner, -no-reboot ends qemu; timeout ends a crawling guest
    const r = spawnSync('timeout', ['10', 'qemu-system-x86_64', ...KVM, '-m', '256', '-kernel', kernel, '-append', 'console=ttyS0 panic=-1',
      '-serial', `file:${serial}`, '-display', 'none', '-monitor', 'none', '-no-reboot'], { encoding: 'utf8' });
    const out = existsSync(serial) ? readFileSync(serial, 'utf8') : '';
    if (out.includes('Linux version')) return { ok: true, why: 'a KVM guest booted' };
    const err = r.stderr.trim().split('\n').pop();
    return { ok: false, why: r.status === 124 ? 'a KVM guest printed nothing in 10 s (kvm-pvm cannot run a stock kernel)' : `KVM failed: ${err}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function chooseAccel(kernel: string): Accel {
  if (process.env.KBLAB_VM_ACCEL === 'tcg') return { kind: 'tcg', args: TCG, why: 'KBLAB_VM_ACCEL=tcg' };
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const memo = join(cacheRoot(), `accel-${bootId}.json`);
  let probe: { ok: boolean; why: string };
  if (existsSync(memo)) probe = JSON.parse(readFileSync(memo, 'utf8')) as { ok: boolean; why: string };
  else {
    probe = kvmBoots(kernel);
    mkdirSync(cacheRoot(), { recursive: true });
    writeFileSync(memo, JSON.stringify(probe));
  }
  return probe.ok ? { kind: 'kvm', args: KVM, why: probe.why } : { kind: 'tcg', args: TCG, why: probe.why };
}
