#include logs/log-mounts.sh
#include logs/logs-retire.sh
