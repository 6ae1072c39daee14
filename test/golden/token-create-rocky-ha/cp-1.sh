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

### token-create: Make a join command for a control plane (a token, the certificates uploaded, a certificate key)
## check (read-only)
(
# read-only: does the cluster answer through this control plane (its admin.conf, the API server's /readyz)
if [ ! -f /etc/kubernetes/admin.conf ]; then
  echo answers=no-admin-conf
elif kb_out=$(kb_kubectl get --raw=/readyz --request-timeout=10s 2>&1); then
  echo answers=yes
else
  echo "answers=$(printf '%s' "$kb_out" | tr '\n' ' ' | cut -c1-300)"
fi
)
## apply
# a fresh join command: printed on stdout only (a secret: never logged)
(
kubeadm token create --print-join-command --ttl 2h --description 'kbootstrap token'
)
# upload the control-plane certificates and print a fresh certificate key (a secret, valid 2h)
(
kubeadm init phase upload-certs --upload-certs
)
