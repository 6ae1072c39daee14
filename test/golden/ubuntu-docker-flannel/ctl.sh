#!/usr/bin/env bash
# kbootstrap dry run for ctl (192.168.56.10), role control-plane
# OS assumed: Ubuntu 22.04.4 LTS (from the inventory; a real run reads /etc/os-release)
# Cluster jammy: Kubernetes 1.36.4, docker, CNI flannel, kube-proxy iptables
# SSH: ubuntu@192.168.56.10:22 (commands run through sudo -n)
# Images of registry.k8s.io: https://registry.k8s.io (upstream)
# Images of docker.io: https://registry-1.docker.io (upstream)
#
# Each step shows its read-only check (kbootstrap parses what it prints) and
# the commands it runs when the check finds the step not done. Run as root.
# Values that exist only at run time appear as <PLACEHOLDERS>; secrets never appear.
set -euo pipefail

# Command substitutions of one program with a redirection are written $(exec CMD ... 2>/dev/null):
# bash 5.2 forks twice for $(CMD 2>/dev/null) and once with exec, and the checks run on every host at
# every run (issue 24).

# kb_write DEST MODE [OWNER]: replace DEST with stdin atomically (temp file in
# the same directory, mode and owner set, then rename), keeping a one-time
# backup of the original as DEST.kbootstrap.bak (see kb_backup).
kb_write() {
  kb_dir=$(dirname "$1")
  mkdir -p "$kb_dir"
  kb_tmp=$(mktemp "$kb_dir/.kbootstrap.XXXXXX") || return 1
  if ! { cat >"$kb_tmp" && chmod "$2" "$kb_tmp" && chown "${3:-root:root}" "$kb_tmp"; }; then
    rm -f "$kb_tmp"
    return 1
  fi
  kb_backup "$1"
  mv -f "$kb_tmp" "$1"
}

# kb_backup FILE: copy FILE to FILE.kbootstrap.bak once; later runs keep the first copy.
# Nothing under /etc/kbootstrap is backed up: kbootstrap wrote those files itself and some
# hold secrets (the join configuration), so a backup an older kbootstrap left there goes too.
kb_backup() {
  case $1 in
    /etc/kbootstrap/*)
      rm -f "$1.kbootstrap.bak"
      return 0
      ;;
  esac
  if [ -e "$1" ] && [ ! -e "$1.kbootstrap.bak" ]; then
    cp -p "$1" "$1.kbootstrap.bak"
  fi
}

# kb_edit FILE CMD...: run CMD with FILE on stdin and replace FILE with its output atomically.
kb_edit() {
  kb_file=$1
  shift
  kb_dir=$(dirname "$kb_file")
  kb_tmp=$(mktemp "$kb_dir/.kbootstrap.XXXXXX") || return 1
  if ! { "$@" <"$kb_file" >"$kb_tmp" && chmod --reference="$kb_file" "$kb_tmp" && chown --reference="$kb_file" "$kb_tmp"; }; then
    rm -f "$kb_tmp"
    return 1
  fi
  kb_backup "$kb_file"
  mv -f "$kb_tmp" "$kb_file"
}

# kb_retry N DELAY CMD...: run CMD up to N times, DELAY seconds apart (package mirrors flake).
kb_retry() {
  kb_n=$1 kb_delay=$2
  shift 2
  until "$@"; do
    kb_n=$((kb_n - 1))
    if [ "$kb_n" -le 0 ]; then return 1; fi
    sleep "$kb_delay"
  done
}

# kb_kubectl ARGS...: kubectl as the cluster's administrator (a control plane's admin.conf).
kb_kubectl() {
  kubectl --kubeconfig=/etc/kubernetes/admin.conf "$@"
}

# kb_key_fprs FILE: the fingerprint of the primary key of each OpenPGP key in
# FILE, one a line (40 upper-case hex digits). gpg 2.2.8+ reads the file with
# --show-keys; gpg 2.0 (CentOS 7) lists it when given only the file (the
# second call, after the first failed; as before, what both printed counts). A
# throwaway home: no keyring is read or written. The colons are read by the
# shell (kb_key_parse), not by a pipeline to awk: fewer processes per key.
kb_key_fprs() {
  kb_key_parse "$1" || return $?
  # shellcheck disable=SC2086 # one fingerprint a word
  if [ -n "$kb_fprs" ]; then printf '%s\n' $kb_fprs; fi
}

# kb_key_parse FILE: kb_key_fprs' fingerprints in kb_fprs (space-separated), no subshell.
kb_key_parse() {
  local kh out p=0
  local -a f
  kb_fprs=
  command -v gpg >/dev/null 2>&1 || return 0
  kh=$(mktemp -d) || return 1
  if ! out=$(exec gpg --batch --homedir "$kh" --show-keys --with-colons "$1" 2>/dev/null); then
    out+=$'\n'$(exec gpg --batch --homedir "$kh" --with-colons --with-fingerprint "$1" 2>/dev/null) || true
  fi
  rm -rf "$kh"
  # awk -F: '$1 == "pub" { p = 1; next } $1 == "fpr" && p { print $10; p = 0 }', in the shell
  while IFS=: read -r -a f; do
    case ${f[0]-} in
      pub) p=1 ;;
      fpr) if [ "$p" = 1 ]; then kb_fprs+="${kb_fprs:+ }${f[9]-}"; p=0; fi ;;
    esac
  done <<<"$out"
}

# kb_key_trusted FILE "FPR...": true when FILE holds at least one key and every
# primary key in it has one of the fingerprints.
kb_key_trusted() {
  [ -s "$1" ] || return 1
  kb_key_parse "$1" || return 1
  [ -n "$kb_fprs" ] || return 1
  for kb_f in $kb_fprs; do
    case " $2 " in
      *" $kb_f "*) ;;
      *) return 1 ;;
    esac
  done
}

# The file states a batch of checks read ahead (kb_file_prefetch), by "p" and the path.
declare -A kb_fs_cache=()

# kb_file_lines PATH...: kb_file_state's lines, in the order given, in the array kb_fl; one sha256sum and
# one stat for all the files there are (each on its own when that one read fails: a file it could not
# read, or one that came since).
kb_file_lines() {
  local f h j=0 s m
  local -a have=() sums=() modes=()
  kb_fl=()
  for f in "$@"; do
    if [ -f "$f" ]; then have+=("$f"); fi
  done
  if [ "${#have[@]}" -gt 0 ] && s=$(exec sha256sum -- "${have[@]}" 2>/dev/null) && m=$(exec stat -c %a -- "${have[@]}" 2>/dev/null); then
    # one line each, in the order given (sha256sum starts a line with a backslash when it escapes the name)
    mapfile -t sums <<<"$s"
    mapfile -t modes <<<"$m"
  fi
  for f in "$@"; do
    if [ "${#sums[@]}" -eq "${#have[@]}" ] && [ "${#modes[@]}" -eq "${#have[@]}" ] && [ "$j" -lt "${#have[@]}" ] && [ "${have[j]}" = "$f" ]; then
      h=${sums[j]#\\}
      kb_fl+=("file=$f ${h%% *} ${modes[j]}")
      j=$((j + 1))
    elif [ -f "$f" ]; then
      kb_fl+=("file=$f $(sha256sum <"$f" | cut -d' ' -f1) $(stat -c %a "$f")")
    else
      kb_fl+=("file=$f missing")
    fi
  done
}

# kb_file_prefetch PATH...: read the states of a batch's files at once, before its checks start side by
# side: each check's kb_file_state then prints them without a sha256sum and a stat of its own. Only for
# checks, which change nothing: a file written after this is read again only once kb_fs_cache is emptied.
kb_file_prefetch() {
  local i=0 f
  kb_file_lines "$@"
  for f in "$@"; do
    kb_fs_cache["p$f"]=${kb_fl[i]}
    i=$((i + 1))
  done
}

# kb_file_forget: the batch is over; files are read again.
kb_file_forget() {
  kb_fs_cache=()
}

# kb_file_state PATH...: each file's line for a check, in the order given: "file=PATH SHA256 MODE", or
# "file=PATH missing" when it is not a regular file (kb_file_lines); what kb_file_prefetch read is not read again.
kb_file_state() {
  local f i=0
  local -a miss=()
  for f in "$@"; do
    if [ -z "${kb_fs_cache["p$f"]+x}" ]; then miss+=("$f"); fi
  done
  kb_fl=()
  if [ "${#miss[@]}" -gt 0 ]; then kb_file_lines "${miss[@]}"; fi
  for f in "$@"; do
    if [ -n "${kb_fs_cache["p$f"]+x}" ]; then
      printf '%s\n' "${kb_fs_cache["p$f"]}"
    else
      printf '%s\n' "${kb_fl[i]}"
      i=$((i + 1))
    fi
  done
}

### cluster-version: The running cluster is at the version the inventory asks for
## check (read-only)
(
# One read of everything the cluster-wide steps look at (nodes, the
# kube-proxy and CNI objects, pods), shared by all of them and parsed once.
if [ ! -f /etc/kubernetes/admin.conf ]; then
  echo cluster=absent
elif kb_state=$(kb_kubectl get nodes,configmaps,daemonsets,pods --all-namespaces -o json --request-timeout=10s 2>&1); then
  echo cluster=present
  # JSON strings never hold a raw newline, so the document fits on one line
  printf 'state=%s\n' "$(exec tr -d '\n' <<<"$kb_state")"
else
  echo cluster=down
  printf '%s\n' "$kb_state" | tail -n 2 | sed 's/^/error=/'
fi
)
## apply
# (read-only)
(
# The check could not read the cluster's version: read it again and refuse
# when the running cluster is not at the inventory's version. kubeadm records
# it in the kubeadm-config ConfigMap at init and at upgrade apply
# (https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-upgrade/);
# `kbootstrap upgrade` moves a cluster, `up` never does.
if [ -f /etc/kubernetes/admin.conf ]; then
  kb_running=$(kb_kubectl -n kube-system get configmap kubeadm-config -o yaml --request-timeout=10s | sed -n 's/^ *kubernetesVersion: *v\{0,1\}//p' | head -n 1)
  if [ "$kb_running" != 1.36.4 ]; then
    printf 'the cluster runs %s, the inventory asks for %s: run kbootstrap upgrade\n' "${kb_running:-a version kbootstrap cannot read}" 1.36.4 >&2
    exit 1
  fi
fi
)

### hostname: Set the hostname to the inventory name
## check (read-only)
(
printf 'current=%s\n' "$(hostname)"
if [ -r /etc/hostname ]; then
  # the first line, as `head -n 1` printed it in a command substitution (the shell reads it: no process)
  kb_static=
  IFS= read -r kb_static </etc/hostname || true
  printf 'static=%s\n' "$kb_static"
fi
)
## apply
(
if command -v hostnamectl >/dev/null 2>&1 && hostnamectl set-hostname ctl; then
  :
else
  # no systemd-hostnamed: write the static name and set the running one
  printf '%s\n' ctl | kb_write /etc/hostname 0644
  hostname ctl
fi
)

### hosts-file: Map every cluster host in one managed /etc/hosts block
## check (read-only)
(
awk -v begin='# BEGIN kbootstrap managed hosts' -v end='# END kbootstrap managed hosts' '
  $0 == begin { inside = 1; blocks++ }
  inside { print "line=" $0 }
  inside && $0 == end { inside = 0 }
  END { print "blocks=" blocks + 0 }
' /etc/hosts
)
## apply
(
# drop any earlier kbootstrap block, keep every other line, append the current block
KB_BLOCK='# BEGIN kbootstrap managed hosts
# cluster jammy: kbootstrap rewrites the lines between these markers
192.168.56.10 ctl
192.168.56.11 work-1
192.168.56.12 work-2
# END kbootstrap managed hosts'
export KB_BLOCK
# shellcheck disable=SC2016 # an awk program
kb_edit /etc/hosts awk -v begin='# BEGIN kbootstrap managed hosts' -v end='# END kbootstrap managed hosts' '
  $0 == begin { skip = 1; next }
  skip && $0 == end { skip = 0; next }
  !skip { print }
  END { print ENVIRON["KB_BLOCK"] }
'
)

### selinux: Put SELinux in permissive mode, now and at boot
# skipped: SELinux is not managed on the Debian family (Debian 11/12/13, Ubuntu 20.04/22.04/24.04/26.04)

### firewall: Open the Kubernetes ports in firewalld
# skipped: firewalld is not managed on the Debian family (Debian 11/12/13, Ubuntu 20.04/22.04/24.04/26.04)

### swap: Turn swap off, now and at boot
## check (read-only)
(
echo checked=swap
# one awk for both files: the active swap areas below /proc/swaps' header, then fstab's swap lines
awk '
  FILENAME == "/proc/swaps" { if (FNR > 1) print "active=" $1; next }
  $1 !~ /^#/ && $3 == "swap" { print "fstab=" FNR " " $1 }
' /proc/swaps /etc/fstab
if [ -e /usr/lib/systemd/zram-generator.conf ] || [ -e /etc/systemd/zram-generator.conf ]; then
  if ! grep -qx '# kbootstrap: no zram swap (the kubelet needs swap off)' /etc/systemd/zram-generator.conf 2>/dev/null; then
    echo zram=configured
  fi
fi
)
## apply
(
swapoff -a
# comment out only active entries whose type is swap (not every line that mentions "swap")
if awk '$1 !~ /^#/ && $3 == "swap" { found = 1 } END { exit !found }' /etc/fstab; then
  # shellcheck disable=SC2016 # an awk program
  kb_edit /etc/fstab awk '$1 !~ /^#/ && $3 == "swap" { print "#kbootstrap# " $0; next } { print }'
fi
# zram swap (systemd-zram-generator): an /etc file of the same name masks the packaged config
if [ -e /usr/lib/systemd/zram-generator.conf ] || [ -e /etc/systemd/zram-generator.conf ]; then
  printf '%s\n' '# kbootstrap: no zram swap (the kubelet needs swap off)' | kb_write /etc/systemd/zram-generator.conf 0644
fi
)

### kernel-modules: Load the kernel modules Kubernetes needs, now and at boot
## check (read-only)
(
kb_file_state /etc/modules-load.d/k8s.conf
# lsmod's names (its first column below the header), one word each between spaces, matched by the
# shell: one process for the list, none per module
kb_lsmod=$(exec lsmod 2>/dev/null) || true
kb_loaded=' '
{
  read -r _
  while read -r kb_name _; do kb_loaded+="$kb_name "; done
} <<<"$kb_lsmod"
for kb_m in overlay br_netfilter; do
  # loaded as a module, or built into the kernel (a /sys/module entry without initstate)
  if [[ $kb_loaded == *" $kb_m "* ]] || { [ -d "/sys/module/$kb_m" ] && [ ! -e "/sys/module/$kb_m/initstate" ]; }; then
    echo "loaded=$kb_m"
  else
    echo "missing=$kb_m"
  fi
done
)
## apply
kb_write /etc/modules-load.d/k8s.conf 644 root:root <<'KBOOTSTRAP_EOF'
# kbootstrap: kernel modules Kubernetes needs, loaded at boot
overlay
br_netfilter
KBOOTSTRAP_EOF
(
for kb_m in overlay br_netfilter; do
  modprobe "$kb_m"
done
)

### sysctl: Enable bridged traffic filtering and IP forwarding
## check (read-only)
(
kb_file_state /etc/sysctl.d/99-kubernetes.conf
# one sysctl call; a key the kernel does not have prints nothing here. Its "KEY = VALUE" lines are read
# by the shell (as sed -n 's/^\([^ ]*\) = \(.*\)$/live=\1=\2/p' did): no pipeline
kb_live=$(exec sysctl net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables net.ipv4.ip_forward 2>/dev/null) || true
kb_re='^([^ ]*) = (.*)$'
while IFS= read -r kb_l; do
  if [[ $kb_l =~ $kb_re ]]; then printf 'live=%s=%s\n' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"; fi
done <<<"$kb_live"
# every file sysctl --system reads that sets one of these keys, to find what overrides the drop-in (one awk for all)
shopt -s nullglob
kb_files=(/etc/sysctl.d/*.conf /run/sysctl.d/*.conf /usr/local/lib/sysctl.d/*.conf /usr/lib/sysctl.d/*.conf /lib/sysctl.d/*.conf)
if [ -f /etc/sysctl.conf ]; then kb_files+=(/etc/sysctl.conf); fi
if [ "${#kb_files[@]}" -gt 0 ]; then
  awk -F= '
    /^[[:space:]]*[#;]/ { next }
    NF >= 2 { k = $1; v = $2; gsub(/[[:space:]]/, "", k); gsub(/^[[:space:]]+|[[:space:]]+$/, "", v); print "set=" FILENAME "=" k "=" v }
  ' "${kb_files[@]}"
fi
)
## apply
kb_write /etc/sysctl.d/99-kubernetes.conf 644 root:root <<'KBOOTSTRAP_EOF'
# kbootstrap: bridged traffic through iptables and IP forwarding, for kube-proxy and the CNI
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
net.ipv4.ip_forward = 1
KBOOTSTRAP_EOF
(
# apply every sysctl file, as at boot, so an override shows up now rather than after a reboot
sysctl --system >/dev/null
)

### base-repositories: Point the OS's own repositories at a mirror that still serves them
# skipped: Ubuntu 22.04.4 LTS's own repositories are left as they are

### container-runtime: Install and configure the container runtime
## check (read-only)
(
kb_file_state /etc/apt/sources.list.d/docker.list /etc/docker/daemon.json /etc/systemd/system/cri-docker.service.d/10-kbootstrap.conf
# one dpkg-query call for every package; only installed ones count: status (2nd letter) i, no error flag.
# The 1st letter is the selection: i, or h once apt-mark hold ran ("Desired=Unknown/Install/Remove/Purge/Hold", dpkg -l; dpkg-query(1) db:Status-Abbrev)
# The lines are filtered by the shell (as sed -n 's/^pkg=\([^=]*\)=[uihrp]i *=/pkg=\1=/p' did): no pipeline.
kb_pkgs=$(exec dpkg-query -W -f='pkg=${Package}=${db:Status-Abbrev}=${Version}\n' containerd.io docker-ce docker-ce-cli cri-dockerd 2>/dev/null) || true
kb_re='^pkg=([^=]*)=[uihrp]i *=(.*)$'
while IFS= read -r kb_l; do
  if [[ $kb_l =~ $kb_re ]]; then printf 'pkg=%s=%s\n' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"; fi
done <<<"$kb_pkgs"
if kb_key_trusted /etc/apt/keyrings/docker.asc 9DC858229FC7DD38854AE2D88D81803C0EBFCD88; then echo key=/etc/apt/keyrings/docker.asc=present; elif [ -e /etc/apt/keyrings/docker.asc ]; then echo key=/etc/apt/keyrings/docker.asc=untrusted; else echo key=/etc/apt/keyrings/docker.asc=missing; fi
# shellcheck disable=SC2043 # one service is a list too
for kb_s in docker cri-docker.service; do
  # `|| true` outside the command substitution: systemctl is its only command (no shell in between)
  kb_en=$(exec systemctl is-enabled "$kb_s" 2>/dev/null) || true
  printf 'enabled=%s=%s\n' "$kb_s" "$kb_en"
  if systemctl is-active --quiet "$kb_s"; then printf 'active=%s=yes\n' "$kb_s"; else printf 'active=%s=no\n' "$kb_s"; fi
done
)
## apply
(
# curl fetches the key and gpg reads its fingerprint; a minimal Debian has neither
if ! command -v curl >/dev/null 2>&1 || ! command -v gpg >/dev/null 2>&1; then
  kb_retry 3 5 env DEBIAN_FRONTEND=noninteractive apt-get update -q
  kb_retry 3 5 env DEBIAN_FRONTEND=noninteractive apt-get install -y -q curl ca-certificates gpg
fi
install -d -m 0755 /etc/apt/keyrings
kb_key_tmp=$(mktemp /etc/apt/keyrings/.kbootstrap-key.XXXXXX)
kb_retry 3 5 curl -fsSL https://download.docker.com/linux/ubuntu/gpg -o "$kb_key_tmp"
# whoever served it (upstream or a mirror): only a key with a trusted fingerprint is installed
if ! command -v gpg >/dev/null 2>&1; then
  rm -f "$kb_key_tmp"
  printf 'gpg is not installed: it reads the fingerprint of the signing key from %s before the key is trusted (install gnupg, then run again)\n' https://download.docker.com/linux/ubuntu/gpg >&2
  exit 1
fi
if ! kb_key_trusted "$kb_key_tmp" 9DC858229FC7DD38854AE2D88D81803C0EBFCD88; then
  kb_key_got=$(kb_key_fprs "$kb_key_tmp" | tr '\n' ' ')
  rm -f "$kb_key_tmp"
  printf 'the signing key from %s is not trusted: its fingerprints are [%s], the trusted ones %s (a mirror that signs with its own key: cluster.repositoryKeyFingerprints)\n' https://download.docker.com/linux/ubuntu/gpg "${kb_key_got% }" 9DC858229FC7DD38854AE2D88D81803C0EBFCD88 >&2
  exit 1
fi
chmod 0644 "$kb_key_tmp"
mv -f "$kb_key_tmp" /etc/apt/keyrings/docker.asc
)
kb_write /etc/apt/sources.list.d/docker.list 644 root:root <<'KBOOTSTRAP_EOF'
# kbootstrap: Docker CE repository (containerd.io, docker-ce)
deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/ubuntu jammy stable
KBOOTSTRAP_EOF
(
kb_retry 3 5 env DEBIAN_FRONTEND=noninteractive apt-get update -q
kb_retry 3 5 env DEBIAN_FRONTEND=noninteractive apt-get install -y -q containerd.io docker-ce docker-ce-cli
)
(
kb_deb=$(mktemp --suffix=.deb)
kb_retry 3 5 curl -fsSL https://github.com/Mirantis/cri-dockerd/releases/download/v0.4.10/cri-dockerd_0.4.10.3-0.ubuntu-jammy_amd64.deb -o "$kb_deb"
# cri-dockerd publishes no signatures: installed only with the sha256 of cluster.criDockerd.sha256
kb_deb_sum=$(sha256sum "$kb_deb" | cut -d' ' -f1)
if [ "$kb_deb_sum" != 0000000000000000000000000000000000000000000000000000000000000000 ]; then
  rm -f "$kb_deb"
  printf '%s has sha256 %s, not sha256 %s (cluster.criDockerd.sha256): not installed\n' https://github.com/Mirantis/cri-dockerd/releases/download/v0.4.10/cri-dockerd_0.4.10.3-0.ubuntu-jammy_amd64.deb "$kb_deb_sum" 0000000000000000000000000000000000000000000000000000000000000000 >&2
  exit 1
fi
chmod 0644 "$kb_deb"
kb_retry 3 5 env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$kb_deb"
rm -f "$kb_deb"
)
kb_write /etc/docker/daemon.json 644 root:root <<'KBOOTSTRAP_EOF'
{
  "exec-opts": [
    "native.cgroupdriver=systemd"
  ],
  "log-driver": "json-file",
  "log-opts": {
    "max-size": "100m"
  },
  "storage-driver": "overlay2",
  "insecure-registries": [
    "10.0.0.66:5000"
  ]
}
KBOOTSTRAP_EOF
kb_write /etc/systemd/system/cri-docker.service.d/10-kbootstrap.conf 644 root:root <<'KBOOTSTRAP_EOF'
# kbootstrap: cri-dockerd with the pause image from imageRepository
[Service]
ExecStart=
ExecStart=/usr/bin/cri-dockerd --container-runtime-endpoint fd:// --pod-infra-container-image=registry.k8s.io/pause:3.10.2
KBOOTSTRAP_EOF
(
systemctl daemon-reload
systemctl enable docker cri-docker.socket cri-docker.service
# restart only what changed (or is not running)
systemctl restart docker
systemctl restart cri-docker.socket cri-docker.service
)

### crictl: Point crictl at the container runtime
## check (read-only)
(
kb_file_state /etc/crictl.yaml
)
## apply
kb_write /etc/crictl.yaml 644 root:root <<'KBOOTSTRAP_EOF'
# kbootstrap: crictl talks to cri-dockerd
runtime-endpoint: unix:///run/cri-dockerd.sock
image-endpoint: unix:///run/cri-dockerd.sock
timeout: 10
debug: false
KBOOTSTRAP_EOF

### kube-packages: Install kubelet, kubeadm and kubectl at the pinned version
## check (read-only)
(
kb_file_state /etc/apt/sources.list.d/kubernetes.list
# one dpkg-query call for every package; only installed ones count: status (2nd letter) i, no error flag.
# The 1st letter is the selection: i, or h once apt-mark hold ran ("Desired=Unknown/Install/Remove/Purge/Hold", dpkg -l; dpkg-query(1) db:Status-Abbrev)
# The lines are filtered by the shell (as sed -n 's/^pkg=\([^=]*\)=[uihrp]i *=/pkg=\1=/p' did): no pipeline.
kb_pkgs=$(exec dpkg-query -W -f='pkg=${Package}=${db:Status-Abbrev}=${Version}\n' kubelet kubeadm kubectl 2>/dev/null) || true
kb_re='^pkg=([^=]*)=[uihrp]i *=(.*)$'
while IFS= read -r kb_l; do
  if [[ $kb_l =~ $kb_re ]]; then printf 'pkg=%s=%s\n' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"; fi
done <<<"$kb_pkgs"
# read-only: a systemd unit, enabled? active? (`|| true` outside the command substitution: systemctl
# is then its only command, run without a shell of its own in between)
kb_e=$(exec systemctl is-enabled kubelet 2>/dev/null) || true
kb_a=$(exec systemctl is-active kubelet 2>/dev/null) || true
printf 'unit=%s %s %s\n' kubelet "${kb_e:-unknown}" "${kb_a:-unknown}"
# each held package, as held=NAME (the shell prefixes apt-mark's lines, as sed 's/^/held=/' did)
kb_holds=$(exec apt-mark showhold 2>/dev/null) || true
if [ -n "$kb_holds" ]; then
  while IFS= read -r kb_l; do printf 'held=%s\n' "$kb_l"; done <<<"$kb_holds"
fi
if kb_key_trusted /etc/apt/keyrings/kubernetes-apt-keyring.asc DE15B14486CD377B9E876E1A234654DA9A296436; then echo key=/etc/apt/keyrings/kubernetes-apt-keyring.asc=present; elif [ -e /etc/apt/keyrings/kubernetes-apt-keyring.asc ]; then echo key=/etc/apt/keyrings/kubernetes-apt-keyring.asc=untrusted; else echo key=/etc/apt/keyrings/kubernetes-apt-keyring.asc=missing; fi
)
## apply
(
# curl fetches the key and gpg reads its fingerprint; a minimal Debian has neither
if ! command -v curl >/dev/null 2>&1 || ! command -v gpg >/dev/null 2>&1; then
  kb_retry 3 5 env DEBIAN_FRONTEND=noninteractive apt-get update -q
  kb_retry 3 5 env DEBIAN_FRONTEND=noninteractive apt-get install -y -q curl ca-certificates gpg
fi
install -d -m 0755 /etc/apt/keyrings
kb_key_tmp=$(mktemp /etc/apt/keyrings/.kbootstrap-key.XXXXXX)
kb_retry 3 5 curl -fsSL https://pkgs.k8s.io/core:/stable:/v1.36/deb/Release.key -o "$kb_key_tmp"
# whoever served it (upstream or a mirror): only a key with a trusted fingerprint is installed
if ! command -v gpg >/dev/null 2>&1; then
  rm -f "$kb_key_tmp"
  printf 'gpg is not installed: it reads the fingerprint of the signing key from %s before the key is trusted (install gnupg, then run again)\n' https://pkgs.k8s.io/core:/stable:/v1.36/deb/Release.key >&2
  exit 1
fi
if ! kb_key_trusted "$kb_key_tmp" DE15B14486CD377B9E876E1A234654DA9A296436; then
  kb_key_got=$(kb_key_fprs "$kb_key_tmp" | tr '\n' ' ')
  rm -f "$kb_key_tmp"
  printf 'the signing key from %s is not trusted: its fingerprints are [%s], the trusted ones %s (a mirror that signs with its own key: cluster.repositoryKeyFingerprints)\n' https://pkgs.k8s.io/core:/stable:/v1.36/deb/Release.key "${kb_key_got% }" DE15B14486CD377B9E876E1A234654DA9A296436 >&2
  exit 1
fi
chmod 0644 "$kb_key_tmp"
mv -f "$kb_key_tmp" /etc/apt/keyrings/kubernetes-apt-keyring.asc
)
kb_write /etc/apt/sources.list.d/kubernetes.list 644 root:root <<'KBOOTSTRAP_EOF'
# kbootstrap: Kubernetes v1.36 packages
deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.asc] https://pkgs.k8s.io/core:/stable:/v1.36/deb/ /
KBOOTSTRAP_EOF
(
kb_retry 3 5 env DEBIAN_FRONTEND=noninteractive apt-get update -q
kb_retry 3 5 env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-downgrades --allow-change-held-packages kubelet=1.36.4-1.1 kubeadm=1.36.4-1.1 kubectl=1.36.4-1.1
apt-mark hold kubelet kubeadm kubectl
)
(
# enabled, not started: kubeadm init/join starts the kubelet with its configuration
systemctl enable kubelet
)

### images: Pull the images the host's role runs
## check (read-only)
(
# kubeadm's own image list for the version (what kubeadm init pulls), where kubeadm is installed:
# one kubeadm-image= line each; else why not (kbootstrap then uses its versions table)
if ! command -v kubeadm >/dev/null 2>&1; then
  echo 'kubeadm=absent'
elif kb_list=$(exec kubeadm config images list --kubernetes-version v1.36.4 --image-repository registry.k8s.io 2>&1); then
  echo 'kubeadm=ok'
  # image references only: a warning kubeadm logs (klog, with spaces) is no image
  awk 'NF == 1 && /^[^[:space:]]+\/[^[:space:]]+:[^[:space:]]+$/ { print "kubeadm-image=" $1 }' <<<"$kb_list"
else
  echo 'kubeadm=failed'
  printf '%s\n' "$kb_list" | grep -v '^To see the stack trace' | head -n 3 | sed 's/^/kubeadm-error=/'
fi
# the images docker holds, one reference a line (docker's own short names for Docker Hub's)
if command -v docker >/dev/null 2>&1 && kb_refs=$(exec docker image ls 2>/dev/null); then
  echo 'runtime=ok'
  awk 'NR > 1 && $1 != "<none>" && $2 != "<none>" { print "image=" $1 ":" $2 }' <<<"$kb_refs"
else
  echo 'runtime=unavailable'
fi
)
## apply
# pull 9 images side by side with docker pull (kubeadm's images from kbootstrap's versions table, kubeadm not asked: no check output): registry.k8s.io/kube-apiserver:v1.36.4, registry.k8s.io/kube-controller-manager:v1.36.4, registry.k8s.io/kube-scheduler:v1.36.4, registry.k8s.io/kube-proxy:v1.36.4, registry.k8s.io/coredns/coredns:v1.14.2, registry.k8s.io/pause:3.10.2, registry.k8s.io/etcd:3.6.8-0, ghcr.io/flannel-io/flannel:v0.28.9, ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3
(
set -u
# every image at once, each into its own files; then each failure with the image and the runtime's own words
kb_tmp=$(mktemp -d)
trap 'rm -rf "$kb_tmp"' EXIT
kb_pull() {
  if ! docker pull "$2" >"$kb_tmp/$1.out" 2>"$kb_tmp/$1.err"; then
    printf '%s\n' "$2" >"$kb_tmp/$1.failed"
  fi
}
kb_pull 0 registry.k8s.io/kube-apiserver:v1.36.4 &
kb_pull 1 registry.k8s.io/kube-controller-manager:v1.36.4 &
kb_pull 2 registry.k8s.io/kube-scheduler:v1.36.4 &
kb_pull 3 registry.k8s.io/kube-proxy:v1.36.4 &
kb_pull 4 registry.k8s.io/coredns/coredns:v1.14.2 &
kb_pull 5 registry.k8s.io/pause:3.10.2 &
kb_pull 6 registry.k8s.io/etcd:3.6.8-0 &
kb_pull 7 ghcr.io/flannel-io/flannel:v0.28.9 &
kb_pull 8 ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3 &
wait
kb_failed=0
for kb_f in "$kb_tmp"/*.failed; do
  [ -e "$kb_f" ] || continue
  kb_n=${kb_f%.failed}
  printf 'pulling %s failed: %s\n' "$(cat "$kb_f")" "$(cat "$kb_n.err" "$kb_n.out" 2>/dev/null)" >&2
  kb_failed=1
done
exit "$kb_failed"
)

### kubeadm-init: Initialise the first control plane with kubeadm
## check (read-only)
(
# the user's home: the 6th field of its passwd entry, split by the shell (no cut)
kb_home=
kb_pw=$(getent passwd ubuntu) || true
IFS=: read -r _ _ _ _ _ kb_home _ <<<"$kb_pw"
if [ -f /etc/kubernetes/admin.conf ] && [ -n "$kb_home" ] && cmp -s /etc/kubernetes/admin.conf "$kb_home/.kube/config"; then echo kubeconfig=same; else echo kubeconfig=differs; fi
# kube-vip's manifest goes there before init and joins (the load-balancer step): it is no leftover
# (any entry, dot files too, found by the shell's globs rather than find: a pattern that matches
# nothing stays as it is and names no entry, unless an entry has that very name)
if [ -d /etc/kubernetes/manifests ]; then
  for kb_e in /etc/kubernetes/manifests/* /etc/kubernetes/manifests/.[!.]* /etc/kubernetes/manifests/..?*; do
    if { [ -e "$kb_e" ] || [ -L "$kb_e" ]; } && [ "$kb_e" != /etc/kubernetes/manifests/kube-vip.yaml ]; then
      echo leftovers=manifests
      break
    fi
  done
fi
)
(
# One read of everything the cluster-wide steps look at (nodes, the
# kube-proxy and CNI objects, pods), shared by all of them and parsed once.
if [ ! -f /etc/kubernetes/admin.conf ]; then
  echo cluster=absent
elif kb_state=$(kb_kubectl get nodes,configmaps,daemonsets,pods --all-namespaces -o json --request-timeout=10s 2>&1); then
  echo cluster=present
  # JSON strings never hold a raw newline, so the document fits on one line
  printf 'state=%s\n' "$(exec tr -d '\n' <<<"$kb_state")"
else
  echo cluster=down
  printf '%s\n' "$kb_state" | tail -n 2 | sed 's/^/error=/'
fi
)
## apply
kb_write /etc/kbootstrap/kubeadm-init.yaml 600 root:root <<'KBOOTSTRAP_EOF'
# kbootstrap: kubeadm init configuration
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
  - description: made by kubeadm init, deleted by kbootstrap once init is done
    ttl: 15m
localAPIEndpoint:
  advertiseAddress: 192.168.56.10
  bindPort: 6443
nodeRegistration:
  name: ctl
  criSocket: unix:///run/cri-dockerd.sock
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: jammy
kubernetesVersion: v1.36.4
controlPlaneEndpoint: 192.168.56.10:6443
imageRepository: registry.k8s.io
networking:
  podSubnet: 10.244.0.0/16
  serviceSubnet: 10.96.0.0/12
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
KBOOTSTRAP_EOF
(
if [ ! -f /etc/kubernetes/admin.conf ]; then
  # preflight checks stay on; tokens and the certificate key are not printed. After kbootstrap restore,
  # /var/lib/etcd holds the restored data on purpose: that one check is waived, as etcd's restore procedure
  # for kubeadm does (https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/, read 2026-12-07)
  if [ -f /var/lib/kbootstrap/etcd-restored ]; then
    kubeadm init --config /etc/kbootstrap/kubeadm-init.yaml --upload-certs --skip-token-print --skip-certificate-key-print --ignore-preflight-errors=DirAvailable--var-lib-etcd
    rm -f /var/lib/kbootstrap/etcd-restored
  else
    kubeadm init --config /etc/kbootstrap/kubeadm-init.yaml --upload-certs --skip-token-print --skip-certificate-key-print
  fi
  # init made a bootstrap token of its own (the configuration's bootstrapTokens: described, 15 minutes);
  # joins use tokens kbootstrap creates when it needs them, so it goes now. Only its public id is printed
  kubeadm token list -o json \
    | awk -v want='made by kubeadm init, deleted by kbootstrap once init is done' '
        /^ *"token": "/ { id = $0; sub(/^ *"token": "/, "", id); id = substr(id, 1, 6) }
        /^ *"description": "/ { d = $0; sub(/^ *"description": "/, "", d); sub(/",?$/, "", d); if (d == want) print id }' \
    | xargs -r kubeadm token delete
elif ! kb_kubectl get --raw=/readyz --request-timeout=5s >/dev/null 2>&1; then
  # initialised earlier but the API server does not answer: the kubelet runs the static pods
  systemctl restart kubelet
fi
kb_i=0
until kb_kubectl get --raw=/readyz --request-timeout=5s >/dev/null 2>&1; do
  kb_i=$((kb_i + 1))
  if [ "$kb_i" -ge 60 ]; then
    echo "the API server did not become ready within 120s; see: journalctl -u kubelet" >&2
    exit 1
  fi
  sleep 2
done
)
(
# admin kubeconfig for the SSH user, so kubectl works after login
kb_home=$(getent passwd ubuntu | cut -d: -f6)
kb_group=$(id -gn ubuntu)
install -d -m 0700 -o ubuntu -g "$kb_group" "$kb_home/.kube"
install -m 0600 -o ubuntu -g "$kb_group" /etc/kubernetes/admin.conf "$kb_home/.kube/config"
)

### cert-renewal-timer: A systemd timer renews the certificates (cluster.certRenewal: timer)
# skipped: cluster.certRenewal is not timer: kbootstrap certs renew renews on demand

### join: Join the cluster with kubeadm (on behalf of the hosts that join)
## apply
# create a 30-minute join token for the workers (secret, kept in memory, deleted after the joins)
(
kubeadm token create --print-join-command --ttl 30m --description 'kbootstrap: join during up'
)
# delete the join tokens this run created
(
kubeadm token delete '<JOIN_TOKEN_ID>'
)

### cni: Install the CNI plugin with the pod CIDR set to podSubnet
## check (read-only)
(
# One read of everything the cluster-wide steps look at (nodes, the
# kube-proxy and CNI objects, pods), shared by all of them and parsed once.
if [ ! -f /etc/kubernetes/admin.conf ]; then
  echo cluster=absent
elif kb_state=$(kb_kubectl get nodes,configmaps,daemonsets,pods --all-namespaces -o json --request-timeout=10s 2>&1); then
  echo cluster=present
  # JSON strings never hold a raw newline, so the document fits on one line
  printf 'state=%s\n' "$(exec tr -d '\n' <<<"$kb_state")"
else
  echo cluster=down
  printf '%s\n' "$kb_state" | tail -n 2 | sed 's/^/error=/'
fi
)
## apply
(
install -d -m 0700 /etc/kbootstrap
kb_cni_tmp=$(mktemp /etc/kbootstrap/.kbootstrap-cni.XXXXXX)
kb_retry 3 5 curl -fsSL https://github.com/flannel-io/flannel/releases/download/v0.28.9/kube-flannel.yml -o "$kb_cni_tmp"
# applied with cluster-admin rights: only the manifest whose sha256 the inventory or kbootstrap pins
kb_cni_sum=$(sha256sum "$kb_cni_tmp" | cut -d' ' -f1)
if [ "$kb_cni_sum" != 0000000000000000000000000000000000000000000000000000000000000000 ]; then
  rm -f "$kb_cni_tmp"
  printf 'the CNI manifest from %s has sha256 %s, not sha256 %s (cluster.cni.sha256): not applied\n' https://github.com/flannel-io/flannel/releases/download/v0.28.9/kube-flannel.yml "$kb_cni_sum" 0000000000000000000000000000000000000000000000000000000000000000 >&2
  exit 1
fi
mv -f "$kb_cni_tmp" /etc/kbootstrap/cni.yaml
)
(
# set the manifest's pod CIDR to podSubnet (a mismatch is a classic broken-network cause), and its
# nftables setting to kube-proxy's mode; each edit is proven by a string it must leave behind
kb_edit /etc/kbootstrap/cni.yaml sed -e 's#"Network": *"[^"]*"#"Network": "10.244.0.0/16"#'
if ! grep -qF -- '"Network": "10.244.0.0/16"' /etc/kbootstrap/cni.yaml; then
  echo 'the CNI manifest has no pod CIDR setting ("Network" in net-conf.json) kbootstrap can set' >&2
  exit 1
fi
kb_kubectl apply -f /etc/kbootstrap/cni.yaml
)

### kube-proxy-mode: Set the kube-proxy mode of the running cluster, and the CNI plugin's nftables setting with it
## check (read-only)
(
# One read of everything the cluster-wide steps look at (nodes, the
# kube-proxy and CNI objects, pods), shared by all of them and parsed once.
if [ ! -f /etc/kubernetes/admin.conf ]; then
  echo cluster=absent
elif kb_state=$(kb_kubectl get nodes,configmaps,daemonsets,pods --all-namespaces -o json --request-timeout=10s 2>&1); then
  echo cluster=present
  # JSON strings never hold a raw newline, so the document fits on one line
  printf 'state=%s\n' "$(exec tr -d '\n' <<<"$kb_state")"
else
  echo cluster=down
  printf '%s\n' "$kb_state" | tail -n 2 | sed 's/^/error=/'
fi
)
## apply
(
kb_kubectl -n kube-system get configmap kube-proxy -o yaml \
  | sed 's/^\([[:space:]]*mode:\).*/\1 "iptables"/' \
  | kb_kubectl replace -f -
# kube-proxy reads its mode only at start
kb_kubectl -n kube-system rollout restart daemonset kube-proxy
)

### node-labels: Label the nodes (worker role and inventory labels)
## check (read-only)
(
# One read of everything the cluster-wide steps look at (nodes, the
# kube-proxy and CNI objects, pods), shared by all of them and parsed once.
if [ ! -f /etc/kubernetes/admin.conf ]; then
  echo cluster=absent
elif kb_state=$(kb_kubectl get nodes,configmaps,daemonsets,pods --all-namespaces -o json --request-timeout=10s 2>&1); then
  echo cluster=present
  # JSON strings never hold a raw newline, so the document fits on one line
  printf 'state=%s\n' "$(exec tr -d '\n' <<<"$kb_state")"
else
  echo cluster=down
  printf '%s\n' "$kb_state" | tail -n 2 | sed 's/^/error=/'
fi
)
## apply
(
kb_kubectl label node work-1 --overwrite node-role.kubernetes.io/worker=
kb_kubectl label node work-2 --overwrite node-role.kubernetes.io/worker=
)

### verify: Wait until every node is Ready and kube-system pods run
## check (read-only)
(
# One read of everything the cluster-wide steps look at (nodes, the
# kube-proxy and CNI objects, pods), shared by all of them and parsed once.
if [ ! -f /etc/kubernetes/admin.conf ]; then
  echo cluster=absent
elif kb_state=$(kb_kubectl get nodes,configmaps,daemonsets,pods --all-namespaces -o json --request-timeout=10s 2>&1); then
  echo cluster=present
  # JSON strings never hold a raw newline, so the document fits on one line
  printf 'state=%s\n' "$(exec tr -d '\n' <<<"$kb_state")"
else
  echo cluster=down
  printf '%s\n' "$kb_state" | tail -n 2 | sed 's/^/error=/'
fi
)
## apply
# (read-only)
(
kb_kubectl wait --for=condition=Ready --timeout=300s node/ctl node/work-1 node/work-2
kb_kubectl -n kube-system wait --for=condition=Ready --timeout=300s pod --all --field-selector=status.phase!=Succeeded
)
