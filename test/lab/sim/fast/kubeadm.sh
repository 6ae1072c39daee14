kb_prog=kubeadm
# `kubeadm config images list --kubernetes-version vX.Y.Z --image-repository R` (the images step's
# check), for a version kubeadm accepts and the tags table knows; anything else: kube.mjs config()
if [ -n "$kb_fast" ] && [ $# = 7 ] && [ "$1 $2 $3 $4 $6" = "config images list --kubernetes-version --image-repository" ] \
  && [ -f /var/lib/kblab/pkgs.d/kubeadm ]; then
  kb_v=${5#v}
  kb_repo=$7
  kb_own=$(cut -d. -f2 /var/lib/kblab/pkgs.d/kubeadm)
  kb_minor=$(printf '%s' "$kb_v" | sed -n 's/^[0-9][0-9]*\.\([0-9][0-9]*\)\.[0-9][0-9]*$/\1/p')
  if [ -n "$kb_minor" ] && [ "$kb_minor" -ge $((kb_own - 1)) ]; then
    # the last line for the minor wins: the host's own table after the shipped one
    kb_tags=$(cat @KBLAB_FAST_DIR@/kubeadm-image-tags /var/lib/kblab/kubeadm-image-tags 2>/dev/null | awk -v m="$kb_minor" '$1 == m && NF >= 4 { t = $2 " " $3 " " $4 } END { print t }')
    if [ -n "$kb_tags" ]; then
      kb_log "$@"
      # the three tags, split into $1 $2 $3 on purpose
      # shellcheck disable=SC2086
      set -- $kb_tags
      kb_dns=$kb_repo
      if [ "$kb_repo" = registry.k8s.io ]; then kb_dns=registry.k8s.io/coredns; fi
      for kb_n in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do echo "$kb_repo/$kb_n:v$kb_v"; done
      echo "$kb_dns/coredns:$3"
      echo "$kb_repo/pause:$1"
      echo "$kb_repo/etcd:$2"
      exit 0
    fi
  fi
fi
