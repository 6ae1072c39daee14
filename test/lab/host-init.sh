#!/bin/bash
# kblab-host-init: PID 1 of a lab host, run by the lab driver inside
#   ip netns exec <ns> unshare --mount --uts --pid --fork --kill-child --propagation private
# It builds the host's private root (an overlay of the machine's / with a
# per-host upper layer), hides the machine's kernel state behind per-host
# files, pivots into it and becomes sshd.
set -euo pipefail
: "${KBLAB_NAME:?}" "${KBLAB_LAYER:?}" "${KBLAB_CLUSTER:?}" "${KBLAB_FAULTS:?}" "${KBLAB_FAMILY:?}" "${KBLAB_LABDIR:?}" "${KBLAB_NODE_MODULES:?}"

root="$KBLAB_LAYER/root"
mkdir -p "$root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$KBLAB_LAYER/upper,workdir=$KBLAB_LAYER/work" "$root"

hostname "$(cat "$root/etc/hostname")"

# a private /proc for the new PID namespace; kernel-wide sysctls read-only, net.* (per netns) writable
mount -t proc proc "$root/proc"
mount --bind "$root/proc/sys" "$root/proc/sys"
mount --bind "$root/proc/sys/net" "$root/proc/sys/net"
mount -o remount,bind,ro "$root/proc/sys"
# the kernel's swap and module lists, per host, maintained by the simulated swapon/swapoff/modprobe
mount --bind "$root/var/lib/kblab/swaps" "$root/proc/swaps"
# CPUs and memory as the host's hardware, not the machine's (see cpuinfo/meminfo in the seed)
mount --bind "$root/var/lib/kblab/cpuinfo" "$root/proc/cpuinfo"
mount --bind "$root/var/lib/kblab/meminfo" "$root/proc/meminfo"
# (this machine's kernel may have no module support and so no /proc/modules to cover: lsmod reads the state then)
if [ -e "$root/proc/modules" ]; then
  mount --bind "$root/var/lib/kblab/modules" "$root/proc/modules"
fi

# sysfs of this network namespace, with module, SELinux and DMI state made per host
mount -t sysfs sysfs "$root/sys"
mount -t tmpfs -o size=1m,mode=755 tmpfs "$root/sys/module"
mount -t tmpfs -o size=1m,mode=755 tmpfs "$root/sys/fs"
mkdir -p "$root/sys/fs/selinux" "$root/sys/fs/cgroup"
# the unified cgroup hierarchy, read-only, as a systemd host of today boots it (EL9+, Debian 11+, Ubuntu
# 21.10+): kbootstrap reads `stat -fc %T /sys/fs/cgroup` (cgroup2fs) and refuses cgroup v1 from 1.35;
# a bare directory on the tmpfs above read as tmpfs, i.e. cgroup v1, whatever the machine runs
mount -t cgroup2 -o ro,nosuid,nodev,noexec cgroup2 "$root/sys/fs/cgroup"
if [ -d "$root/var/lib/kblab/selinux" ]; then
  mount --bind "$root/var/lib/kblab/selinux" "$root/sys/fs/selinux"
fi
mount -t tmpfs -o size=16m,mode=755 tmpfs "$root/run"
mkdir -p "$root/run/kblab-sysfs"
mount -t sysfs sysfs "$root/run/kblab-sysfs"
mount -t tmpfs -o size=1m,mode=755 tmpfs "$root/sys/class"
mkdir -p "$root/sys/class/net" "$root/sys/class/dmi/id"
mount --bind "$root/run/kblab-sysfs/class/net" "$root/sys/class/net"
umount "$root/run/kblab-sysfs"
cp "$root/etc/kblab/product_uuid" "$root/sys/class/dmi/id/product_uuid"
chmod 0444 "$root/sys/class/dmi/id/product_uuid"

# a minimal /dev: none of the machine's disks are visible
mount -t tmpfs -o size=1m,mode=755 tmpfs "$root/dev"
for d in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
  IFS=: read -r n ma mi <<<"$d"
  mknod -m 666 "$root/dev/$n" c "$ma" "$mi"
done
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
ln -s /proc/self/fd "$root/dev/fd"
mount -t tmpfs -o size=64m tmpfs "$root/dev/shm"
mount -t tmpfs -o size=256m tmpfs "$root/tmp"
mkdir -p "$root/run/sshd" "$root/run/lock"

# the simulations and the packages they use, at a fixed path: the checkout may
# live under /tmp, which every host has its own tmpfs for
mkdir -p "$root/usr/lib/kblab/lab" "$root/usr/lib/kblab/node_modules"
mount --bind "$KBLAB_LABDIR" "$root/usr/lib/kblab/lab"
mount -o remount,bind,ro "$root/usr/lib/kblab/lab"
mount --bind "$KBLAB_NODE_MODULES" "$root/usr/lib/kblab/node_modules"
mount -o remount,bind,ro "$root/usr/lib/kblab/node_modules"

# the simulated cluster is shared by every host; faults are set from outside
mkdir -p "$root/var/lib/kblab-cluster" "$root/var/lib/kblab-faults"
mount --bind "$KBLAB_CLUSTER" "$root/var/lib/kblab-cluster"
mount --bind "$KBLAB_FAULTS" "$root/var/lib/kblab-faults"

cd "$root"
mkdir -p .oldroot
pivot_root . .oldroot
umount -l /.oldroot
rmdir /.oldroot
cd /
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
exec /usr/sbin/sshd -D -e -f /etc/ssh/kblab/sshd_config 2>>/var/log/kblab/sshd.log
