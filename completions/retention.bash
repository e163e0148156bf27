# bash completion for retention(8)

_retention() {
  local cur prev words cword
  _init_completion || return

  local globals="--config -c --log-level --quiet -q --help -h --version"
  local commands="check plan purge explain status report hold audit demo"

  case $prev in
    --config | -c | --out | --plan | --metrics-file | --against | --verify-key | --sign-key)
      _filedir
      return
      ;;
    --rules | --dir)
      _filedir -d
      return
      ;;
    --log-level)
      COMPREPLY=($(compgen -W "trace debug info warn error off" -- "$cur"))
      return
      ;;
    --format)
      COMPREPLY=($(compgen -W "table json csv jsonl md html" -- "$cur"))
      return
      ;;
    --kind)
      COMPREPLY=($(compgen -W "run_start run_end delete hold_placed hold_released reconciled kept" -- "$cur"))
      return
      ;;
    --category | --as-of | --batch-size | --max-runtime | --matter | --reason | --by | --target | --subject | \
      --key | --from | --until | --expires | --since | --run | --store | --last | --max-age | --max-kept | \
      --rows | --seed | --id | --record | --period | --grace)
      return
      ;;
  esac

  # The command word (and a subcommand), skipping global options.
  local i cmd="" sub=""
  for ((i = 1; i < cword; i++)); do
    case ${words[i]} in
      --config | -c | --log-level) ((i++)) ;;
      -*) ;;
      *)
        if [[ -z $cmd ]]; then
          cmd=${words[i]}
        elif [[ -z $sub ]]; then
          sub=${words[i]}
        fi
        ;;
    esac
  done

  local common="--config --log-level --quiet --help"
  local opts=""
  case $cmd in
    "")
      COMPREPLY=($(compgen -W "$commands $globals" -- "$cur"))
      return
      ;;
    check) opts="--format" ;;
    plan) opts="--as-of --category --format --out" ;;
    purge) opts="--category --as-of --batch-size --max-runtime --plan --allow-mass-delete --allow-clock-jump --allow-clock-behind --format --metrics-file" ;;
    explain) opts="--record --format" ;;
    status) opts="--format --max-age --last --check" ;;
    report) opts="--as-of --format --out --period --max-age --grace --against --verify-key" ;;
    demo)
      opts="--dir --rows --seed --rules --force --help"
      if [[ $cur != -* ]]; then
        _filedir -d
        return
      fi
      ;;
    hold)
      case $sub in
        "") COMPREPLY=($(compgen -W "add list show release" -- "$cur")); return ;;
        add) opts="--matter --reason --by --category --target --subject --key --from --until --expires --freeze-all --dry-run --format" ;;
        list) opts="--all --format" ;;
        show) opts="--id --format" ;;
        release) opts="--id --reason --by" ;;
      esac
      ;;
    audit)
      local filters="--since --until --run --category --store --target --key --subject --kind"
      case $sub in
        "") COMPREPLY=($(compgen -W "verify checkpoint log export runs show" -- "$cur")); return ;;
        verify) opts="--against --verify-key --format" ;;
        checkpoint) opts="--out --sign-key" ;;
        log) opts="$filters --format" ;;
        export) opts="$filters --format --out" ;;
        runs) opts="--last --format" ;;
        show) opts="--run --format --max-kept" ;;
      esac
      ;;
  esac
  [[ $cmd != demo ]] && opts="$opts $common"
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _retention retention
