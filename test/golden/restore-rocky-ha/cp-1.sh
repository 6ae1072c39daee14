#!/usr/bin/env bash
# kbootstrap dry run for cp-1 (192.168.60.11), role control-plane
# OS assumed: Rocky Linux 9.4 (Blue Onyx) (from the inventory; a real run reads /etc/os-release)
# Cluster rocky-ha: Kubernetes 1.36.4, containerd, CNI calico, kube-proxy ipvs
# SSH: root@192.168.60.11:22
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

### restore-gate: No cluster answers on the control planes
## check (read-only)
(
# read-only: does a cluster still run here
if [ -f /etc/kubernetes/admin.conf ] && kb_kubectl get --raw=/readyz --request-timeout=5s >/dev/null 2>&1; then
  echo cluster=answers
else
  echo cluster=none
fi
if [ -f /etc/kubernetes/manifests/etcd.yaml ]; then echo etcd-manifest=present; fi
)

### restore-pki: The cluster's CAs and service-account keys from the backup
## check (read-only)
(
if [ -f /etc/kubernetes/pki/ca.crt ]; then echo "pki=$(sha256sum < /etc/kubernetes/pki/ca.crt | cut -d' ' -f1) "/etc/kubernetes/pki/ca.crt; fi
if [ -f /etc/kubernetes/pki/ca.key ]; then echo "pki=$(sha256sum < /etc/kubernetes/pki/ca.key | cut -d' ' -f1) "/etc/kubernetes/pki/ca.key; fi
if [ -f /etc/kubernetes/pki/sa.key ]; then echo "pki=$(sha256sum < /etc/kubernetes/pki/sa.key | cut -d' ' -f1) "/etc/kubernetes/pki/sa.key; fi
if [ -f /etc/kubernetes/pki/sa.pub ]; then echo "pki=$(sha256sum < /etc/kubernetes/pki/sa.pub | cut -d' ' -f1) "/etc/kubernetes/pki/sa.pub; fi
if [ -f /etc/kubernetes/pki/front-proxy-ca.crt ]; then echo "pki=$(sha256sum < /etc/kubernetes/pki/front-proxy-ca.crt | cut -d' ' -f1) "/etc/kubernetes/pki/front-proxy-ca.crt; fi
if [ -f /etc/kubernetes/pki/front-proxy-ca.key ]; then echo "pki=$(sha256sum < /etc/kubernetes/pki/front-proxy-ca.key | cut -d' ' -f1) "/etc/kubernetes/pki/front-proxy-ca.key; fi
if [ -f /etc/kubernetes/pki/etcd/ca.crt ]; then echo "pki=$(sha256sum < /etc/kubernetes/pki/etcd/ca.crt | cut -d' ' -f1) "/etc/kubernetes/pki/etcd/ca.crt; fi
if [ -f /etc/kubernetes/pki/etcd/ca.key ]; then echo "pki=$(sha256sum < /etc/kubernetes/pki/etcd/ca.key | cut -d' ' -f1) "/etc/kubernetes/pki/etcd/ca.key; fi
echo checked=pki
)
## apply
# files to replace
(
rm -f '/etc/kubernetes/pki/ca.crt' '/etc/kubernetes/pki/ca.key' '/etc/kubernetes/pki/sa.key' '/etc/kubernetes/pki/sa.pub' '/etc/kubernetes/pki/front-proxy-ca.crt' '/etc/kubernetes/pki/front-proxy-ca.key' '/etc/kubernetes/pki/etcd/ca.crt' '/etc/kubernetes/pki/etcd/ca.key'
)
# writes /etc/kubernetes/pki/ca.crt (mode 644, root:root): 15 bytes, sha256 8a1990de7e50f21a4817b984faf580b19bbb7896f223903e5695c41c89c03544
# a private key from the backup
# writes /etc/kubernetes/pki/ca.key (mode 600, root:root): 22 bytes, sha256 3e4859a5d4ef04b7e38ae8269bc5edf446d9e095c3b5f1fde4922752ae975452
# a private key from the backup
# writes /etc/kubernetes/pki/sa.key (mode 600, root:root): 22 bytes, sha256 35a0ce167de06dbbaa3594b901ecdcc899b2bb1f129d4466f41b8e07317b7848
# writes /etc/kubernetes/pki/sa.pub (mode 644, root:root): 15 bytes, sha256 3508cfde5b25b10aeb2836d84cc75be33477ddaab3c24e86cc3fcce49f06753c
# writes /etc/kubernetes/pki/front-proxy-ca.crt (mode 644, root:root): 27 bytes, sha256 4231fa84a15e46af81ce1f5803ffc2942082c332c150047037c7db4961af6f60
# a private key from the backup
# writes /etc/kubernetes/pki/front-proxy-ca.key (mode 600, root:root): 34 bytes, sha256 ed928fb03e500591dab73e5cb4cb2edae3d08df8beffdaa410a56f4192de5aca
# writes /etc/kubernetes/pki/etcd/ca.crt (mode 644, root:root): 20 bytes, sha256 fae3cf0f93de64e1f82df2a2891a387be8aa6f09d028be04e0f09199adb37c4f
# a private key from the backup
# writes /etc/kubernetes/pki/etcd/ca.key (mode 600, root:root): 27 bytes, sha256 2939b0613e3e03031d4eaa517bb2f7e708b78d417efee7d0a544b8eb88086795

### restore-etcd: etcd's data from the snapshot, as a new one-member cluster
## check (read-only)
(
if [ -f /var/lib/kbootstrap/etcd-restored ]; then echo "restored=$(cat /var/lib/kbootstrap/etcd-restored)"; fi
if [ -d /var/lib/etcd/member ]; then echo data=present; else echo data=none; fi
)
## apply
# the snapshot from backup.tar.gz
# writes /var/lib/kbootstrap/restore/snapshot.db (mode 600, root:root): 20512 bytes, sha256 2710f6e3d17ba7b9052dbd1db46baf7a752cd95e2289a89aca8c4d4184bf17de
# etcdutl snapshot restore into a new data directory
(
# etcdctl and etcdutl: the host's own when it has them (Debian's etcd-client), else the ones in the
# etcd static pod's image, which ships etcd, etcdctl and etcdutl (kubernetes/kubernetes
# cluster/images/etcd, from etcd 3.5; read 2026-12-07). Client certificate: kubeadm's
# etcd/healthcheck-client (https://kubernetes.io/docs/setup/best-practices/certificates/).
kb_etcd_container() {
  crictl ps --name '^etcd$' --state running -q 2>/dev/null | head -n 1 || true
}
# kb_etcdutl ARGS: its paths are under /var/lib/etcd (the etcd pod mounts it) or /var/lib/kbootstrap
kb_etcdutl() {
  if command -v etcdutl >/dev/null 2>&1; then
    etcdutl "$@"
    return
  fi
  local kb_id
  kb_id=$(kb_etcd_container)
  if [ -n "$kb_id" ]; then
    crictl exec "$kb_id" etcdutl "$@"
    return
  fi
  # the pull goes through the CRI, so the registry mirrors apply
  crictl pull registry.k8s.io/etcd:3.5.15-0 >/dev/null
  ctr -n k8s.io run --rm --mount type=bind,src=/var/lib/kbootstrap,dst=/var/lib/kbootstrap,options=rbind:rw registry.k8s.io/etcd:3.5.15-0 "kbootstrap-etcdutl-$$" etcdutl "$@"
}
kb_snap=/var/lib/kbootstrap/restore/snapshot.db
kb_new=/var/lib/kbootstrap/restore/etcd
# the upload arrived whole, and etcdutl reads it
echo 2710f6e3d17ba7b9052dbd1db46baf7a752cd95e2289a89aca8c4d4184bf17de"  $kb_snap" | sha256sum -c --quiet -
kb_etcdutl snapshot status "$kb_snap" -w json >/dev/null
rm -rf "$kb_new"
# a new single-member cluster named after this node, at the peer URL kubeadm gives its etcd
kb_etcdutl snapshot restore "$kb_snap" --name cp-1 --initial-cluster cp-1=https://192.168.60.11:2380 --initial-advertise-peer-urls https://192.168.60.11:2380 --data-dir "$kb_new"
if [ -d /var/lib/etcd/member ]; then
  # only with restore --force: the data that was there is kept aside, not deleted
  mv /var/lib/etcd "/var/lib/etcd.kbootstrap-old-$(date +%Y%m%d%H%M%S)"
fi
install -d -m 0700 /var/lib/etcd
mv "$kb_new/member" /var/lib/etcd/member
rm -rf "$kb_new" "$kb_snap"
# kubeadm init sees this and accepts the restored data directory (DirAvailable--var-lib-etcd)
printf '%s\n' 2710f6e3d17ba7b9052dbd1db46baf7a752cd95e2289a89aca8c4d4184bf17de >/var/lib/kbootstrap/etcd-restored
)
