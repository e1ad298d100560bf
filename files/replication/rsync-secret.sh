# rsync credentials from the secret on stdin: the daemon's secrets file
# (user:secret) and the client's password file, both root-only. Nothing
# secret is printed.
USER_NAME={{user}}
SECRETS={{secrets}}
PASSWORD={{password}}
src=$(read_stdin)
[ "$(wc -l < "$src")" -le 1 ] && [ -s "$src" ] || fail "pairstore:rsyncSecret must be one non-empty line"
secret=$(head -n 1 "$src")
[ ${#secret} -ge 8 ] || fail "pairstore:rsyncSecret must have at least 8 characters"
umask 077
printf '%s:%s\n' "$USER_NAME" "$secret" > "$_tmp/secrets"
printf '%s\n' "$secret" > "$_tmp/password"
install_file "$_tmp/secrets" "$SECRETS" 600 || true
install_file "$_tmp/password" "$PASSWORD" 600 || true
