kb_prog=apt-mark
if [[ -n $kb_fast && $* = showhold ]]; then
  kb_log "$@"
  # sorted as packages.mjs sorts them (by code unit): the glob in the C locale
  LC_ALL=C
  for kb_f in /var/lib/kblab/pkgs.d/*.held; do
    if [[ -f $kb_f ]]; then kb_f=${kb_f##*/}; echo "${kb_f%.held}"; fi
  done
  exit 0
fi
