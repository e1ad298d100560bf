# Managed file: content from stdin, installed atomically when it differs.
DEST={{path}}
MODE={{mode}}
VALIDATE={{validate}}
src=$(read_stdin)
install_file "$src" "$DEST" "$MODE" "$VALIDATE" || true
