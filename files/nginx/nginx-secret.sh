# The secure_link secret: written from stdin (a Pulumi secret) into the
# candidate configuration, mode 0600; this step logs nothing. Then the
# candidate set is activated like any other change.
DEST={{path}}
src=$(read_stdin)
install_file "$src" "$DEST" 600 || true
#include nginx/nginx-activate.sh
