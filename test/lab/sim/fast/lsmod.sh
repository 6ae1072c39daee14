kb_prog=lsmod
if [[ -n $kb_fast && $# = 0 ]]; then
  kb_log
  echo 'Module                  Size  Used by'
  # the columns awk '{ printf "%-24s%8s  %s\n", $1, $2, $3 }' would print, one line per module
  while read -r kb_m kb_s kb_u _; do printf '%-24s%8s  %s\n' "$kb_m" "$kb_s" "$kb_u"; done </var/lib/kblab/modules
  exit 0
fi
