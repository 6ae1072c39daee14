#!/bin/sh
# Turn a debootstrapped Debian root ($1) into the lab's VM image root. Part of the image recipe:
# any change here changes the recipe hash and so rebuilds the cached image.
set -eu
root=$1
vmdir=$(dirname "$0")

echo '/dev/vda / ext4 errors=remount-ro 0 1' > "$root/etc/fstab"
echo debian > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n' > "$root/etc/hosts"
# an empty machine-id: systemd makes a new one at first boot, so VMs of one image differ (kubeadm reads it)
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
# host keys are made per VM at first boot (firstboot.sh)
rm -f "$root"/etc/ssh/ssh_host_*
# apt's daily timers would hold the dpkg lock in the middle of a test
for t in apt-daily.timer apt-daily-upgrade.timer; do ln -sf /dev/null "$root/etc/systemd/system/$t"; done
# e2scrub_reap checks ext4 metadata at every boot (about 14 s of an emulated boot, measured with
# systemd-analyze blame); a lab VM lives for one test run
for u in e2scrub_reap.service e2scrub_all.timer; do ln -sf /dev/null "$root/etc/systemd/system/$u"; done
# an initramfs with only what a virtio disk holding ext4 needs instead of MODULES=most: 6 MB instead
# of 36 MB for the emulated CPU to unpack at every boot (initramfs.conf(5): MODULES=list takes the
# modules named in /etc/initramfs-tools/modules, with their dependencies)
sed -i 's/^MODULES=.*/MODULES=list/' "$root/etc/initramfs-tools/initramfs.conf"
printf 'virtio_pci\nvirtio_blk\next4\n' >> "$root/etc/initramfs-tools/modules"
chroot "$root" update-initramfs -u -k all
# no Debian archive is reachable from a VM: firstboot.sh points apt at the lab's
: > "$root/etc/apt/sources.list"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb

install -m 755 "$vmdir/firstboot.sh" "$root/usr/local/sbin/kblab-firstboot"
cat > "$root/etc/systemd/system/kblab-firstboot.service" <<'UNIT'
[Unit]
Description=kblab: address, keys and archive from the kernel command line
Wants=sys-subsystem-net-devices-eth0.device
After=sys-subsystem-net-devices-eth0.device local-fs.target
Before=ssh.service network-online.target
DefaultDependencies=no

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/kblab-firstboot

[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/kblab-firstboot.service "$root/etc/systemd/system/multi-user.target.wants/kblab-firstboot.service"

# users as in the namespace lab: root (key only) and kb (key, passwordless sudo)
chroot "$root" useradd -m -s /bin/bash -u 1001 kb
echo 'kb ALL=(ALL:ALL) NOPASSWD: ALL' > "$root/etc/sudoers.d/kblab"
chmod 440 "$root/etc/sudoers.d/kblab"
chroot "$root" passwd -l root >/dev/null
