
release "step:$STEP"
echo deleted
