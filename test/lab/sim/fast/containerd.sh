kb_prog=containerd
if [[ -n $kb_fast && $* = 'config default' ]]; then
  kb_log "$@"
  # containerd.io 2.x prints config version 3, 1.x version 2 (same choice as runtime.mjs)
  kb_slurp kb_v /var/lib/kblab/pkgs.d/containerd.io || kb_v=
  case $kb_v in
    2.*) kb_f=@KBLAB_FAST_DIR@/containerd-default-v3.toml ;;
    *) kb_f=@KBLAB_FAST_DIR@/containerd-default.toml ;;
  esac
  IFS= read -r -d '' kb_c <"$kb_f"
  printf '%s' "$kb_c"
  exit 0
fi
