# Stored files are never deleted: the image roots stay as they are.
echo "kept: {{roots}} (stored files are never deleted)"
