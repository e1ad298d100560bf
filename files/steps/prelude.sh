# pairstore converge-step prelude: shared by every step script.
# A step checks the host, changes only what differs, and its last line says
# `changed` or `ok`. With CHECK=1 it only reports what it would change.
set -euo pipefail
export LC_ALL=C DEBIAN_FRONTEND=noninteractive
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
umask 022
CHECK=0
STEP={{step}}
STATE_DIR=/var/lib/pairstore
changed=0
_tmp=$(mktemp -d /tmp/pairstore-step.XXXXXX)
trap 'rm -rf "$_tmp"' EXIT

# change MESSAGE: records a change and prints it; returns 1 in check mode so
# that `if change ...; then act; fi` acts only for real.
change() {
    changed=1
    if [ "$CHECK" = 1 ]; then echo "would: $*"; return 1; fi
    echo "changed: $*"
}
fail() { echo "pairstore: $STEP: $*" >&2; exit 1; }
warn() { echo "warning: $*"; }

# read_stdin: saves the step's stdin (the file content it manages) and prints its path.
read_stdin() { cat > "$_tmp/stdin"; echo "$_tmp/stdin"; }

# install_file SRC DEST MODE [VALIDATE]: installs SRC at DEST atomically when it
# differs. VALIDATE is a command run on the candidate (its path replaces {})
# before it replaces DEST; on failure DEST stays as it was and the step fails.
# Returns 0 when DEST differed (changed, or would change), 1 when it was current.
install_file() {
    local src=$1 dest=$2 mode=$3 validate=${4:-} tmp out
    if [ -f "$dest" ] && cmp -s "$src" "$dest" && [ "$(stat -c %a "$dest")" = "${mode#0}" ]; then
        return 1
    fi
    change "write $dest" || return 0
    # callers run `install_file ... || true`, which disables set -e in here: check each action
    mkdir -p "$(dirname "$dest")" || fail "$dest: cannot create its directory"
    tmp=$(mktemp "$(dirname "$dest")/.$(basename "$dest").pairstore.XXXXXX") || fail "$dest: cannot create a temporary file next to it"
    { cat "$src" > "$tmp" && chmod "$mode" "$tmp"; } || { rm -f "$tmp"; fail "$dest: cannot write the new version"; }
    if [ -n "$validate" ]; then
        if ! out=$(${validate//\{\}/$tmp} 2>&1); then
            rm -f "$tmp"
            fail "$dest: the new version failed validation ($validate), the old one stays in place: $out"
        fi
    fi
    mv -f "$tmp" "$dest" || { rm -f "$tmp"; fail "$dest: cannot move the new version into place"; }
}

# handler_due NAME HASH: true when handler NAME last ran for another HASH.
handler_due() { [ "$(cat "$STATE_DIR/handlers/$1" 2>/dev/null || true)" != "$2" ]; }
handler_done() { mkdir -p "$STATE_DIR/handlers"; echo "$2" > "$STATE_DIR/handlers/$1"; }

