#!/bin/sh
# kblab-firstboot: runs at every boot of a lab VM before sshd (kblab-firstboot.service).
# Everything that differs between VMs of one image comes from the kernel command line the lab
# passes with direct kernel boot, so one cached image serves every VM and survives reboots:
#   kblab.addr=A.B.C.D/NN kblab.gw=A.B.C.D kblab.key=<ed25519 key blob> kblab.mirror=http://...
set -eu

arg() {
  for w in $(cat /proc/cmdline); do
    case "$w" in "$1="*) printf '%s\n' "${w#*=}" ;; esac
  done
}
addr=$(arg kblab.addr)
gw=$(arg kblab.gw)
key=$(arg kblab.key)
mirror=$(arg kblab.mirror)

# addressing: net.ifnames=0 on the command line makes the one virtio NIC eth0
ip link set lo up
ip link set eth0 up
if [ -n "$addr" ]; then ip addr replace "$addr" dev eth0; fi
# kubeadm picks its advertise address from the interface of the default route
if [ -n "$gw" ]; then ip route replace default via "$gw" dev eth0; fi

# SSH host keys: the image ships none, so every VM gets its own on its first boot
if [ ! -s /etc/ssh/ssh_host_ed25519_key ]; then ssh-keygen -A; fi

# the lab's client key for root and kb (a fresh key per `lab up`)
if [ -n "$key" ]; then
  for home in /root /home/kb; do
    owner=$(stat -c %U "$home")
    install -d -m 700 -o "$owner" -g "$owner" "$home/.ssh"
    printf 'ssh-ed25519 %s kblab-client\n' "$key" > "$home/.ssh/authorized_keys"
    chown "$owner:$owner" "$home/.ssh/authorized_keys"
    chmod 600 "$home/.ssh/authorized_keys"
  done
fi

# the distribution archive: the VMs have no route to Debian's mirrors, so their Debian archive is the
# lab's own signed repository on the bridge (as an offline install would have a local mirror)
# (the image's own release: bookworm or trixie, from /etc/os-release)
if [ -n "$mirror" ]; then
  codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
  printf 'deb [signed-by=/usr/share/keyrings/kblab-archive-keyring.gpg] %s %s main\n' "$mirror" "$codename" > /etc/apt/sources.list
fi

# a fresh install's swap: a swap file in /etc/fstab, made once, on the first boot only, so that
# once kbootstrap has turned swap off a reboot shows whether it stays off
if [ ! -e /var/lib/kblab/swap-made ]; then
  fallocate -l 256M /swap.img
  chmod 600 /swap.img
  mkswap /swap.img >/dev/null
  echo '/swap.img none swap sw 0 0' >> /etc/fstab
  swapon /swap.img
  mkdir -p /var/lib/kblab
  touch /var/lib/kblab/swap-made
fi

# the host key on the serial console, which only the lab reads (cloud-init does the same for known_hosts)
echo "KBLAB-HOSTKEY $(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)" > /dev/ttyS0
