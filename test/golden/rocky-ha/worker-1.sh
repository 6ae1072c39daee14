#!/usr/bin/env bash
# kbootstrap dry run for worker-1 (192.168.60.21), role worker
# OS assumed: Rocky Linux 9.4 (Blue Onyx) (from the inventory; a real run reads /etc/os-release)
# Cluster rocky-ha: Kubernetes 1.36.4, containerd, CNI calico, kube-proxy ipvs
# SSH: root@192.168.60.21:22
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
if command -v hostnamectl >/dev/null 2>&1 && hostnamectl set-hostname worker-1; then
  :
else
  # no systemd-hostnamed: write the static name and set the running one
  printf '%s\n' worker-1 | kb_write /etc/hostname 0644
  hostname worker-1
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
# cluster rocky-ha: kbootstrap rewrites the lines between these markers
192.168.60.11 cp-1
192.168.60.12 cp-2
192.168.60.13 cp-3
192.168.60.21 worker-1
192.168.60.22 worker-2
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
## check (read-only)
(
if command -v getenforce >/dev/null 2>&1; then
  printf 'runtime=%s\n' "$(getenforce)"
else
  echo runtime=absent
fi
if [ -f /etc/selinux/config ]; then
  # each SELINUX= line's value (sed -n 's/^SELINUX=\([a-z]*\).*/config=\1/p'), read by the shell
  kb_re='^SELINUX=([a-z]*)'
  while IFS= read -r kb_l || [ -n "$kb_l" ]; do
    if [[ $kb_l =~ $kb_re ]]; then printf 'config=%s\n' "${BASH_REMATCH[1]}"; fi
  done </etc/selinux/config
else
  echo config=absent
fi
)
## apply
(
if command -v getenforce >/dev/null 2>&1 && [ "$(getenforce)" = Enforcing ]; then
  setenforce 0
fi
if [ -f /etc/selinux/config ] && grep -q '^SELINUX=enforcing' /etc/selinux/config; then
  # permissive, not disabled: kubeadm's advice, and it can be turned back on without relabelling
  kb_edit /etc/selinux/config sed 's/^SELINUX=enforcing.*/SELINUX=permissive/'
fi
)

### firewall: Open the Kubernetes ports in firewalld
## check (read-only)
(
# firewalld's state: one systemctl call for active (what the lists below need too), one for enabled
if systemctl is-active --quiet firewalld 2>/dev/null; then kb_fw_active=yes; else kb_fw_active=no; fi
echo "active=$kb_fw_active"
if systemctl is-enabled --quiet firewalld 2>/dev/null; then echo enabled=yes; else echo enabled=no; fi
# kb_fw_words NAME ARG...: each word `firewall-cmd ARG...` prints (firewalld separates them with spaces),
# one NAME=WORD line each; the shell splits them (IFS of space and newline, no globbing), not tr and sed
kb_fw_words() {
  local kb_out kb_w IFS=$' \n'
  kb_out=$(firewall-cmd "${@:2}") || true
  set -f
  for kb_w in $kb_out; do printf '%s=%s\n' "$1" "$kb_w"; done
  set +f
}
if [ "$kb_fw_active" = yes ]; then
  kb_fw_words permanent --permanent --list-ports
  kb_fw_words runtime --list-ports
  # IP protocols (calico's IP-in-IP is protocol 4), as firewalld lists what --add-protocol added
  kb_fw_words permanent-protocol --permanent --list-protocols
  kb_fw_words runtime-protocol --list-protocols
fi
)
## apply
(
if systemctl is-active --quiet firewalld; then
  firewall-cmd --permanent --add-port=10250/tcp --add-port=10256/tcp --add-port=30000-32767/tcp --add-port=30000-32767/udp --add-port=179/tcp --add-port=4789/udp --add-port=5473/tcp --add-protocol=4
  firewall-cmd --reload
fi
)

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
for kb_m in overlay br_netfilter ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack; do
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
ip_vs
ip_vs_rr
ip_vs_wrr
ip_vs_sh
nf_conntrack
KBOOTSTRAP_EOF
(
for kb_m in overlay br_netfilter ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack; do
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
# skipped: Rocky Linux 9.4 (Blue Onyx)'s own repositories are left as they are

### container-runtime: Install and configure the container runtime
## check (read-only)
(
kb_file_state /etc/yum.repos.d/docker-ce.repo
# one rpm call for every package; absent ones print nothing here (their "is not installed" line is no
# pkg= line: the shell keeps only those, as grep '^pkg=' did)
kb_pkgs=$(exec rpm -q --qf 'pkg=%{NAME}=%{VERSION}\n' containerd.io 2>/dev/null) || true
while IFS= read -r kb_l; do
  case $kb_l in pkg=*) printf '%s\n' "$kb_l" ;; esac
done <<<"$kb_pkgs"
if kb_key_trusted /etc/pki/rpm-gpg/kbootstrap-docker.asc 060A61C51B558A7F742B77AAC52FEB6B621E9F35; then echo key=/etc/pki/rpm-gpg/kbootstrap-docker.asc=present; elif [ -e /etc/pki/rpm-gpg/kbootstrap-docker.asc ]; then echo key=/etc/pki/rpm-gpg/kbootstrap-docker.asc=untrusted; else echo key=/etc/pki/rpm-gpg/kbootstrap-docker.asc=missing; fi
# The desired config.toml: containerd's own defaults with the systemd cgroup
# driver, the pause image from imageRepository and registry hosts in certs.d.
# containerd 1.6/1.7 print config version 2: sandbox_image under
# [plugins."io.containerd.grpc.v1.cri"], registry config_path = "" and
# `SystemdCgroup = false` under ...containerd.runtimes.runc.options.
# containerd 2.x print version 3: `sandbox` under
# [plugins.'io.containerd.cri.v1.images'.pinned_images], config_path under
# [plugins.'io.containerd.cri.v1.images'.registry] and the runc options under
# [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
# (https://github.com/containerd/containerd/blob/main/docs/cri/config.md).
# 2.0/2.1 before containerd/containerd#12244 print no SystemdCgroup line at all
# (containerd/containerd#12101), so a sed on "SystemdCgroup = false" changes
# nothing there: the awk writes `SystemdCgroup = true` right under the runc
# options header, whichever version, and drops any other SystemdCgroup line of
# that table. [ \t], not [[:space:]]: mawk 1.3.3 has no character classes.
kb_containerd_config() {
  containerd config default | sed \
    -e 's#^\([[:space:]]*sandbox_image = \).*#\1"registry.k8s.io/pause:3.10.2"#' \
    -e 's#^\([[:space:]]*sandbox = \).*#\1'\''registry.k8s.io/pause:3.10.2'\''#' \
    -e 's#^\([[:space:]]*config_path = \).*#\1"/etc/containerd/certs.d"#' | awk '
    /^[ \t]*\[/ { in_runc = 0 }
    in_runc && /^[ \t]*SystemdCgroup[ \t]*=/ { next }
    { print }
    /^[ \t]*\[plugins\..*\.containerd\.runtimes\.runc\.options\][ \t]*$/ {
      in_runc = 1
      match($0, /^[ \t]*/)
      printf "%s  SystemdCgroup = true\n", substr($0, 1, RLENGTH)
    }'
}
if command -v containerd >/dev/null 2>&1 && [ -f /etc/containerd/config.toml ]; then
  if kb_containerd_config | cmp -s - /etc/containerd/config.toml; then echo config=same; else echo config=differs; fi
else
  echo config=missing
fi
# shellcheck disable=SC2043 # one service is a list too
for kb_s in containerd; do
  # `|| true` outside the command substitution: systemctl is its only command (no shell in between)
  kb_en=$(exec systemctl is-enabled "$kb_s" 2>/dev/null) || true
  printf 'enabled=%s=%s\n' "$kb_s" "$kb_en"
  if systemctl is-active --quiet "$kb_s"; then printf 'active=%s=yes\n' "$kb_s"; else printf 'active=%s=no\n' "$kb_s"; fi
done
)
## apply
(
install -d -m 0755 /etc/pki/rpm-gpg
kb_key_tmp=$(mktemp /etc/pki/rpm-gpg/.kbootstrap-key.XXXXXX)
kb_retry 3 5 curl -fsSL https://download.docker.com/linux/centos/gpg -o "$kb_key_tmp"
# whoever served it (upstream or a mirror): only a key with a trusted fingerprint is installed
if ! command -v gpg >/dev/null 2>&1; then
  rm -f "$kb_key_tmp"
  printf 'gpg is not installed: it reads the fingerprint of the signing key from %s before the key is trusted (install gnupg, then run again)\n' https://download.docker.com/linux/centos/gpg >&2
  exit 1
fi
if ! kb_key_trusted "$kb_key_tmp" 060A61C51B558A7F742B77AAC52FEB6B621E9F35; then
  kb_key_got=$(kb_key_fprs "$kb_key_tmp" | tr '\n' ' ')
  rm -f "$kb_key_tmp"
  printf 'the signing key from %s is not trusted: its fingerprints are [%s], the trusted ones %s (a mirror that signs with its own key: cluster.repositoryKeyFingerprints)\n' https://download.docker.com/linux/centos/gpg "${kb_key_got% }" 060A61C51B558A7F742B77AAC52FEB6B621E9F35 >&2
  exit 1
fi
chmod 0644 "$kb_key_tmp"
mv -f "$kb_key_tmp" /etc/pki/rpm-gpg/kbootstrap-docker.asc
)
kb_write /etc/yum.repos.d/docker-ce.repo 644 root:root <<'KBOOTSTRAP_EOF'
# kbootstrap: Docker CE repository (containerd.io, docker-ce)
[docker-ce-stable]
name=Docker CE Stable - $basearch
baseurl=https://download.docker.com/linux/centos/$releasever/$basearch/stable
enabled=1
gpgcheck=1
gpgkey=file:///etc/pki/rpm-gpg/kbootstrap-docker.asc
KBOOTSTRAP_EOF
(
kb_retry 3 5 yum install -y containerd.io
)
(
# The desired config.toml: containerd's own defaults with the systemd cgroup
# driver, the pause image from imageRepository and registry hosts in certs.d.
# containerd 1.6/1.7 print config version 2: sandbox_image under
# [plugins."io.containerd.grpc.v1.cri"], registry config_path = "" and
# `SystemdCgroup = false` under ...containerd.runtimes.runc.options.
# containerd 2.x print version 3: `sandbox` under
# [plugins.'io.containerd.cri.v1.images'.pinned_images], config_path under
# [plugins.'io.containerd.cri.v1.images'.registry] and the runc options under
# [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
# (https://github.com/containerd/containerd/blob/main/docs/cri/config.md).
# 2.0/2.1 before containerd/containerd#12244 print no SystemdCgroup line at all
# (containerd/containerd#12101), so a sed on "SystemdCgroup = false" changes
# nothing there: the awk writes `SystemdCgroup = true` right under the runc
# options header, whichever version, and drops any other SystemdCgroup line of
# that table. [ \t], not [[:space:]]: mawk 1.3.3 has no character classes.
kb_containerd_config() {
  containerd config default | sed \
    -e 's#^\([[:space:]]*sandbox_image = \).*#\1"registry.k8s.io/pause:3.10.2"#' \
    -e 's#^\([[:space:]]*sandbox = \).*#\1'\''registry.k8s.io/pause:3.10.2'\''#' \
    -e 's#^\([[:space:]]*config_path = \).*#\1"/etc/containerd/certs.d"#' | awk '
    /^[ \t]*\[/ { in_runc = 0 }
    in_runc && /^[ \t]*SystemdCgroup[ \t]*=/ { next }
    { print }
    /^[ \t]*\[plugins\..*\.containerd\.runtimes\.runc\.options\][ \t]*$/ {
      in_runc = 1
      match($0, /^[ \t]*/)
      printf "%s  SystemdCgroup = true\n", substr($0, 1, RLENGTH)
    }'
}
install -d -m 0755 /etc/containerd
kb_new=$(mktemp /etc/containerd/.config.toml.XXXXXX)
kb_containerd_config >"$kb_new"
kb_restart=no
if cmp -s "$kb_new" /etc/containerd/config.toml; then
  rm -f "$kb_new"
else
  kb_backup /etc/containerd/config.toml
  chmod 0644 "$kb_new"
  mv -f "$kb_new" /etc/containerd/config.toml
  kb_restart=yes
fi
systemctl enable containerd
# restart only when the configuration changed (or it is not running)
if [ "$kb_restart" = yes ] || ! systemctl is-active --quiet containerd; then
  systemctl restart containerd
fi
)

### crictl: Point crictl at the container runtime
## check (read-only)
(
kb_file_state /etc/crictl.yaml
)
## apply
kb_write /etc/crictl.yaml 644 root:root <<'KBOOTSTRAP_EOF'
# kbootstrap: crictl talks to containerd
runtime-endpoint: unix:///run/containerd/containerd.sock
image-endpoint: unix:///run/containerd/containerd.sock
timeout: 10
debug: false
KBOOTSTRAP_EOF

### kube-packages: Install kubelet, kubeadm and kubectl at the pinned version
## check (read-only)
(
kb_file_state /etc/yum.repos.d/kubernetes.repo
# one rpm call for every package; absent ones print nothing here (their "is not installed" line is no
# pkg= line: the shell keeps only those, as grep '^pkg=' did)
kb_pkgs=$(exec rpm -q --qf 'pkg=%{NAME}=%{VERSION}\n' kubelet kubeadm kubectl ipset ipvsadm 2>/dev/null) || true
while IFS= read -r kb_l; do
  case $kb_l in pkg=*) printf '%s\n' "$kb_l" ;; esac
done <<<"$kb_pkgs"
# read-only: a systemd unit, enabled? active? (`|| true` outside the command substitution: systemctl
# is then its only command, run without a shell of its own in between)
kb_e=$(exec systemctl is-enabled kubelet 2>/dev/null) || true
kb_a=$(exec systemctl is-active kubelet 2>/dev/null) || true
printf 'unit=%s %s %s\n' kubelet "${kb_e:-unknown}" "${kb_a:-unknown}"
if kb_key_trusted /etc/pki/rpm-gpg/kbootstrap-kubernetes.asc DE15B14486CD377B9E876E1A234654DA9A296436; then echo key=/etc/pki/rpm-gpg/kbootstrap-kubernetes.asc=present; elif [ -e /etc/pki/rpm-gpg/kbootstrap-kubernetes.asc ]; then echo key=/etc/pki/rpm-gpg/kbootstrap-kubernetes.asc=untrusted; else echo key=/etc/pki/rpm-gpg/kbootstrap-kubernetes.asc=missing; fi
)
## apply
(
install -d -m 0755 /etc/pki/rpm-gpg
kb_key_tmp=$(mktemp /etc/pki/rpm-gpg/.kbootstrap-key.XXXXXX)
kb_retry 3 5 curl -fsSL https://pkgs.k8s.io/core:/stable:/v1.36/rpm/repodata/repomd.xml.key -o "$kb_key_tmp"
# whoever served it (upstream or a mirror): only a key with a trusted fingerprint is installed
if ! command -v gpg >/dev/null 2>&1; then
  rm -f "$kb_key_tmp"
  printf 'gpg is not installed: it reads the fingerprint of the signing key from %s before the key is trusted (install gnupg, then run again)\n' https://pkgs.k8s.io/core:/stable:/v1.36/rpm/repodata/repomd.xml.key >&2
  exit 1
fi
if ! kb_key_trusted "$kb_key_tmp" DE15B14486CD377B9E876E1A234654DA9A296436; then
  kb_key_got=$(kb_key_fprs "$kb_key_tmp" | tr '\n' ' ')
  rm -f "$kb_key_tmp"
  printf 'the signing key from %s is not trusted: its fingerprints are [%s], the trusted ones %s (a mirror that signs with its own key: cluster.repositoryKeyFingerprints)\n' https://pkgs.k8s.io/core:/stable:/v1.36/rpm/repodata/repomd.xml.key "${kb_key_got% }" DE15B14486CD377B9E876E1A234654DA9A296436 >&2
  exit 1
fi
chmod 0644 "$kb_key_tmp"
mv -f "$kb_key_tmp" /etc/pki/rpm-gpg/kbootstrap-kubernetes.asc
)
kb_write /etc/yum.repos.d/kubernetes.repo 644 root:root <<'KBOOTSTRAP_EOF'
# kbootstrap: Kubernetes v1.36 packages; exclude= holds them against yum update
[kubernetes]
name=Kubernetes v1.36
baseurl=https://pkgs.k8s.io/core:/stable:/v1.36/rpm/
enabled=1
gpgcheck=1
gpgkey=file:///etc/pki/rpm-gpg/kbootstrap-kubernetes.asc
exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni
KBOOTSTRAP_EOF
(
kb_retry 3 5 yum install -y --disableexcludes=kubernetes kubelet-1.36.4 kubeadm-1.36.4 kubectl-1.36.4 ipset ipvsadm
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
# the images the CRI (containerd) holds, one reference a line: crictl's IMAGE and TAG columns
if ! command -v crictl >/dev/null 2>&1; then
  echo 'runtime=no-crictl'
elif kb_refs=$(exec crictl images 2>/dev/null); then
  echo 'runtime=ok'
  awk 'NR > 1 && $1 != "<none>" && $2 != "<none>" { print "image=" $1 ":" $2 }' <<<"$kb_refs"
else
  echo 'runtime=unavailable'
fi
)
## apply
# pull 6 images side by side with crictl pull (kubeadm's images from kbootstrap's versions table, kubeadm not asked: no check output): registry.k8s.io/kube-proxy:v1.36.4, registry.k8s.io/coredns/coredns:v1.14.2, registry.k8s.io/pause:3.10.2, quay.io/calico/cni:v3.32.1, quay.io/calico/node:v3.32.1, quay.io/calico/kube-controllers:v3.32.1
(
set -u
# every image at once, each into its own files; then each failure with the image and the runtime's own words
kb_tmp=$(mktemp -d)
trap 'rm -rf "$kb_tmp"' EXIT
kb_pull() {
  if ! crictl pull "$2" >"$kb_tmp/$1.out" 2>"$kb_tmp/$1.err"; then
    printf '%s\n' "$2" >"$kb_tmp/$1.failed"
  fi
}
kb_pull 0 registry.k8s.io/kube-proxy:v1.36.4 &
kb_pull 1 registry.k8s.io/coredns/coredns:v1.14.2 &
kb_pull 2 registry.k8s.io/pause:3.10.2 &
kb_pull 3 quay.io/calico/cni:v3.32.1 &
kb_pull 4 quay.io/calico/node:v3.32.1 &
kb_pull 5 quay.io/calico/kube-controllers:v3.32.1 &
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

### join: Join the cluster with kubeadm
## check (read-only)
(
if [ -f /etc/kubernetes/kubelet.conf ]; then echo kubelet-conf=present; else echo kubelet-conf=absent; fi
# kube-vip's manifest goes there before init and joins (the load-balancer step): it is no leftover
if [ -d /etc/kubernetes/manifests ] && [ -n "$(find /etc/kubernetes/manifests -mindepth 1 -maxdepth 1 ! -name kube-vip.yaml 2>/dev/null)" ]; then echo leftovers=manifests; fi
if [ -f /etc/kubernetes/pki/ca.crt ]; then echo leftovers=pki; fi
)
## apply
# holds the join credentials fetched from cp-1 at run time
kb_write /etc/kbootstrap/kubeadm-join.yaml 600 root:root <<'KBOOTSTRAP_EOF'
# kbootstrap: kubeadm join configuration (holds secrets; removed after the join)
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: 192.168.60.100:6443
    token: <JOIN_TOKEN>
    caCertHashes:
      - <CA_CERT_HASH>
nodeRegistration:
  name: worker-1
  criSocket: unix:///run/containerd/containerd.sock
KBOOTSTRAP_EOF
(
if [ ! -f /etc/kubernetes/kubelet.conf ]; then
  # the config holds the join token: remove it whatever happens
  trap 'rm -f /etc/kbootstrap/kubeadm-join.yaml' EXIT
  kubeadm join --config /etc/kbootstrap/kubeadm-join.yaml
fi
rm -f /etc/kbootstrap/kubeadm-join.yaml
)
