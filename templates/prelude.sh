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
# --show-keys; gpg 2.0 (CentOS 7) lists it when given only the file. A
# throwaway home: no keyring is read or written.
kb_key_fprs() {
  command -v gpg >/dev/null 2>&1 || return 0
  kb_kh=$(mktemp -d) || return 1
  { gpg --batch --homedir "$kb_kh" --show-keys --with-colons "$1" 2>/dev/null ||
    gpg --batch --homedir "$kb_kh" --with-colons --with-fingerprint "$1" 2>/dev/null; } |
    awk -F: '$1 == "pub" { p = 1; next } $1 == "fpr" && p { print $10; p = 0 }'
  rm -rf "$kb_kh"
}

# kb_key_trusted FILE "FPR...": true when FILE holds at least one key and every
# primary key in it has one of the fingerprints.
kb_key_trusted() {
  [ -s "$1" ] || return 1
  kb_kf=$(kb_key_fprs "$1")
  [ -n "$kb_kf" ] || return 1
  for kb_f in $kb_kf; do
    case " $2 " in
      *" $kb_f "*) ;;
      *) return 1 ;;
    esac
  done
}

# kb_file_state PATH...: each file's line for a check, in the order given: "file=PATH SHA256 MODE", or
# "file=PATH missing" when it is not a regular file; one sha256sum and one stat for all the files there
# are (each on its own when that one read fails: a file it could not read, or one that came since).
kb_file_state() {
  local f h j=0 s m
  local -a have=() sums=() modes=()
  for f in "$@"; do
    if [ -f "$f" ]; then have+=("$f"); fi
  done
  if [ "${#have[@]}" -gt 0 ] && s=$(sha256sum -- "${have[@]}" 2>/dev/null) && m=$(stat -c %a -- "${have[@]}" 2>/dev/null); then
    # one line each, in the order given (sha256sum starts a line with a backslash when it escapes the name)
    mapfile -t sums <<<"$s"
    mapfile -t modes <<<"$m"
  fi
  for f in "$@"; do
    if [ "${#sums[@]}" -eq "${#have[@]}" ] && [ "${#modes[@]}" -eq "${#have[@]}" ] && [ "$j" -lt "${#have[@]}" ] && [ "${have[j]}" = "$f" ]; then
      h=${sums[j]#\\}
      printf 'file=%s %s %s\n' "$f" "${h%% *}" "${modes[j]}"
      j=$((j + 1))
    elif [ -f "$f" ]; then
      printf 'file=%s %s %s\n' "$f" "$(sha256sum <"$f" | cut -d' ' -f1)" "$(stat -c %a "$f")"
    else
      printf 'file=%s missing\n' "$f"
    fi
  done
}
