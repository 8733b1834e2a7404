package app

import (
	"fmt"
	"strings"
)

// Completion returns the completion script for shell: bash, zsh or fish.
//
// Bash and zsh ask the command itself what may come next (`cleanup-stale
// stats --generate-bash-completion` lists the subcommand's flags), as
// urfave/cli's own scripts do, so they follow the installed binary. These
// are those scripts with the program's name written in, and without their
// dependence on the bash-completion package or eval. Fish gets urfave/cli's
// static script.
func Completion(shell string) (string, error) {
	switch shell {
	case "bash":
		return bashCompletion, nil
	case "zsh":
		return zshCompletion, nil
	case "fish":
		s, err := newApp(nil, nil).ToFishCompletion()
		// The usages mark their placeholder with backquotes for --help.
		return strings.ReplaceAll(s, "`", ""), err
	}
	return "", fmt.Errorf("no completion for shell %q (bash, zsh, fish)", shell)
}

// bashCompletion splits the line up to the cursor on blanks only (not on
// COMP_WORDBREAKS' "=" and ":"), asks the command, and falls back to file
// names when it suggests nothing (a flag's value). It runs in bash 3.2.
const bashCompletion = `# bash completion for cleanup-stale
_cleanup_stale() {
	local line=${COMP_LINE:0:COMP_POINT} cur= opts
	local -a words
	read -r -a words <<<"$line"
	if [[ $line != *[[:space:]] && ${#words[@]} -gt 1 ]]; then
		cur=${words[${#words[@]}-1]}
		unset "words[${#words[@]}-1]"
	fi
	local w
	for w in "${words[@]}"; do
		[[ $w == -- ]] && return 0 # only arguments follow, and the command takes none
	done
	if [[ $cur == -* ]]; then
		# A lone "--" would end the options; "-" asks for every flag.
		[[ $cur == -- ]] && w=- || w=$cur
		opts=$("${words[@]}" "$w" --generate-bash-completion 2>/dev/null)
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	else
		# After a flag the command suggests flags like it, not a command:
		# drop them (-X), and a flag's value gets file names.
		opts=$("${words[@]}" --generate-bash-completion 2>/dev/null)
		COMPREPLY=($(compgen -W "$opts" -X '-*' -- "$cur"))
	fi
}
complete -o bashdefault -o default -F _cleanup_stale cleanup-stale
`

// zshCompletion is an autoloaded completion function (the file is
// _cleanup-stale in $fpath).
const zshCompletion = `#compdef cleanup-stale
# zsh completion for cleanup-stale
local cur=${words[CURRENT]}
local -a before opts
before=("${(@Q)words[1,CURRENT-1]}")
if (( ${before[(I)--]} )); then
	_files # only arguments follow "--", and the command takes none
	return
fi
if [[ $cur == -- ]]; then
	# A lone "--" would end the options; "-" asks for every flag.
	opts=("${(@f)$("${before[@]}" - --generate-bash-completion 2>/dev/null)}")
elif [[ $cur == -* ]]; then
	opts=("${(@f)$("${before[@]}" "$cur" --generate-bash-completion 2>/dev/null)}")
else
	# After a flag the command suggests flags like it, not a command:
	# drop them, and a flag's value gets file names.
	opts=("${(@f)$("${before[@]}" --generate-bash-completion 2>/dev/null)}")
	opts=("${(@)opts:#-*}")
fi
if [[ -n ${opts[1]} ]]; then
	_describe 'values' opts
else
	_files
fi
`
