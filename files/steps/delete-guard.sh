# This step is gone from the stack. If a renamed or moved step took it over
# (the engine created that one first), what it manages is no longer ours.
if ! owned "step:$STEP"; then
    echo "kept: $STEP is now managed by $(owner_of "step:$STEP")"
    exit 0
fi
