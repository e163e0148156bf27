# bash completion for retention(8)
#
# The commands, subcommands and options below are compared with the
# binary's own --help (its option parser) by tests/completion/
# check-completion.sh, a CTest test: a command or option added to the
# binary and not here, or left here after it is gone, fails the build's
# tests. Categories, targets, hold ids and run ids come from the live
# config, through commands that only read: `retention cat-rules
# --categories|--targets`, `hold list --format json`, `audit runs --format
# json` (with the --config of the command line being completed).

# The names of a kind (categories, targets, holds, all-holds, runs), one a
# line; nothing when the config or the state cannot be read.
_retention_names() {
  local -a config=()
  local i
  for ((i = 1; i < cword; i++)); do
    case ${words[i]} in
      --config | -c) config=(--config "${words[i + 1]}") ;;
      --config=*) config=("${words[i]}") ;;
    esac
  done
  local retention=${words[0]}
  case $1 in
    categories | targets) "$retention" "${config[@]}" cat-rules "--$1" 2>/dev/null ;;
    holds) "$retention" "${config[@]}" hold list --format json 2>/dev/null | _retention_ids ;;
    all-holds) "$retention" "${config[@]}" hold list --all --format json 2>/dev/null | _retention_ids ;;
    runs) "$retention" "${config[@]}" audit runs --format json 2>/dev/null | _retention_ids ;;
  esac
}

# The "id" fields of a JSON document on stdin.
_retention_ids() {
  grep -oE '"id": *[0-9]+' | grep -oE '[0-9]+$'
}

_retention() {
  local cur prev words cword
  _init_completion || return

  local commands="check cat-rules plan purge erase hold explain audit status report state demo"
  local globals="--config -c --log-level --quiet -q --help -h --version"
  local common="--config -c --log-level --quiet -q --help -h"

  # The command word and a subcommand, skipping the global options.
  local i cmd="" sub="" cmd_at=0
  for ((i = 1; i < cword; i++)); do
    case ${words[i]} in
      --config | -c | --log-level) ((i++)) ;;
      -*) ;;
      *)
        if [[ -z $cmd ]]; then
          cmd=${words[i]}
          cmd_at=$i
        fi
        break
        ;;
    esac
  done
  if [[ -n $cmd ]]; then
    case $cmd in
      hold | audit | state) [[ $((cmd_at + 1)) -lt $cword ]] && sub=${words[cmd_at + 1]} ;;
      erase) [[ $((cmd_at + 1)) -lt $cword && ${words[cmd_at + 1]} == list ]] && sub=list ;;
    esac
  fi

  case $prev in
    --config | -c | --out | --plan | --metrics-file | --against | --verify-key | --sign-key | --receipt)
      _filedir
      return
      ;;
    --rules | --dir | --bundle)
      _filedir -d
      return
      ;;
    --log-level)
      COMPREPLY=($(compgen -W "trace debug info warn error off" -- "$cur"))
      return
      ;;
    --format)
      local formats="table json"
      case "$cmd $sub" in
        "cat-rules ") formats="text json" ;;
        "erase ") formats="table json md" ;;
        "audit log") formats="table json jsonl csv" ;;
        "report ") formats="md html json" ;;
        "audit export") formats="jsonl csv" ;;
      esac
      COMPREPLY=($(compgen -W "$formats" -- "$cur"))
      return
      ;;
    --to)
      # the name of the environment variable holding the conninfo
      COMPREPLY=($(compgen -e -- "$cur"))
      return
      ;;
    --kind)
      COMPREPLY=($(compgen -W "run_start run_end delete kept reconciled hold_placed hold_released erase anchor" -- "$cur"))
      return
      ;;
    --category | --target | --run | --id)
      local -A kind=([--category]=categories [--target]=targets [--run]=runs [--id]=all-holds)
      COMPREPLY=($(compgen -W "$(_retention_names "${kind[$prev]}")" -- "$cur"))
      return
      ;;
    --as-of | --batch-size | --max-runtime | --matter | --reason | --by | --subject | --request | --key | \
      --from | --until | --expires | --since | --store | --last | --max-age | --grace | --max-kept | \
      --rows | --seed | --record | --entry | --from-seq | --to-seq | --period | --schema)
      return
      ;;
  esac

  local opts="" words_here=""
  case "$cmd $sub" in
    " ")
      COMPREPLY=($(compgen -W "$commands $globals" -- "$cur"))
      return
      ;;
    "check ") opts="--format" ;;
    "cat-rules ") opts="--format --categories --targets" ;;
    "plan ") opts="--as-of --category --format --out" ;;
    "purge ") opts="--category --as-of --batch-size --max-runtime --plan --allow-mass-delete --allow-clock-jump
                    --allow-clock-behind --format --metrics-file" ;;
    "erase ")
      opts="--subject --request --dry-run --out --plan --format --receipt --allow-mass-delete --allow-clock-jump
            --allow-clock-behind --batch-size"
      words_here="list"
      ;;
    "erase list") opts="--format" ;;
    "explain ")
      opts="--record --as-of --format"
      if [[ $cur != -* ]]; then
        _filedir
        return
      fi
      ;;
    "status ") opts="--format --max-age --grace --last --check" ;;
    "report ") opts="--as-of --format --out --period --max-age --grace --against --verify-key" ;;
    "state ") words_here="init migrate reconcile" ;;
    "state init") ;;
    "state migrate") opts="--to --schema --join --host" ;;
    "state reconcile") opts="--host" ;;
    "demo ")
      opts="--dir --rows --seed --rules --force"
      if [[ $cur != -* ]]; then
        _filedir -d
        return
      fi
      ;;
    "hold ") words_here="add list show release" ;;
    "hold add") opts="--matter --reason --by --category --target --subject --key --from --until --expires
                      --freeze-all --dry-run --format" ;;
    "hold list") opts="--all --format" ;;
    "hold show")
      opts="--id --format"
      words_here=$(_retention_names all-holds)
      ;;
    "hold release")
      opts="--id --reason --by"
      words_here=$(_retention_names holds)
      ;;
    "audit ") words_here="verify checkpoint log export runs show" ;;
    "audit verify") opts="--format --against --verify-key --accept-anchor-schedules --bundle" ;;
    "audit checkpoint") opts="--out --sign-key --accept-anchor-schedules" ;;
    "audit log") opts="--since --until --run --category --store --target --key --subject --kind --format" ;;
    "audit export") opts="--since --until --run --category --store --target --key --subject --kind --format --out
                          --bundle --sign-key --from-seq --to-seq" ;;
    "audit runs") opts="--format --last" ;;
    "audit show")
      opts="--run --entry --format --max-kept"
      words_here=$(_retention_names runs)
      ;;
    *) return ;;
  esac
  # demo makes its own config: it takes none of the common options.
  [[ $cmd == demo ]] && common="--help -h"
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts $common" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$words_here" -- "$cur"))
  fi
}
complete -F _retention retention
