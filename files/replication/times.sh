# Times of files and tombstones, compared in whole milliseconds (#include).
# msv NAME TIME: NAME = TIME (seconds with a fraction, "1700000000.123456789")
# in whole milliseconds; no subshell (no process per file on a busy host)
msv() { local s=${2%%.*} f=${2#*.}; [ "$f" = "$2" ] && f=0; f=${f}000; printf -v "$1" '%d' $((10#$s * 1000 + 10#${f:0:3})); }
# older A B: true when time A lies before time B
older() { local a b; msv a "$1"; msv b "$2"; [ "$a" -lt "$b" ]; }
when() { date -u -d "@${1%%.*}" +%FT%TZ; }
