kb_prog=kubeadm
# `kubeadm config images list --kubernetes-version vX.Y.Z --image-repository R` (the images step's
# check), for a version kubeadm accepts and the tags table knows; anything else: kube.mjs config()
if [[ -n $kb_fast && $# = 7 && "$1 $2 $3 $4 $6" = 'config images list --kubernetes-version --image-repository' ]] \
  && kb_slurp kb_own /var/lib/kblab/pkgs.d/kubeadm; then
  kb_v=${5#v}
  kb_repo=$7
  # the installed kubeadm's minor: the second dot-separated field of its package version
  kb_own=${kb_own#*.}
  kb_own=${kb_own%%.*}
  kb_minor=
  if [[ $kb_v =~ ^[0-9]+\.([0-9]+)\.[0-9]+$ ]]; then kb_minor=${BASH_REMATCH[1]}; fi
  if [[ -n $kb_minor && $kb_own =~ ^[0-9]+$ ]] && ((10#$kb_minor >= 10#$kb_own - 1)); then
    # the last line for the minor with at least four fields wins: the host's own table after the shipped one
    kb_tags=
    for kb_t in @KBLAB_FAST_DIR@/kubeadm-image-tags /var/lib/kblab/kubeadm-image-tags; do
      [[ -r $kb_t ]] || continue
      while read -r kb_1 kb_2 kb_3 kb_4 _; do
        if [[ -n $kb_4 && $kb_1 = "$kb_minor" ]]; then kb_tags="$kb_2 $kb_3 $kb_4"; fi
      done <"$kb_t"
    done
    if [[ -n $kb_tags ]]; then
      kb_log "$@"
      read -r kb_pause kb_etcd kb_dns_tag <<<"$kb_tags"
      kb_dns=$kb_repo
      if [[ $kb_repo = registry.k8s.io ]]; then kb_dns=registry.k8s.io/coredns; fi
      for kb_n in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do echo "$kb_repo/$kb_n:v$kb_v"; done
      echo "$kb_dns/coredns:$kb_dns_tag"
      echo "$kb_repo/pause:$kb_pause"
      echo "$kb_repo/etcd:$kb_etcd"
      exit 0
    fi
  fi
fi
