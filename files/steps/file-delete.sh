# The file is no longer managed: remove it (never a stored file).
rm -f {{path}}
