kb_prog=apt-mark
if [ -n "$kb_fast" ] && [ "$*" = showhold ]; then
  kb_log "$@"
  for kb_f in /var/lib/kblab/pkgs.d/*.held; do
    [ -f "$kb_f" ] && basename "$kb_f" .held
  done | sort
  exit 0
fi
