
claim "step:$STEP"
if [ "$changed" = 1 ]; then echo changed; else echo ok; fi
