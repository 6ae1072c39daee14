#!/usr/bin/env bash
# kbootstrap dry run for cp-3 (192.168.60.13), role control-plane
# OS assumed: Rocky Linux 9.4 (Blue Onyx) (from the inventory; a real run reads /etc/os-release)
# Cluster rocky-ha: Kubernetes 1.37.1, containerd, CNI calico, kube-proxy ipvs
# SSH: root@192.168.60.13:22
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

### upgrade-repository: The Kubernetes package repository of the target minor
## check (read-only)
(
kb_file_state /etc/yum.repos.d/kubernetes.repo
if kb_key_trusted /etc/pki/rpm-gpg/kbootstrap-kubernetes.asc DE15B14486CD377B9E876E1A234654DA9A296436; then echo key=/etc/pki/rpm-gpg/kbootstrap-kubernetes.asc=present; elif [ -e /etc/pki/rpm-gpg/kbootstrap-kubernetes.asc ]; then echo key=/etc/pki/rpm-gpg/kbootstrap-kubernetes.asc=untrusted; else echo key=/etc/pki/rpm-gpg/kbootstrap-kubernetes.asc=missing; fi
)
## apply
(
install -d -m 0755 /etc/pki/rpm-gpg
kb_key_tmp=$(mktemp /etc/pki/rpm-gpg/.kbootstrap-key.XXXXXX)
kb_retry 3 5 curl -fsSL https://pkgs.k8s.io/core:/stable:/v1.37/rpm/repodata/repomd.xml.key -o "$kb_key_tmp"
# whoever served it (upstream or a mirror): only a key with a trusted fingerprint is installed
if ! command -v gpg >/dev/null 2>&1; then
  rm -f "$kb_key_tmp"
  printf 'gpg is not installed: it reads the fingerprint of the signing key from %s before the key is trusted (install gnupg, then run again)\n' https://pkgs.k8s.io/core:/stable:/v1.37/rpm/repodata/repomd.xml.key >&2
  exit 1
fi
if ! kb_key_trusted "$kb_key_tmp" DE15B14486CD377B9E876E1A234654DA9A296436; then
  kb_key_got=$(kb_key_fprs "$kb_key_tmp" | tr '\n' ' ')
  rm -f "$kb_key_tmp"
  printf 'the signing key from %s is not trusted: its fingerprints are [%s], the trusted ones %s (a mirror that signs with its own key: cluster.repositoryKeyFingerprints)\n' https://pkgs.k8s.io/core:/stable:/v1.37/rpm/repodata/repomd.xml.key "${kb_key_got% }" DE15B14486CD377B9E876E1A234654DA9A296436 >&2
  exit 1
fi
chmod 0644 "$kb_key_tmp"
mv -f "$kb_key_tmp" /etc/pki/rpm-gpg/kbootstrap-kubernetes.asc
)
kb_write /etc/yum.repos.d/kubernetes.repo 644 root:root <<'KBOOTSTRAP_EOF'
# kbootstrap: Kubernetes v1.37 packages; exclude= holds them against yum update
[kubernetes]
name=Kubernetes v1.37
baseurl=https://pkgs.k8s.io/core:/stable:/v1.37/rpm/
enabled=1
gpgcheck=1
gpgkey=file:///etc/pki/rpm-gpg/kbootstrap-kubernetes.asc
exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni
KBOOTSTRAP_EOF

### images: Pull the images the host's role runs
## check (read-only)
(
# kubeadm's own image list for the version (what kubeadm init pulls), where kubeadm is installed:
# one kubeadm-image= line each; else why not (kbootstrap then uses its versions table)
if ! command -v kubeadm >/dev/null 2>&1; then
  echo 'kubeadm=absent'
elif kb_list=$(exec kubeadm config images list --kubernetes-version v1.37.1 --image-repository registry.k8s.io 2>&1); then
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
# pull 10 images side by side with crictl pull (kubeadm's images from kbootstrap's versions table, kubeadm not asked: no check output): registry.k8s.io/kube-apiserver:v1.37.1, registry.k8s.io/kube-controller-manager:v1.37.1, registry.k8s.io/kube-scheduler:v1.37.1, registry.k8s.io/kube-proxy:v1.37.1, registry.k8s.io/coredns/coredns:v1.14.6, registry.k8s.io/pause:3.10.2, registry.k8s.io/etcd:3.7.0-0, quay.io/calico/cni:v3.32.1, quay.io/calico/node:v3.32.1, quay.io/calico/kube-controllers:v3.32.1
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
kb_pull 0 registry.k8s.io/kube-apiserver:v1.37.1 &
kb_pull 1 registry.k8s.io/kube-controller-manager:v1.37.1 &
kb_pull 2 registry.k8s.io/kube-scheduler:v1.37.1 &
kb_pull 3 registry.k8s.io/kube-proxy:v1.37.1 &
kb_pull 4 registry.k8s.io/coredns/coredns:v1.14.6 &
kb_pull 5 registry.k8s.io/pause:3.10.2 &
kb_pull 6 registry.k8s.io/etcd:3.7.0-0 &
kb_pull 7 quay.io/calico/cni:v3.32.1 &
kb_pull 8 quay.io/calico/node:v3.32.1 &
kb_pull 9 quay.io/calico/kube-controllers:v3.32.1 &
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

### upgrade-kubeadm: kubeadm at the target version (held again afterwards)
## check (read-only)
(
# one rpm call for every package; absent ones print nothing here (their "is not installed" line is no
# pkg= line: the shell keeps only those, as grep '^pkg=' did)
kb_pkgs=$(exec rpm -q --qf 'pkg=%{NAME}=%{VERSION}\n' kubeadm 2>/dev/null) || true
while IFS= read -r kb_l; do
  case $kb_l in pkg=*) printf '%s\n' "$kb_l" ;; esac
done <<<"$kb_pkgs"
)
## apply
(
kb_retry 3 5 yum install -y --disableexcludes=kubernetes kubeadm-1.37.1
)

### upgrade-node: kubeadm upgrade node
## check (read-only)
(
# This node as the API server sees it (its kubelet's version, cordoned or not),
# through admin.conf on a control plane or the kubelet's own kubeconfig
# elsewhere (the Node authorizer lets a kubelet read its own Node).
if [ -f /etc/kubernetes/admin.conf ]; then kb_conf=/etc/kubernetes/admin.conf; else kb_conf=/etc/kubernetes/kubelet.conf; fi
if kb_node=$(kubectl --kubeconfig="$kb_conf" get node cp-3 -o json --request-timeout=10s 2>&1); then
  printf 'node=%s\n' "$(printf '%s' "$kb_node" | tr -d '\n')"
else
  printf '%s\n' "$kb_node" | tail -n 1 | sed 's/^/node-error=/'
fi
# a control plane's API server image says which version its static Pods run
if [ -f /etc/kubernetes/manifests/kube-apiserver.yaml ]; then
  sed -n 's/^ *image: *\(.*kube-apiserver:.*\)$/apiserver-image=\1/p' /etc/kubernetes/manifests/kube-apiserver.yaml
fi
)
## apply
(
# Other control planes and workers: kubeadm upgrade node upgrades this node's
# static Pods (control planes) and its kubelet configuration
# (https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/,
# "For the other control plane nodes"; .../upgrading-linux-nodes/).
kubeadm upgrade node
)

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

### upgrade-kubelet: Drain, kubelet and kubectl at the target version, restart the kubelet, uncordon
## check (read-only)
(
# one rpm call for every package; absent ones print nothing here (their "is not installed" line is no
# pkg= line: the shell keeps only those, as grep '^pkg=' did)
kb_pkgs=$(exec rpm -q --qf 'pkg=%{NAME}=%{VERSION}\n' kubelet kubectl 2>/dev/null) || true
while IFS= read -r kb_l; do
  case $kb_l in pkg=*) printf '%s\n' "$kb_l" ;; esac
done <<<"$kb_pkgs"
)
(
# This node as the API server sees it (its kubelet's version, cordoned or not),
# through admin.conf on a control plane or the kubelet's own kubeconfig
# elsewhere (the Node authorizer lets a kubelet read its own Node).
if [ -f /etc/kubernetes/admin.conf ]; then kb_conf=/etc/kubernetes/admin.conf; else kb_conf=/etc/kubernetes/kubelet.conf; fi
if kb_node=$(kubectl --kubeconfig="$kb_conf" get node cp-3 -o json --request-timeout=10s 2>&1); then
  printf 'node=%s\n' "$(printf '%s' "$kb_node" | tr -d '\n')"
else
  printf '%s\n' "$kb_node" | tail -n 1 | sed 's/^/node-error=/'
fi
# a control plane's API server image says which version its static Pods run
if [ -f /etc/kubernetes/manifests/kube-apiserver.yaml ]; then
  sed -n 's/^ *image: *\(.*kube-apiserver:.*\)$/apiserver-image=\1/p' /etc/kubernetes/manifests/kube-apiserver.yaml
fi
)
## apply
(
kb_retry 3 5 yum install -y --disableexcludes=kubernetes kubelet-1.37.1 kubectl-1.37.1
)
(
# "Restart the kubelet" after the package moved (the same page), then wait
# until the node reports the new kubelet version.
systemctl daemon-reload
systemctl restart kubelet
if [ -f /etc/kubernetes/admin.conf ]; then kb_conf=/etc/kubernetes/admin.conf; else kb_conf=/etc/kubernetes/kubelet.conf; fi
kb_i=0
until [ "$(kubectl --kubeconfig="$kb_conf" get node cp-3 -o json --request-timeout=10s 2>/dev/null | grep -o '"kubeletVersion": *"[^"]*"' | sed 's/.*"\(v[^"]*\)"$/\1/')" = v1.37.1 ]; do
  kb_i=$((kb_i + 1))
  if [ "$kb_i" -ge 90 ]; then
    printf 'the node does not report kubelet %s after the restart\n' v1.37.1 >&2
    exit 1
  fi
  sleep 2
done
)
