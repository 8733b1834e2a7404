# bash completion for cleanup-stale
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
