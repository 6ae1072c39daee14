# Fast paths for the read-only calls a check batch makes most, in bash: a
# Node.js start costs ~70 ms; these a few ms, and they use bash's builtins
# (read, printf -v with %()T, ${x//a/b}, [[ =~ ]]) rather than a process
# per step (date, cat, sed, tr), since a check batch makes dozens of such
# calls on every host of a lab that shares two cores. Same output, exit
# codes and call log as the Node.js simulation, which handles everything else
# (and every call while faults are injected on the host);
# test/lab/sims.test.ts compares the two call by call.
kb_name=
read -r kb_name </etc/kblab/lab-name 2>/dev/null
if [[ -s /var/lib/kblab-faults/$kb_name.json ]]; then kb_fast=; else kb_fast=1; fi
# kb_log ARG...: the call log line lib.mjs logCall writes (JSON.stringify: \ and " escaped), at this second in UTC
kb_log() {
  local a args='' now
  for a in "$@"; do
    a=${a//\\/\\\\}
    a=${a//\"/\\\"}
    args+="${args:+,}\"$a\""
  done
  TZ=UTC0 printf -v now '%(%Y-%m-%dT%H:%M:%S)T' -1
  printf '{"prog":"%s","args":[%s],"mutating":false,"at":"%s.000Z"}\n' "$kb_prog" "$args" "$now" >>/var/log/kblab/calls.jsonl 2>/dev/null
}
# kb_slurp VAR FILE: FILE's content without its trailing newlines, as $(cat FILE) gives it; 1 when unreadable
kb_slurp() {
  [[ -r $2 ]] || return 1
  IFS= read -r -d '' "$1" <"$2"
  while [[ ${!1} == *$'\n' ]]; do printf -v "$1" '%s' "${!1%$'\n'}"; done
  return 0
}
