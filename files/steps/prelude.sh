# pairstore converge-step prelude: shared by every step script.
# A step checks the host, changes only what differs, and its last line says
# `changed` or `ok`. With CHECK=1 it only reports what it would change.
set -euo pipefail
export LC_ALL=C DEBIAN_FRONTEND=noninteractive
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
umask 022
CHECK={{check}}
STEP={{step}}
OWNER={{owner}}
# Node generation {{generation}}: raising it in the stack config runs every step again.
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

# Ownership: every step claims its name on the host (finish.sh) for the
# resource that runs it (OWNER). When a step is renamed or moves (a renamed
# node, another parent), the engine creates the new resource first and
# deletes the old one after it: the old delete then finds its step claimed by
# its successor and leaves the host alone (delete-guard.sh).
# Steps that run on the machine running Pulumi have no OWNER: they claim nothing.
#   claim KEY     records OWNER as KEY's owner (not in check mode)
#   owned KEY     true when KEY belongs to OWNER, or to nobody (managed before claims existed)
#   owner_of KEY  the owner of KEY
#   release KEY   forgets KEY's owner
_owner_file() { printf '%s/owners/%s' "$STATE_DIR" "${1//[^A-Za-z0-9._-]/_}"; }
owner_of() { local f who=; f=$(_owner_file "$1"); [ ! -f "$f" ] || read -r who _ < "$f"; printf '%s' "$who"; }
owned() { local who; [ -n "$OWNER" ] || return 0; who=$(owner_of "$1"); [ -z "$who" ] || [ "$who" = "$OWNER" ]; }
claim() {
    [ "$CHECK" = 1 ] || [ -z "$OWNER" ] && return 0
    local f; f=$(_owner_file "$1")
    [ "$(owner_of "$1")" = "$OWNER" ] && return 0
    mkdir -p "$STATE_DIR/owners" && printf '%s %s\n' "$OWNER" "$1" > "$f.tmp" && mv -f "$f.tmp" "$f"
}
release() { owned "$1" && rm -f "$(_owner_file "$1")"; return 0; }
